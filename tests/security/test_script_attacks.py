"""Every attack in ``attacks.py`` is refused, or fails fast with ScriptError."""
from __future__ import annotations

import importlib.util
import resource
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from engine.errors import ScriptError
from engine.scripting import (check_expression, check_script, compile_expression,
                              compile_script)

_spec = importlib.util.spec_from_file_location("duban_script_attacks",
                                               Path(__file__).with_name("attacks.py"))
assert _spec is not None and _spec.loader is not None
attacks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(attacks)

#: generous: the limits are 2 s, a refused attack takes milliseconds
MAX_SECONDS = 5.0


def _data() -> dict[str, Any]:
    return {"x": 1, "items": [1, 2, 3], "d": {"a": 1}, "name": "张三"}


def _attempt(source: str, mode: str) -> ScriptError:
    data = _data()
    with pytest.raises(ScriptError) as info:
        if mode == "expr":
            compile_expression(source).evaluate(data)
        else:
            compile_script(source).execute(data)
    assert data == _data()      # nothing of a failed attack reaches the task data
    return info.value


def test_attack_list_is_well_formed() -> None:
    ids = [entry[0] for entry in attacks.ATTACKS]
    assert len(ids) == len(set(ids))
    assert attacks.STATIC <= set(ids)
    assert {mode for _, _, mode in attacks.ATTACKS} == {"expr", "script"}


@pytest.mark.parametrize("source, mode", [(s, m) for _, s, m in attacks.ATTACKS],
                         ids=[i for i, _, _ in attacks.ATTACKS])
def test_attack_is_refused_or_fails_fast(source: str, mode: str) -> None:
    start = time.monotonic()
    err = _attempt(source, mode)
    assert time.monotonic() - start < MAX_SECONDS
    assert err.reason and isinstance(err.reason, str)
    # the process is still healthy: an ordinary condition still works
    assert compile_expression("len(items) > 2 and x == 1").evaluate(_data()) is True


@pytest.mark.parametrize("source, mode", [(s, m) for i, s, m in attacks.ATTACKS
                                          if i in attacks.STATIC],
                         ids=[i for i, _, _ in attacks.ATTACKS if i in attacks.STATIC])
def test_attack_is_refused_at_deploy_time(source: str, mode: str) -> None:
    check = check_expression if mode == "expr" else check_script
    with pytest.raises(ScriptError) as info:
        check(source)
    assert info.value.reason


@pytest.mark.parametrize("source, reason", [
    ("__import__('os')", "name '__import__' is not allowed"),
    ("'{0.__class__}'.format(1)", "attribute 'format' is not allowed"),
    ("().__class__", "attribute '__class__' is not allowed"),
    ("eval('1')", "name 'eval' is not allowed"),
    ("print(1)", "calling 'print' is not allowed"),
])
def test_refusal_reasons_are_clear(source: str, reason: str) -> None:
    with pytest.raises(ScriptError) as info:
        check_expression(source)
    assert info.value.reason == reason
    assert info.value.line == 1


def test_refusal_names_the_line() -> None:
    with pytest.raises(ScriptError) as info:
        check_script("x = 1\ny = 2\nimport os\n")
    assert info.value.line == 3
    assert info.value.reason == "import is not allowed"


def test_endless_loop_reports_step_limit_with_line() -> None:
    err = _attempt("x = 0\nwhile True:\n    x = 1\n", "script")
    assert err.reason == "step limit of 1000000 exceeded (endless loop?)"
    assert err.line in (2, 3)


def test_time_limit_stops_expensive_steps() -> None:
    from engine.scripting import Limits
    limits = Limits(max_seconds=0.3, max_steps=10**9)
    start = time.monotonic()
    with pytest.raises(ScriptError) as info:
        compile_script("s = 'ab' * 40000\nwhile True:\n    n = s.count('ba')\n",
                       limits).execute({})
    assert time.monotonic() - start < 2.0
    assert "time limit" in info.value.reason


def test_builtins_never_reach_task_data() -> None:
    data: dict[str, Any] = {}
    with pytest.raises(ScriptError) as info:
        compile_script("f = len\n").execute(data)
    assert "len" in info.value.reason
    assert "f" not in data


@pytest.mark.slow
def test_process_stays_healthy_after_all_attacks() -> None:
    for _, source, mode in attacks.ATTACKS:
        _attempt(source, mode)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_bytes = rss if sys.platform == "darwin" else rss * 1024
    assert rss_bytes < 1.5 * 2**30
    assert sys.getrecursionlimit() >= 1000
    data = {"a": 2}
    compile_script("b = a * 21").execute(data)
    assert data == {"a": 2, "b": 42}
