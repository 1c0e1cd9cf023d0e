"""Subprocesses: embedded, event subprocesses (signal, message, error), call activities."""
from __future__ import annotations


def test_embedded_subprocess(bpmn, deploy):
    # given: prepare (script) → inspect [sub_start → fill → tally (script) → sub_end] → review → end
    deploy("test_embedded_subprocess")

    # when
    iid = bpmn.start("embedded_subprocess", {"village": "一村"}, by="zhang", org="v1")

    # then: the user task inside the subprocess is in the starter's inbox
    assert bpmn.completed(iid) == ["start", "prepare", "sub_start"]
    assert bpmn.kinds(iid, "started") == ["start", "prepare", "inspect", "sub_start", "fill"]
    assert bpmn.task(iid, "fill").assignee == "zhang"

    # when: the inner task completes
    bpmn.finish(iid, "fill", {"found": 3}, by="zhang")

    # then: the subprocess completes after its end event; its data reaches the parent
    assert bpmn.completed(iid) == ["start", "prepare", "sub_start", "fill", "tally", "sub_end",
                                   "inspect"]
    assert bpmn.open_elements(iid) == ["review"]
    assert bpmn.get_instance(iid).data == {"village": "一村", "rounds": 1, "found": 3,
                                           "serious": True}

    # when
    bpmn.finish(iid, "review", by="zhang")

    # then
    assert bpmn.completed(iid) == ["start", "prepare", "sub_start", "fill", "tally", "sub_end",
                                   "inspect", "review", "end"]
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"village": "一村", "rounds": 1, "found": 3, "serious": True}


def test_event_subprocess_interrupting(bpmn, deploy):
    # given: start → work (user task) → end, and an interrupting event subprocess
    # on_withdraw started by the signal "withdraw"
    deploy("test_event_subprocess_interrupting")
    iid = bpmn.start("event_subprocess_interrupting", {"title": "整改"}, by="zhang", org="v1")
    assert bpmn.completed(iid) == ["start"]
    assert bpmn.open_elements(iid) == ["work"]

    # when: the signal is broadcast
    caught = bpmn.send_signal("withdraw", {"reason": "重复立项"})

    # then: the instance caught it, the event subprocess ran, and the main flow was cancelled
    assert caught == [iid]
    assert bpmn.completed(iid) == ["start", "withdraw_start", "note_withdraw", "withdraw_end",
                                   "on_withdraw"]
    assert bpmn.kinds(iid, "cancelled") == ["work"]
    assert bpmn.open_tasks(instance_id=iid) == []
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"title": "整改", "reason": "重复立项", "status": "withdrawn"}
    assert "end" not in bpmn.kinds(iid, "started")

    # and: nothing waits for the signal any more
    assert bpmn.send_signal("withdraw") == []


def test_event_subprocess_non_interrupting(bpmn, deploy):
    # given: start → work (user task) → end, and a non-interrupting event subprocess
    # on_remind started by the message "remind" (a user task acknowledges each reminder)
    deploy("test_event_subprocess_non_interrupting")
    iid = bpmn.start("event_subprocess_non_interrupting", by="zhang", org="v1",
                     business_key="R-1")
    assert bpmn.open_elements(iid) == ["work"]

    # when: a reminder arrives, then a second one
    assert bpmn.correlate_message("remind", {"note": "请加快"}, correlation="R-1") == iid
    assert bpmn.open_elements(iid) == ["acknowledge", "work"]
    assert bpmn.correlate_message("remind", {"note": "再次催办"}, correlation="R-1") == iid

    # then: each reminder started its own event subprocess; the main task is untouched
    assert bpmn.completed(iid) == ["start", "remind_start", "remind_start"]
    assert bpmn.open_elements(iid) == ["acknowledge", "acknowledge", "work"]
    assert bpmn.kinds(iid, "cancelled") == []

    # when: both reminders are acknowledged
    bpmn.finish(iid, "acknowledge", by="zhang")
    bpmn.finish(iid, "acknowledge", by="zhang")

    # then: the main flow still waits
    assert bpmn.completed(iid) == ["start", "remind_start", "remind_start",
                                   "acknowledge", "remind_end", "on_remind",
                                   "acknowledge", "remind_end", "on_remind"]
    assert bpmn.open_elements(iid) == ["work"]
    assert bpmn.get_instance(iid).state == "running"

    # when: the main task completes
    bpmn.finish(iid, "work", {"done": True}, by="zhang")

    # then
    assert bpmn.completed(iid) == ["start", "remind_start", "remind_start",
                                   "acknowledge", "remind_end", "on_remind",
                                   "acknowledge", "remind_end", "on_remind", "work", "end"]
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data["done"] is True


