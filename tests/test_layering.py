"""The layering rules of engine/README.md, checked by scanning imports."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_engine_never_imports_flask_or_web():
    for path in modules("engine"):
        bad = {n for n in imports_of(path) if n.split(".")[0] in ("flask", "web", "werkzeug")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_only_engine_bpmn_imports_spiffworkflow():
    for path in modules("engine"):
        if (ROOT / "engine" / "bpmn") in path.parents:
            continue
        bad = {n for n in imports_of(path) if n.split(".")[0] == "SpiffWorkflow"}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_queries_never_load_workflows():
    for path in modules("engine/queries"):
        bad = {n for n in imports_of(path)
               if n.startswith("engine.bpmn") or n in ("engine.runtime",)}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_only_run_command_commits():
    """A savepoint may be released (``savepoint.commit()``); a transaction may not."""
    for path in modules("engine"):
        if path.name == "command.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "commit":
                receiver = node.func.value
                assert isinstance(receiver, ast.Name) and receiver.id == "savepoint", \
                    f"{path.relative_to(ROOT)}:{node.lineno} commits"
