"""Deadlines in Chinese working days, lights, reminders, 督办, urging and extensions.

Dates below are Beijing time; a limit of N working days ends at 23:59:59 of
the N-th working day after the task was created. 2026 facts: Mid-autumn
Sep 25–27 and National Day Oct 1–7 are off; Sun Sep 20 and Sat Oct 10 are
make-up working days.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from engine import ConflictError, DefinitionError, PermissionDenied, ScriptError, ValidationError
from tests.engine.test_repository import diagram
from tests.fixtures.time import BJ, advance_to, bj, end_of

DATA = Path(__file__).resolve().parent / "data"


def notices(eng, who: str) -> list[tuple[str, int | None, str]]:
    """(kind, level, Beijing time) of a person's notices, oldest first."""
    return [(n.kind, n.level, n.created_at.astimezone(BJ).strftime("%m-%d %H:%M"))
            for n in reversed(eng.notifications(who))]


@pytest.fixture
def leaders(org):
    org.grant_role("sun", "领导", "t1")
    org.add_person("liu", "刘部长")
    org.grant_role("liu", "领导", "c1")
    org.deploy((DATA / "deadline_item.bpmn").read_text(encoding="utf-8"), by="admin")
    return org


def open_task(eng, iid, element):
    return next(t for t in eng.open_tasks(instance_id=iid) if t.element_id == element)


def test_an_item_through_two_months_and_the_national_day_holiday(leaders, clock):
    eng = leaders
    # Tue 2026-09-01 09:00: the problem is registered
    clock.set(bj("2026-09-01T09:00"))
    iid = eng.start("deadline_item", {"rectify_days": 10}, by="zhang", org="v1")
    assign = open_task(eng, iid, "assign")
    # 3 working days: Sep 2, 3, 4 → due Fri Sep 4; warned one working day before
    assert (assign.due_at, assign.warn_at) == (end_of("2026-09-04"), end_of("2026-09-03"))
    assert (assign.light, assign.candidates, assign.due_provisional) == ("green", ("zhao",), False)
    assert eng.get_instance(iid).light == "green"

    advance_to(eng, clock, bj("2026-09-04T12:00"))
    assert open_task(eng, iid, "assign").light == "yellow"
    assert eng.get_instance(iid).light == "yellow"
    advance_to(eng, clock, bj("2026-09-18T09:00"))
    assign = open_task(eng, iid, "assign")
    assert (assign.light, assign.escalation_level) == ("red", 2)
    assert notices(eng, "zhao") == [("remind", None, "09-03 23:59"), ("overdue", None, "09-04 23:59")]
    # level 1 at the due time to the town's leader; level 2 two working days later
    # (Mon Sep 7, Tue Sep 8) to the leader one level up
    assert notices(eng, "sun") == [("escalate", 1, "09-04 23:59")]
    assert notices(eng, "liu") == [("escalate", 2, "09-08 23:59")]

    # Fri Sep 18: responsibilities set; 10 working days counted across Mid-autumn and
    # National Day: Sun Sep 20 (调休) 1, Sep 21–24 2–5, Sep 28–30 6–8, Oct 8 9, Oct 9 10
    eng.complete(assign.id, {"responsible_person": "li", "lead_leader": "sun"}, by="zhao")
    rectify = open_task(eng, iid, "rectify")
    assert (rectify.assignee, rectify.due_at) == ("li", end_of("2026-10-09"))
    assert rectify.warn_at == end_of("2026-09-30")  # two working days before: Oct 8, Sep 30
    assert eng.get_instance(iid).light == "green"

    advance_to(eng, clock, bj("2026-10-13T10:00"))
    assert open_task(eng, iid, "rectify").light == "red"
    # after the due time the lead leader named on the item hears first; then the county,
    # two working days on: Sat Oct 10 (调休) and Mon Oct 12
    assert notices(eng, "li") == [("remind", None, "09-30 23:59"), ("overdue", None, "10-09 23:59")]
    assert notices(eng, "sun")[-1] == ("escalate", 1, "10-09 23:59")
    assert notices(eng, "liu")[-1] == ("escalate", 2, "10-12 23:59")

    # the supervision office urges; the person responsible finishes the next day
    assert eng.urge(rectify.id, by="qian", message="请于明日前完成整改并上传佐证材料") == 1
    assert notices(eng, "li")[-1] == ("urge", None, "10-13 10:00")
    advance_to(eng, clock, bj("2026-10-14T16:00"))
    eng.complete(rectify.id, by="li")
    review = open_task(eng, iid, "review")
    assert review.due_at == end_of("2026-10-21")  # Oct 15, 16, 19, 20, 21

    # an extension moves the limit, the warning and their jobs
    advance_to(eng, clock, bj("2026-10-19T11:00"))
    new_due = eng.extend_deadline(review.id, by="qian", reason="需补充现场核查", working_days=3)
    assert new_due == end_of("2026-10-26")  # Oct 22, 23, 26
    review = open_task(eng, iid, "review")
    assert (review.due_at, review.warn_at, review.light) == (
        end_of("2026-10-26"), end_of("2026-10-23"), "green")
    advance_to(eng, clock, bj("2026-10-22T09:00"))
    assert open_task(eng, iid, "review").light == "green"  # not red on the old due day
    advance_to(eng, clock, bj("2026-10-26T10:00"))
    assert open_task(eng, iid, "review").light == "yellow"
    eng.complete(review.id, by="zhao")
    inst = eng.get_instance(iid)
    assert (inst.state, inst.light) == ("completed", None)
    assert notices(eng, "zhao")[-2:] == [("extended", None, "10-19 11:00"),
                                         ("remind", None, "10-23 23:59")]
    assert eng.list_jobs() == []
    # nothing was notified twice
    for who in ("zhao", "li", "sun", "liu"):
        assert len(notices(eng, who)) == len(set(notices(eng, who)))
    assert eng.verify_audit().ok


