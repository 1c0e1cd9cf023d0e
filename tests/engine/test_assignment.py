"""Assignment rules resolve to role holders; nobody found falls back, never unowned."""
from __future__ import annotations

import pytest

from tests.engine.test_repository import diagram


def task_with(rule: str, form: str = "") -> str:
    return diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" '
                   f'targetRef="t"/><bpmn:userTask id="t"><bpmn:extensionElements>{rule}{form}'
                   '</bpmn:extensionElements></bpmn:userTask><bpmn:sequenceFlow id="f2" '
                   'sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>')


@pytest.mark.parametrize("rule, data, expected", [
    ('<duban:assignment role="书记"/>', {}, (None, ("zhang",))),
    ('<duban:assignment role="secretary" org="town"/>', {}, (None, ("sun",))),
    ('<duban:assignment role="组织委员" org="parent"/>', {}, (None, ("zhao",))),
    ('<duban:assignment role="管理员" org="county"/>', {}, (None, ("admin",))),
    ('<duban:assignment role="书记" org="data:unit"/>', {"unit": "v2"}, (None, ("wang",))),
    ('<duban:assignment person="starter"/>', {}, ("li", ())),
    ('<duban:assignment person="data:who"/>', {"who": "wang"}, ("wang", ())),
    # nobody holds 督查员 in v1: the branch's secretary gets it
    ('<duban:assignment role="督查员"/>', {}, (None, ("zhang",))),
    # no 组织委员 in v1 and the fallback role is 组织委员: found further up, in the town
    ('<duban:assignment role="督查员" fallbackRole="组织委员"/>', {}, (None, ("zhao",))),
    # an unknown person in the data falls back too
    ('<duban:assignment person="data:who"/>', {"who": "ghost"}, (None, ("zhang",))),
    ('', {}, ("li", ())),
])
def test_rules(org, rule, data, expected):
    org.deploy(task_with(rule), by="admin")
    iid = org.start("p", data, by="li", org="v1")
    task = org.open_tasks(instance_id=iid)[0]
    assert (task.assignee, task.candidates) == expected


def test_fallback_person_when_the_whole_tree_is_empty(eng):
    eng.add_organisation("lonely", "孤村", "branch")
    eng.add_person("admin", "管理员")
    eng.add_person("solo", "独")
    eng.grant_role("solo", "党员", "lonely")
    eng.deploy(task_with('<duban:assignment role="督查员"/>'), by="solo")
    iid = eng.start("p", by="solo", org="lonely")
    assert eng.open_tasks(instance_id=iid)[0].assignee == "admin"


def test_an_office_of_the_town(org):
    org.deploy(task_with('<duban:assignment role="督查员" org="office:督查室"/>'), by="admin")
    iid = org.start("p", by="zhang", org="v1")
    assert org.open_tasks(instance_id=iid)[0].candidates == ("qian",)
    # and the office's staff may start items for the villages of their town
    org.start("p", by="qian", org="v2")
