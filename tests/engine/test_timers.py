"""BPMN timers as designers write them, fired by jobs on the engine's clock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from engine import ConflictError, DefinitionError
from tests.engine.test_repository import diagram

DATA = Path(__file__).resolve().parent / "data"
UTC = timezone.utc


def deploy(eng, name: str):
    return eng.deploy((DATA / f"{name}.bpmn").read_text(encoding="utf-8"), by="admin")


def completed(eng, iid: int) -> list[str]:
    return [e.element_id for e in eng.history(iid) if e.kind == "completed"]


def run_until(eng, clock, when: datetime) -> None:
    """Move the clock to *when* the way a ticking worker would: one tick per minute."""
    while clock.now() < when:
        clock.advance(minutes=1)
        eng.fire_due_jobs()


def test_a_duration_timer_waits_then_moves_on(org, clock):
    deploy(org, "timer_wait")
    iid = org.start("timer_wait", by="zhang", org="v1")
    [job] = org.list_jobs()
    assert (job.kind, job.due_at) == ("timer", clock.now() + timedelta(minutes=5))
    clock.advance(minutes=4, seconds=59)
    org.fire_due_jobs()
    assert org.get_instance(iid).state == "running"
    clock.advance(seconds=1)
    org.fire_due_jobs()
    assert org.get_instance(iid).state == "completed"
    assert completed(org, iid) == ["start", "wait", "end"]
    assert org.list_jobs() == []


def test_a_date_without_offset_is_read_in_the_configured_zone(org, clock):
    # given the clock at 2026-03-02 09:00 Beijing time (01:00 UTC)
    deploy(org, "timer_date")
    iid = org.start("timer_date", {"meeting_at": "2026-03-02T15:00:00+08:00"}, by="zhang",
                    org="v1")
    # "2026-03-02T12:00" is noon in Asia/Shanghai: 04:00 UTC, not the server's noon
    assert org.list_jobs()[0].due_at == datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    run_until(org, clock, datetime(2026, 3, 2, 4, 0, tzinfo=UTC))
    # the second timer comes from the data
    assert org.list_jobs()[0].due_at == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    run_until(org, clock, datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    assert completed(org, iid) == ["start", "noon", "later", "end"]


def test_a_cycle_reminder_fires_exactly_three_times_and_never_after_its_task(org, clock):
    deploy(org, "timer_boundary")
    iid = org.start("timer_boundary", {"reminders": 0}, by="zhang", org="v1")
    run_until(org, clock, clock.now() + timedelta(hours=5))
    # (each firing runs the reminder path on its own token, so count runs, not data)
    assert completed(org, iid).count("count") == 3
    # when the task is done, its timers go away with it
    org.complete(org.open_tasks(instance_id=iid)[0].id, by="zhang")
    assert org.get_instance(iid).state == "completed" and org.list_jobs() == []
    run_until(org, clock, clock.now() + timedelta(days=2))
    assert completed(org, iid).count("count") == 3


def test_an_interrupting_boundary_timer_takes_the_task_away(org, clock):
    deploy(org, "timer_boundary")
    iid = org.start("timer_boundary", {"reminders": 0}, by="zhang", org="v1")
    task = org.open_tasks(instance_id=iid)[0]
    clock.advance(days=1)
    org.fire_due_jobs()
    assert [t.element_id for t in org.open_tasks(instance_id=iid)] == ["escalated"]
    assert ("work", "cancelled") in [(e.element_id, e.kind) for e in org.history(iid)]
    with pytest.raises(ConflictError):
        org.complete(task.id, by="zhang")


def test_a_timer_due_as_the_user_completes_has_one_outcome(org, clock):
    deploy(org, "timer_boundary")
    iid = org.start("timer_boundary", {"reminders": 0}, by="zhang", org="v1")
    # the user completes at the very second the 1-day timer falls due, before the tick
    clock.advance(days=1)
    org.complete(org.open_tasks(instance_id=iid)[0].id, by="zhang")
    org.fire_due_jobs()
    inst = org.get_instance(iid)
    assert inst.state == "completed"
    assert "escalated" not in [e.element_id for e in org.history(iid)]
    assert org.list_jobs() == []


def test_a_boundary_timer_on_a_subprocess(org, clock):
    deploy(org, "timer_subprocess")
    iid = org.start("timer_subprocess", by="zhang", org="v1")
    clock.advance(hours=2)
    org.fire_due_jobs()
    assert org.get_instance(iid).state == "completed"
    assert completed(org, iid)[-2:] == ["too_late", "late_end"]
    assert org.open_tasks(instance_id=iid) == []
    # the task inside went with its subprocess, and the history says so
    assert ("step", "cancelled") in [(e.element_id, e.kind) for e in org.history(iid)]


@pytest.mark.parametrize("reply_first", [True, False])
def test_an_event_gateway_races_a_message_against_a_timer(org, clock, reply_first):
    deploy(org, "timer_race")
    iid = org.start("timer_race", by="zhang", org="v1")
    if reply_first:
        clock.advance(minutes=59)
        org.correlate_message("reply", {"answer": "同意"})
        run_until(org, clock, clock.now() + timedelta(hours=2))
        assert completed(org, iid)[-2:] == ["got_reply", "end_reply"]
    else:
        run_until(org, clock, clock.now() + timedelta(hours=1))
        assert completed(org, iid)[-2:] == ["no_reply", "end_timeout"]
        with pytest.raises(Exception):
            org.correlate_message("reply", {})
    assert org.list_jobs() == []


def test_a_timer_start_event_starts_an_instance_every_month(org, clock):
    # given the clock on 2026-03-02: the first report is due 2026-04-01 09:00 Beijing time
    deploy(org, "timer_monthly")
    [job] = org.list_jobs()
    assert (job.kind, job.due_at) == ("start_timer", datetime(2026, 4, 1, 1, 0, tzinfo=UTC))
    clock.set(datetime(2026, 4, 1, 1, 0, tzinfo=UTC))
    org.fire_due_jobs()
    assert [t.element_id for t in org.open_tasks()] == ["report"]
    assert org.list_jobs()[0].due_at == datetime(2026, 5, 1, 1, 0, tzinfo=UTC)
    # after three months of downtime, one instance catches up, then the schedule goes on
    clock.set(datetime(2026, 8, 15, 0, 0, tzinfo=UTC))
    org.fire_due_jobs()
    assert len(org.open_tasks()) == 2
    assert org.list_jobs()[0].due_at == datetime(2026, 9, 1, 1, 0, tzinfo=UTC)
    # a new version takes the schedule over instead of adding a second one
    xml = (DATA / "timer_monthly.bpmn").read_text().replace('name="报送"', 'name="按月报送"')
    org.deploy(xml, by="admin")
    assert [j.kind for j in org.list_jobs()] == ["start_timer"]


@pytest.mark.parametrize("element, text, words", [
    ("timeDuration", "PT5X", "PT5X"),
    ("timeDuration", "5 minutes", "neither ISO 8601"),
    ("timeDuration", "P0D", "longer than zero"),
    ("timeDuration", "2026-12-01T09:00", "needs a duration"),
    ("timeCycle", "PT1H", "needs a cycle"),
    ("timeDate", "tomorrow at nine", "neither ISO 8601"),
])
def test_bad_timer_text_is_refused_at_deploy(org, element, text, words):
    xml = diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" '
                  'targetRef="t"/><bpmn:intermediateCatchEvent id="t"><bpmn:timerEventDefinition '
                  f'id="td"><bpmn:{element}>{text}</bpmn:{element}></bpmn:timerEventDefinition>'
                  '</bpmn:intermediateCatchEvent><bpmn:sequenceFlow id="f2" sourceRef="t" '
                  'targetRef="e"/><bpmn:endEvent id="e"/>')
    with pytest.raises(DefinitionError) as err:
        org.deploy(xml, by="admin")
    assert "t" in err.value.element_ids and words in str(err.value)


def test_quoted_timer_text_from_other_tools_is_accepted(org, clock):
    xml = diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" '
                  'targetRef="t"/><bpmn:intermediateCatchEvent id="t"><bpmn:timerEventDefinition '
                  "id=\"td\"><bpmn:timeDuration>'PT10M'</bpmn:timeDuration>"
                  '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
                  '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>')
    org.deploy(xml, by="admin")
    org.start("p", by="zhang", org="v1")
    assert org.list_jobs()[0].due_at == clock.now() + timedelta(minutes=10)


def test_a_timer_start_event_can_start_one_instance_per_town(org, clock):
    org.add_organisation("t2", "二镇党委", "town", parent="c1")
    deploy(org, "timer_quarterly_towns")
    clock.set(datetime(2026, 4, 1, 1, 0, tzinfo=UTC))
    org.fire_due_jobs()
    tasks = org.open_tasks()
    assert sorted((t.assignee or "", t.candidates) for t in tasks) == [
        ("", ("sun",)), ("admin", ())]  # t2 has no 书记 anywhere up: the fallback person
    assert org.list_jobs()[0].due_at == datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