def test_a_limit_into_a_year_without_a_calendar_is_provisional_until_loaded(leaders, clock):
    eng = leaders
    clock.set(bj("2026-12-20T10:00"))  # a Sunday
    iid = eng.start("deadline_item", {"rectify_days": 10}, by="zhang", org="v1")
    eng.complete(open_task(eng, iid, "assign").id,
                 {"responsible_person": "li", "lead_leader": "sun"}, by="zhao")
    task = open_task(eng, iid, "rectify")
    # Dec 21–25, Dec 28–31 are 9; without 2027 data Fri Jan 1 counts as the 10th
    assert (task.due_at, task.due_provisional) == (end_of("2027-01-01"), True)
    due_jobs = [j for j in eng.list_jobs() if j.kind == "task_due" and j.task_id == task.id]
    assert [j.due_at for j in due_jobs] == [end_of("2027-01-01")]
    # the State Council's notice for 2027 is entered
    report = eng.load_calendar(2027, "# 2027\n2027-01-01,休,元旦\n2027-02-20,班,春节调休\n",
                               by="admin")
    assert report["deadlines_moved"] == 1
    task = open_task(eng, iid, "rectify")
    assert (task.due_at, task.due_provisional) == (end_of("2027-01-04"), False)
    due_jobs = [j for j in eng.list_jobs() if j.kind == "task_due" and j.task_id == task.id]
    assert [j.due_at for j in due_jobs] == [end_of("2027-01-04")]


def test_bad_calendar_notices_are_refused(leaders):
    with pytest.raises(ValidationError):
        leaders.load_calendar(2027, "2027-13-01,休,?\n", by="admin")
    with pytest.raises(ValidationError):
        leaders.load_calendar(2027, "2028-01-03,休,元旦\n", by="admin")


def test_urging_and_extending_refuse_bad_input(leaders, clock):
    eng = leaders
    iid = eng.start("deadline_item", {"rectify_days": 10}, by="zhang", org="v1")
    task = open_task(eng, iid, "assign")
    with pytest.raises(ValidationError):
        eng.urge(task.id, by="qian", message="  ")
    with pytest.raises(PermissionDenied):
        eng.urge(task.id, by="wang", message="快")  # v2's secretary does not supervise v1
    with pytest.raises(ValidationError):
        eng.extend_deadline(task.id, by="qian", reason="", working_days=2)
    with pytest.raises(ValidationError):
        eng.extend_deadline(task.id, by="qian", reason="原因", working_days=2, duration="P1D")
    with pytest.raises(ValidationError):
        eng.extend_deadline(task.id, by="qian", reason="原因",
                            due=clock.now() - timedelta(days=1))
    before = open_task(eng, iid, "assign").due_at
    eng.complete(task.id, {"responsible_person": "li", "lead_leader": "sun"}, by="zhao")
    with pytest.raises(ConflictError):
        eng.urge(task.id, by="qian", message="快")
    with pytest.raises(ConflictError):
        eng.extend_deadline(task.id, by="qian", reason="原因", working_days=2)
    assert before is not None


def test_a_deadline_expression_that_fails_changes_nothing(leaders):
    eng = leaders
    iid = eng.start("deadline_item", {"rectify_days": "soon"}, by="zhang", org="v1")
    assign = open_task(eng, iid, "assign")
    with pytest.raises(ScriptError) as err:
        eng.complete(assign.id, {"responsible_person": "li"}, by="zhao")
    assert err.value.element_id == "rectify"
    assert open_task(eng, iid, "assign").state == "open"


@pytest.mark.parametrize("rule, words", [
    ('<duban:deadline duration="P3X"/>', "P3X"),
    ('<duban:deadline workingDays="0"/>', "between 1"),
    ('<duban:deadline workingDays="-2"/>', "between 1"),
    ('<duban:deadline duration="P0D"/>', "longer than zero"),
    ('<duban:deadline workingDays="3" duration="P3D"/>', "exactly one"),
    ('<duban:deadline/>', "exactly one"),
    ('<duban:deadline workingDays="3" warn="P1Q"/>', "P1Q"),
    ('<duban:deadline expression="__import__(1)"/>', "refused"),
    ('<duban:escalation><duban:level afterWorkingDays="x" role="领导"/></duban:escalation>',
     "whole number"),
])
def test_bad_deadlines_are_refused_at_deploy(org, rule, words):
    xml = diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" '
                  f'targetRef="t"/><bpmn:userTask id="t"><bpmn:extensionElements>{rule}'
                  '</bpmn:extensionElements></bpmn:userTask><bpmn:sequenceFlow id="f2" '
                  'sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>')
    with pytest.raises(DefinitionError) as err:
        org.deploy(xml, by="admin")
    assert "t" in err.value.element_ids and words in str(err.value)
