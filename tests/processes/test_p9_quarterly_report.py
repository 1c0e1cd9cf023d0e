"""党组织书记季度报告与督导 (processes/p9_quarterly_report.bpmn): every path.

Every quarter (Jan, Apr, Jul, Oct 5th, 09:00) the timer start event starts one instance
per town, concerning that town; the town can also start one by hand. Each branch
secretary (v1 zhang, v2 wang, v3 zhou) reports, the town's 组织委员 zhao reviews each
report and issues a suggestions list, the secretary signs for it with measures.
"""
from __future__ import annotations

from datetime import timezone

import pytest

from engine import ValidationError
from tests.fixtures.time import BJ, advance_to, bj, end_of
from tests.fixtures.walk import completed, tasks_of

KEY = "quarterly_report"
SECRETARY = {"v1": "zhang", "v2": "wang", "v3": "zhou"}


def utc(text: str):
    return bj(text).astimezone(timezone.utc)


def the_task(eng, iid: int, element: str, holder: str | None = None):
    found = [t for t in tasks_of(eng, iid, element)
             if holder is None or holder == t.assignee or holder in t.candidates]
    assert len(found) == 1, (element, holder)
    return found[0]


def complete(eng, iid: int, task_id: str, data: dict, by: str) -> list:
    """Complete a task; return the tasks this command opened."""
    before = {t.id for t in eng.open_tasks(instance_id=iid)}
    eng.complete(task_id, data, by=by)
    return [t for t in eng.open_tasks(instance_id=iid) if t.id not in before]


def notices(eng, who: str) -> list[tuple[str, int | None, str]]:
    return [(n.kind, n.level, n.created_at.astimezone(BJ).strftime("%m-%d %H:%M"))
            for n in reversed(eng.notifications(who))]


def report(branch: str) -> dict:
    return {"quarter": "2025年第四季度", "work_done": f"{branch} 落实三会一课",
            "problems": "党员活动室设施陈旧", "next_plan": "完成活动室改造"}


def supervision(evaluation: str) -> dict:
    return {"evaluation": evaluation, "suggestions": "1. 规范党费收缴；2. 落实主题党日",
            "supervised_on": "2026-01-16"}


ACK = {"measures": "本月内整改到位", "measures_due": "2026-02-27"}
ONE_BRANCH = ["supervise", "acknowledge", "record", "report_end", "report_each"]


@pytest.fixture
def p9q(procedure, town, clock):
    # deployed on New Year's Day 2026, before the first quarter's start
    clock.set(bj("2026-01-01T10:00"))
    procedure("p9_quarterly_report")
    return town


def test_the_file_deploys_and_schedules_the_quarterly_start(procedure, town, clock):
    clock.set(bj("2026-01-01T10:00"))
    version = procedure("p9_quarterly_report")
    assert (version.process_key, version.name) == (KEY, "党组织书记季度报告与督导")
    assert [(j.kind, j.due_at) for j in town.list_jobs()] == [
        ("start_timer", utc("2026-01-05T09:00"))]
    assert procedure("p9_quarterly_report").created is False


def test_each_quarter_every_branch_reports_and_gets_a_suggestions_list(p9q, clock):
    eng = p9q
    # when: Mon 2026-01-05 09:00 the quarter's timer fires
    advance_to(eng, clock, bj("2026-01-05T09:00"))

    # then: the system started one instance for the town t1 ...
    inst = eng.get_instance(1)
    assert (inst.started_by, inst.state, inst.data["branches"]) == (
        "system", "running", ["v1", "v2", "v3"])
    iid = inst.id
    # ... every branch secretary reports within 10 working days: Jan 6–9, 12–16, 19
    reports = tasks_of(eng, iid, "report")
    assert sorted((t.candidates, t.due_at) for t in reports) == [
        (("wang",), end_of("2026-01-19")), (("zhang",), end_of("2026-01-19")),
        (("zhou",), end_of("2026-01-19"))]
    # ... and the next quarter is scheduled
    assert [j.due_at for j in eng.list_jobs() if j.kind == "start_timer"] == [
        utc("2026-04-05T09:00")]

    # when: Fri Jan 9 the secretaries report
    clock.set(bj("2026-01-09T10:00"))
    review = {}
    for branch, who in SECRETARY.items():
        [review[branch]] = complete(eng, iid, the_task(eng, iid, "report", who).id,
                                    report(branch), by=who)
    # then: the town's 组织委员 reviews each within 10 working days: Jan 12–16, 19–23
    assert {(t.element_id, t.candidates, t.due_at) for t in review.values()} == {
        ("supervise", ("zhao",), end_of("2026-01-23"))}

    # when: Fri Jan 16 the town issues each branch its suggestions list
    clock.set(bj("2026-01-16T15:00"))
    acks = {}
    for branch, evaluation in {"v1": "好", "v2": "一般", "v3": "较好"}.items():
        [acks[branch]] = complete(eng, iid, review[branch].id, supervision(evaluation),
                                  by="zhao")
    # then: each secretary signs for it within 5 working days: Jan 19–23
    assert {branch: (t.element_id, t.candidates, t.due_at) for branch, t in acks.items()} == {
        branch: ("acknowledge", (who,), end_of("2026-01-23")) for branch, who in SECRETARY.items()}

    # when: the secretaries sign with their measures
    for branch, who in SECRETARY.items():
        eng.complete(acks[branch].id, ACK, by=who)

    # then: the quarter's ledger has one record per branch; the instance is done
    inst = eng.get_instance(iid)
    assert inst.state == "completed"
    assert sorted((r["branch"], r["quarter"], r["evaluation"]) for r in inst.data["reports"]) == [
        ("v1", "2025年第四季度", "好"), ("v2", "2025年第四季度", "一般"),
        ("v3", "2025年第四季度", "较好")]
    assert completed(eng, iid) == [
        "start", "list_branches", "any_branches", "report_start", "report_start",
        "report_start", "report", "report", "report", "supervise", "supervise", "supervise",
        "acknowledge", "record", "report_end", "report_each",
        "acknowledge", "record", "report_end", "report_each",
        "acknowledge", "record", "report_end", "report_each", "report_each", "done"]
    assert eng.verify_audit().ok


