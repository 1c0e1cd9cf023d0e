"""Demo data: a county, one town with its offices and villages, people, every
procedure in ``processes/`` and a few running instances. Loading twice adds
nothing the second time."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from engine.api import Engine
from engine.errors import ConflictError

PROCESSES = Path(os.environ.get("DUBAN_PROCESSES_DIR",
                                Path(__file__).resolve().parent.parent / "processes"))

ORGS = [
    ("qs-county", "青山县委组织部", "county", None),
    ("qs-town", "青山镇党委", "town", "qs-county"),
    ("qs-town-dcs", "青山镇督查室", "office", "qs-town"),
    ("qs-town-djz", "青山镇党建工作站", "office", "qs-town"),
    ("qs-east", "东村党支部", "branch", "qs-town"),
    ("qs-west", "西村党支部", "branch", "qs-town"),
    ("qs-south", "南村党支部", "branch", "qs-town"),
]
PEOPLE = [
    ("admin", "系统管理员", [("admin", "qs-county")]),
    ("liu.zz", "刘组长", [("leader", "qs-county")]),
    ("chen.sj", "陈书记", [("secretary", "qs-town"), ("leader", "qs-town")]),
    ("zhou.wy", "周委员", [("organisation_member", "qs-town")]),
    ("wu.dc", "吴督查", [("inspector", "qs-town-dcs")]),
    ("zheng.sj", "郑书记", [("secretary", "qs-east")]),
    ("feng.gb", "冯干部", [("cadre", "qs-east")]),
    ("he.sj", "何书记", [("secretary", "qs-west")]),
    ("lv.sj", "吕书记", [("secretary", "qs-south")]),
]


def load_demo(eng: Engine, *, with_instances: bool = True) -> Iterator[str]:
    eng.migrate()
    yield "database ready"
    for code, name, kind, parent in ORGS:
        try:
            eng.add_organisation(code, name, kind, parent=parent)
        except ConflictError:
            continue
    for username, name, roles in PEOPLE:
        try:
            eng.add_person(username, name)
        except ConflictError:
            pass
        for role, org in roles:
            eng.grant_role(username, role, org)
    yield f"{len(ORGS)} organisations and {len(PEOPLE)} people ready"
    created = []
    for path in sorted(PROCESSES.glob("*.bpmn")):
        version = eng.deploy_file(path, by="admin")
        created.extend(v for v in version.all_in_file if v.created)
        yield f"{path.name}: {version.process_key} v{version.version}"
    if with_instances and created:
        for key, data, org in _sample_instances():
            if any(v.process_key == key for v in created):
                iid = eng.start(key, data, by="zheng.sj", org=org)
                yield f"started {key} instance {iid}"


def _sample_instances() -> list[tuple[str, dict[str, object], str]]:
    return [
        ("problem_rectification", {"title": "村务公开栏内容未及时更新", "source": "上级点",
                                   "category": "村务公开", "description": "三季度财务收支未公开"},
         "qs-east"),
        ("problem_rectification", {"title": "党员活动室设施老化", "source": "群众提",
                                   "category": "阵地建设", "description": "桌椅损坏，照明不足"},
         "qs-east"),
    ]


__all__ = ["load_demo"]
