"""The supervisor's dashboard: lights by unit and procedure, the overdue list, drill-down.

Three problems (processes/p2_problem_rectification.bpmn) in the small tree of
tests/fixtures/org.py, registered Tue 2026-09-01:

- A (v1): decomposed, li rectifies by Thu Sep 10, lead leader sun;
- B (v2): decomposed, wang rectifies by Thu Sep 3, lead leader sun;
- C (v1): never decomposed: the town's 组织委员 zhao had 3 working days (to Fri Sep 4).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from engine import NotFound, PermissionDenied, ValidationError
from engine.views import LightCounts
from tests.fixtures.time import advance_to, bj, end_of

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
KEY = "problem_rectification"


def register(eng, title: str, org: str, by: str) -> int:
    return eng.start(KEY, {"title": title, "source": "上级点", "category": "村务公开",
                           "description": title}, by=by, org=org)


def decompose(eng, iid: int, unit: str, person: str, due: str) -> None:
    [task] = [t for t in eng.open_tasks(instance_id=iid) if t.element_id == "assign"]
    eng.complete(task.id, {"responsible_unit": unit, "responsible_person": person,
                           "lead_leader": "sun", "measures": "限期整改", "due_date": due},
                 by="zhao")


@pytest.fixture
def world(org, clock):
    org.add_person("zhou", "周领导")
    org.grant_role("zhou", "leader", "c1")
    clock.set(bj("2026-09-01T09:00"))
    org.deploy_file(PROCESSES / "p2_problem_rectification.bpmn", by="admin")
    ids = {"A": register(org, "公开栏未更新", "v1", "zhang"),
           "B": register(org, "活动室破损", "v2", "wang"),
           "C": register(org, "台账不全", "v1", "zhang")}
    clock.set(bj("2026-09-01T10:00"))
    decompose(org, ids["A"], "v1", "li", "2026-09-10")
    decompose(org, ids["B"], "v2", "wang", "2026-09-03")
    # when: a week passes, with every reminder, light and 督办 on the way
    advance_to(org, clock, bj("2026-09-08T09:00"))
    org.ids = ids
    return org


def test_lights_by_unit_and_procedure(world):
    # when: the town's secretary opens the dashboard
    board = world.dashboard("sun")
    # then: the town (with its offices), then each branch
    assert (board.org_code, board.org_name) == ("t1", "一镇党委")
    rows = {u.code: (u.tasks, u.items) for u in board.units}
    assert [u.code for u in board.units] == ["t1", "v1", "v2"]
    # C's 责任分解 lies with the town's 组织委员; A is near due, B overdue
    assert rows["t1"] == (LightCounts(red=1), LightCounts())
    assert rows["v1"] == (LightCounts(yellow=1), LightCounts(yellow=1, red=1))
    assert rows["v2"] == (LightCounts(red=1), LightCounts(red=1))
    [proc] = board.procedures
    assert (proc.process_key, proc.process_name) == (KEY, "问题整改销号")
    assert proc.tasks == board.tasks == LightCounts(yellow=1, red=2)
    assert proc.items == board.items == LightCounts(yellow=1, red=2)
    assert board.tasks.total == 3 and board.overdue_tasks == 2


def test_the_overdue_list_says_who_is_late_and_by_how_much(world):
    page = world.overdue_tasks("sun")
    assert page.total == 2 and (page.limit, page.offset) == (100, 0)
    late_b, late_c = page.rows
    # B: due Thu Sep 3; Fri 4, Mon 7 and Tue 8 are working days (5 calendar days)
    assert (late_b.item_title, late_b.task_name, late_b.instance_id) == (
        "活动室破损", "整改并报告进展", world.ids["B"])
    assert late_b.item_number == world.get_item(instance_id=world.ids["B"]).number
    assert (late_b.org_code, late_b.org_name, late_b.unit_code) == ("v2", "二村党支部", "v2")
    assert (late_b.assignee, late_b.holder_names) == ("wang", ("王书记",))
    assert (late_b.lead_leader, late_b.lead_leader_name) == ("sun", "孙书记")
    assert late_b.due_at == end_of("2026-09-03")
    assert (late_b.overdue_working_days, late_b.overdue_calendar_days) == (3, 5)
    # level 1 at the due time, level 2 two working days later (end of Mon Sep 7)
    assert (late_b.light, late_b.escalation_level) == ("red", 2)
    # C: the town's 组织委员 has not decomposed it since Fri Sep 4
    assert (late_c.org_code, late_c.unit_code, late_c.candidates, late_c.holder_names) == (
        "t1", "t1", ("zhao",), ("赵委员",))
    assert (late_c.overdue_working_days, late_c.overdue_calendar_days) == (2, 4)
    assert late_c.lead_leader is None and late_c.escalation_level == 1
    # and: one click urges the holder (催办)
    assert world.urge(late_b.task_id, by="sun", message="请尽快整改") == 1


def test_drill_down_by_unit_procedure_and_light(world):
    assert [r.task_name for r in world.supervised_tasks("sun", unit="v1").rows] == [
        "整改并报告进展"]
    assert world.supervised_tasks("sun", unit="v1").rows[0].light == "yellow"
    assert {r.instance_id for r in world.supervised_tasks("sun", light="red").rows} == {
        world.ids["B"], world.ids["C"]}
    assert world.supervised_tasks("sun", light="green").total == 0
    assert world.supervised_tasks("sun", light="none").total == 0
    assert world.supervised_tasks("sun", process_key=KEY).total == 3
    assert world.supervised_tasks("sun", process_key="other").total == 0
    assert world.overdue_tasks("sun", unit="v2").total == 1
    # paging: the total stays, the rows move on
    second = world.supervised_tasks("sun", limit=2, offset=2)
    assert (second.total, len(second.rows)) == (3, 1)
    with pytest.raises(ValidationError):
        world.supervised_tasks("sun", light="purple")
    with pytest.raises(ValidationError):
        world.supervised_tasks("sun", limit=501)
    with pytest.raises(NotFound):
        world.supervised_tasks("sun", unit="t1-dc")  # an office is no unit: it counts for t1


def test_a_village_secretary_sees_only_the_village(world):
    board = world.dashboard("zhang")
    assert board.org_code == "v1" and [u.code for u in board.units] == ["v1"]
    # the town-level step of a v1 problem is the town's: not on the village's board
    assert board.tasks == LightCounts(yellow=1)
    assert board.items == LightCounts(yellow=1, red=1)
    assert world.overdue_tasks("zhang").total == 0
    for other in ("t1", "v2"):
        with pytest.raises(PermissionDenied):
            world.dashboard("zhang", org=other)
        with pytest.raises(PermissionDenied):
            world.overdue_tasks("zhang", org=other)


def test_who_sees_what(world):
    # an inspector of the town's 督查室 sees the town; a county leader picks any town
    assert world.dashboard("qian").org_code == "t1"
    assert world.dashboard("zhou").org_code == "c1"
    county = world.dashboard("zhou")
    assert [u.code for u in county.units] == ["c1", "t1"]
    assert county.units[1].tasks == LightCounts(yellow=1, red=2)
    assert world.dashboard("zhou", org="v2").tasks == LightCounts(red=1)
    with pytest.raises(NotFound):
        world.dashboard("sun", org="nowhere")
    with pytest.raises(PermissionDenied):
        world.dashboard("nobody")