def test_event_subprocess_thrown_inside(bpmn, deploy):
    # given: flag_gw [urgent → raise_flag (signal throw "flagged") | default] → merge → work
    # → end, and a non-interrupting event subprocess on_flagged (signal start "flagged")
    # → triage (user task)
    deploy("test_event_subprocess_thrown_inside")

    # when: an urgent instance throws the signal on its way to work
    urgent = bpmn.start("event_subprocess_thrown_inside", {"urgent": True}, by="zhang",
                        org="v1")

    # then: its own event subprocess caught it; the main flow carried on
    assert bpmn.completed(urgent) == ["start", "flag_gw", "raise_flag", "flagged_start",
                                      "merge"]
    assert bpmn.open_elements(urgent) == ["triage", "work"]

    # when: both tasks are done
    bpmn.finish(urgent, "triage", {"level": "高"}, by="zhang")
    bpmn.finish(urgent, "work", by="zhang")

    # then
    assert bpmn.completed(urgent) == ["start", "flag_gw", "raise_flag", "flagged_start",
                                      "merge", "triage", "flagged_end", "on_flagged", "work",
                                      "end"]
    assert bpmn.get_instance(urgent).state == "completed"

    # when: a later instance of the same version does not throw the signal
    plain = bpmn.start("event_subprocess_thrown_inside", {"urgent": False}, by="zhang",
                       org="v1")

    # then: no event subprocess runs, and the instance ends with its main flow
    assert bpmn.open_elements(plain) == ["work"]
    bpmn.finish(plain, "work", by="zhang")
    assert bpmn.completed(plain) == ["start", "flag_gw", "merge", "work", "end"]
    assert "on_flagged" not in bpmn.kinds(plain, "started")
    assert bpmn.get_instance(plain).state == "completed"


def test_event_subprocess_error(bpmn, deploy):
    # given: check → valid_gw [valid → end | default → raise_invalid (error end event)],
    # and an event subprocess on_invalid with an error start event for that error
    deploy("test_event_subprocess_error")

    # when: an instance starts
    bad = bpmn.start("event_subprocess_error", by="zhang", org="v1")

    # then: only the main flow runs; the error handler waits for its error
    assert bpmn.completed(bad) == ["start"]
    assert bpmn.open_elements(bad) == ["check"]

    # when: the check fails, so the process throws the error
    bpmn.finish(bad, "check", {"valid": False}, by="zhang")

    # then: the event subprocess catches it
    assert bpmn.completed(bad) == ["start", "check", "valid_gw", "raise_invalid", "invalid_start"]
    assert bpmn.open_elements(bad) == ["handle_invalid"]

    # when
    bpmn.finish(bad, "handle_invalid", by="zhang")

    # then
    assert bpmn.completed(bad) == ["start", "check", "valid_gw", "raise_invalid", "invalid_start",
                                   "handle_invalid", "invalid_end", "on_invalid"]
    inst = bpmn.get_instance(bad)
    assert inst.state == "completed"
    assert inst.data == {"valid": False}

    # when / then: a passing check never starts the handler
    good = bpmn.start("event_subprocess_error", by="zhang", org="v1")
    bpmn.finish(good, "check", {"valid": True}, by="zhang")
    assert bpmn.completed(good) == ["start", "check", "valid_gw", "end"]
    assert "on_invalid" not in bpmn.kinds(good, "started")
    assert bpmn.get_instance(good).state == "completed"


def test_call_activity(bpmn, deploy):
    # given: call_review calls process review_child (same file), then after (script) uses
    # what the child produced
    deploy("test_call_activity")

    # when
    iid = bpmn.start("call_activity", {"title": "村务公开"}, by="zhang", org="v1")

    # then: the called process's user task belongs to the calling instance
    assert bpmn.completed(iid) == ["start", "child_start"]
    assert bpmn.kinds(iid, "started") == ["start", "call_review", "child_start", "child_review"]
    task = bpmn.task(iid, "child_review")
    assert (task.assignee, task.process_key) == ("zhang", "call_activity")

    # when
    bpmn.finish(iid, "child_review", {"approved": True}, by="zhang")

    # then: data went in (title) and came back out (verdict)
    assert bpmn.completed(iid) == ["start", "child_start", "child_review", "child_verdict",
                                   "child_end", "call_review", "after", "end"]
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"title": "村务公开", "approved": True, "verdict": "通过",
                         "summary": "村务公开:通过"}


def test_call_activity_deployed(bpmn, deploy):
    # given: budget_child deployed earlier from its own file, with an ioSpecification
    # (input amount, output granted); the caller is deployed afterwards
    child = deploy("test_call_activity_deployed_child")
    assert child.process_key == "budget_child"
    deploy("test_call_activity_deployed")

    # when
    iid = bpmn.start("call_activity_deployed", {"amount": 100, "note": "只留在父流程"},
                     by="zhang", org="v1")

    # then
    assert bpmn.completed(iid) == ["start", "child_start"]
    assert bpmn.open_elements(iid) == ["child_approve"]

    # when
    bpmn.finish(iid, "child_approve", {"cut": 30}, by="zhang")

    # then: only the declared output came back (not cut, not scratch)
    assert bpmn.completed(iid) == ["start", "child_start", "child_approve", "child_compute",
                                   "child_end", "call_budget", "after", "end"]
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"amount": 100, "note": "只留在父流程", "granted": 70, "remaining": 30}