def test_the_town_can_start_a_quarter_by_hand(p9q, clock):
    eng = p9q
    # given: Tue 2026-04-07, the town's 组织委员 starts the quarter himself
    clock.set(bj("2026-04-07T09:00"))
    iid = eng.start(KEY, by="zhao", org="t1")
    # then: the same fan-out: Apr 8–10, 13–17, 20, 21
    assert sorted(t.candidates for t in tasks_of(eng, iid, "report")) == [
        ("wang",), ("zhang",), ("zhou",)]
    assert {t.due_at for t in tasks_of(eng, iid, "report")} == {end_of("2026-04-21")}
    # when: one branch is walked through while the others wait
    [review] = complete(eng, iid, the_task(eng, iid, "report", "zhou").id, report("v3"), by="zhou")
    [ack] = complete(eng, iid, review.id, supervision("差"), by="zhao")
    eng.complete(ack.id, ACK, by="zhou")
    # then: that branch is done, the instance waits for the other two
    assert completed(eng, iid) == ["start", "list_branches", "any_branches", "report_start",
                                   "report_start", "report_start", "report", *ONE_BRANCH]
    assert eng.get_instance(iid).state == "running"
    assert sorted(t.candidates for t in eng.open_tasks(instance_id=iid)) == [("wang",), ("zhang",)]


def test_a_town_without_branches_ends_at_once(p9q, clock):
    eng = p9q
    eng.add_organisation("t2", "白水镇党委", "town", parent="c1")
    # by hand, for t2
    iid = eng.start(KEY, by="liu", org="t2")
    assert completed(eng, iid) == ["start", "list_branches", "any_branches", "no_branches"]
    assert eng.get_instance(iid).state == "completed"
    # and by the timer: one instance per town, t2's ends at once
    advance_to(eng, clock, bj("2026-01-05T09:00"))
    states = sorted(eng.get_instance(n).state for n in (2, 3))
    assert states == ["completed", "running"]


def test_forms_refuse_bad_data(p9q):
    eng = p9q
    iid = eng.start(KEY, by="zhao", org="t1")
    task = the_task(eng, iid, "report", "zhang")
    with pytest.raises(ValidationError) as err:
        eng.complete(task.id, {"quarter": "2025年第四季度", "work_done": "…"}, by="zhang")
    assert set(err.value.fields) == {"problems", "next_plan"}
    [review] = complete(eng, iid, task.id, report("v1"), by="zhang")
    with pytest.raises(ValidationError) as err:
        eng.complete(review.id, {**supervision("优"), "suggestions": ""}, by="zhao")
    assert set(err.value.fields) == {"evaluation", "suggestions"}
    [ack] = complete(eng, iid, review.id, supervision("好"), by="zhao")
    with pytest.raises(ValidationError) as err:
        eng.complete(ack.id, {"measures": "整改", "measures_due": "下月"}, by="zhang")
    assert set(err.value.fields) == {"measures_due"}


def test_a_secretary_who_does_not_report_is_chased(p9q, clock):
    eng = p9q
    # given: the quarter starts Mon Jan 5; reports are due Mon Jan 19
    advance_to(eng, clock, bj("2026-01-05T09:00"))
    iid = 1
    for who in ("zhang", "wang"):
        [review] = complete(eng, iid, the_task(eng, iid, "report", who).id, report(who), by=who)
        [ack] = complete(eng, iid, review.id, supervision("好"), by="zhao")
        eng.complete(ack.id, ACK, by=who)
    # when: zhou has not reported by Thu Jan 22
    advance_to(eng, clock, bj("2026-01-22T09:00"))
    # then: zhou was reminded and told; the town's 领导 heard at the due time, the
    # county's two working days later (Jan 20, 21)
    assert notices(eng, "zhou") == [("remind", None, "01-16 23:59"),
                                    ("overdue", None, "01-19 23:59")]
    assert notices(eng, "sun") == [("escalate", 1, "01-19 23:59")]
    assert notices(eng, "liu") == [("escalate", 2, "01-21 23:59")]
    assert the_task(eng, iid, "report", "zhou").light == "red"
