"""A town with its offices and villages, for walking the shipped procedures.

    c1 县委组织部 (county)             liu 领导, admin 管理员
     └─ t1 青山镇党委 (town)           sun 书记+领导, zhao 组织委员, ji 纪委书记
         ├─ t1-dc 督查室 (office)      qian 督查员
         ├─ t1-dj 党建工作站 (office)  dang 组织委员
         ├─ v1 东村党支部 (branch)     zhang 书记, li 村干部, m1 m2 m3 党员
         ├─ v2 西村党支部 (branch)     wang 书记, chen 村干部, m4 党员
         └─ v3 南村党支部 (branch)     zhou 书记
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from engine import Engine
from engine.views import VersionView

PROCESSES = Path(__file__).resolve().parent.parent.parent / "processes"

ORGS = [("c1", "县委组织部", "county", None), ("t1", "青山镇党委", "town", "c1"),
        ("t1-dc", "青山镇督查室", "office", "t1"), ("t1-dj", "青山镇党建工作站", "office", "t1"),
        ("v1", "东村党支部", "branch", "t1"), ("v2", "西村党支部", "branch", "t1"),
        ("v3", "南村党支部", "branch", "t1")]
PEOPLE = [("admin", "管理员", [("admin", "c1")]), ("liu", "刘部长", [("leader", "c1")]),
          ("sun", "孙书记", [("secretary", "t1"), ("leader", "t1")]),
          ("zhao", "赵委员", [("organisation_member", "t1")]),
          ("ji", "纪书记", [("discipline_secretary", "t1")]),
          ("qian", "钱督查", [("inspector", "t1-dc")]),
          ("dang", "党站长", [("organisation_member", "t1-dj")]),
          ("zhang", "张书记", [("secretary", "v1")]), ("li", "李干部", [("cadre", "v1")]),
          ("m1", "党员甲", [("party_member", "v1")]), ("m2", "党员乙", [("party_member", "v1")]),
          ("m3", "党员丙", [("party_member", "v1")]),
          ("wang", "王书记", [("secretary", "v2")]), ("chen", "陈干部", [("cadre", "v2")]),
          ("m4", "党员丁", [("party_member", "v2")]),
          ("zhou", "周书记", [("secretary", "v3")])]


@pytest.fixture
def town(eng: Engine) -> Engine:
    for code, name, kind, parent in ORGS:
        eng.add_organisation(code, name, kind, parent=parent)
    for username, name, roles in PEOPLE:
        eng.add_person(username, name)
        for role, org in roles:
            eng.grant_role(username, role, org)
    return eng


@pytest.fixture
def procedure(town: Engine) -> Callable[[str], VersionView]:
    """Deploy ``processes/<file>.bpmn``, as `duban deploy processes/` would."""

    def _deploy(filename: str) -> VersionView:
        return town.deploy_file(PROCESSES / f"{filename}.bpmn", by="admin")

    return _deploy
