"""Events: boundary events (error, escalation, message, signal), intermediate catch and
throw events, and the terminate end event."""
from __future__ import annotations

import pytest

from engine.errors import ConflictError, NotFound


# -- boundary events -----------------------------------------------------------

def test_boundary_error_on_subprocess(bpmn, deploy):
    # given: collect [upload → complete_gw → sub_end | throw_incomplete (error end event)],
    # with an error boundary event on_incomplete → supplement → end_supplemented
    deploy("test_boundary_error_on_subprocess")
    bad = bpmn.start("boundary_error_on_subprocess", by="zhang", org="v1")
    assert bpmn.completed(bad) == ["start", "sub_start"]
    assert bpmn.open_elements(bad) == ["upload"]

    # when: the material is incomplete, so the subprocess ends with the error
    bpmn.finish(bad, "upload", {"complete": False}, by="zhang")

    # then: the boundary event caught it and its path runs; the normal path never does
    # (SpiffWorkflow marks the subprocess completed when its error end event is reached)
    assert bpmn.completed(bad) == ["start", "sub_start", "upload", "complete_gw",
                                   "throw_incomplete", "collect", "on_incomplete"]
    assert bpmn.open_elements(bad) == ["supplement"]
    bpmn.finish(bad, "supplement", by="zhang")
    assert bpmn.completed(bad) == ["start", "sub_start", "upload", "complete_gw",
                                   "throw_incomplete", "collect", "on_incomplete",
                                   "supplement", "end_supplemented"]
    assert "end_ok" not in bpmn.kinds(bad, "started")
    inst = bpmn.get_instance(bad)
    assert inst.state == "completed"
    assert inst.data == {"complete": False}

    # when / then: complete material leaves through the normal flow; the boundary is dropped
    good = bpmn.start("boundary_error_on_subprocess", by="zhang", org="v1")
    bpmn.finish(good, "upload", {"complete": True}, by="zhang")
    assert bpmn.completed(good) == ["start", "sub_start", "upload", "complete_gw", "sub_end",
                                    "collect", "end_ok"]
    assert bpmn.kinds(good, "cancelled") == ["on_incomplete"]
    inst = bpmn.get_instance(good)
    assert inst.state == "completed"
    assert inst.data == {"complete": True}


def test_boundary_escalation_interrupting(bpmn, deploy):
    # given: handle [attempt → solved_gw → sub_end | escalate_end (escalation end event)],
    # with an interrupting escalation boundary on_escalation → superior → end_escalated
    deploy("test_boundary_escalation_interrupting")
    iid = bpmn.start("boundary_escalation_interrupting", by="zhang", org="v1")

    # when: the attempt fails and the subprocess escalates
    bpmn.finish(iid, "attempt", {"solved": False}, by="zhang")

    # then: the boundary path runs and the normal outgoing flow does not
    assert bpmn.completed(iid) == ["start", "sub_start", "attempt", "solved_gw", "escalate_end",
                                   "handle", "on_escalation"]
    assert bpmn.open_elements(iid) == ["superior"]
    bpmn.finish(iid, "superior", {"handled_by": "镇"}, by="zhang")
    assert bpmn.completed(iid) == ["start", "sub_start", "attempt", "solved_gw", "escalate_end",
                                   "handle", "on_escalation", "superior", "end_escalated"]
    assert "end_solved" not in bpmn.kinds(iid, "started")
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"solved": False, "handled_by": "镇"}


def test_boundary_escalation_non_interrupting(bpmn, deploy):
    # given: handle [raise_flag (escalation throw) → work → sub_end], with a
    # non-interrupting escalation boundary on_notify → acknowledge → end_acknowledged
    deploy("test_boundary_escalation_non_interrupting")

    # when: the subprocess starts, it escalates at once and carries on
    iid = bpmn.start("boundary_escalation_non_interrupting", by="zhang", org="v1")

    # then: both the boundary path and the subprocess's own task are open
    assert bpmn.completed(iid) == ["start", "sub_start", "raise_flag", "on_notify"]
    assert bpmn.open_elements(iid) == ["acknowledge", "work"]

    # when: the escalation is acknowledged, then the work is done
    bpmn.finish(iid, "acknowledge", by="zhang")
    assert bpmn.completed(iid) == ["start", "sub_start", "raise_flag", "on_notify",
                                   "acknowledge", "end_acknowledged"]
    assert bpmn.get_instance(iid).state == "running"
    bpmn.finish(iid, "work", {"result": "办结"}, by="zhang")

    # then: the subprocess completed normally as well
    assert bpmn.completed(iid) == ["start", "sub_start", "raise_flag", "on_notify",
                                   "acknowledge", "end_acknowledged", "work", "sub_end",
                                   "handle", "end"]
    assert not {"handle", "work"} & set(bpmn.kinds(iid, "cancelled"))
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data["result"] == "办结"


def test_boundary_message_interrupting(bpmn, deploy):
    # given: review (user task) with an interrupting message boundary on_revoke
    deploy("test_boundary_message_interrupting")
    revoked = bpmn.start("boundary_message_interrupting", by="zhang", org="v1",
                         business_key="A")
    reviewed = bpmn.start("boundary_message_interrupting", by="zhang", org="v1",
                          business_key="B")
    review_a = bpmn.task(revoked, "review")

    # when: the message arrives for A
    assert bpmn.correlate_message("revoke", {"why": "撤回申请"}, correlation="A") == revoked

    # then: A's review is cancelled (and leaves the inbox); the boundary path ran
    assert bpmn.completed(revoked) == ["start", "on_revoke", "note_revoked", "end_revoked"]
    assert bpmn.kinds(revoked, "cancelled") == ["review"]
    assert bpmn.get_task(review_a.id).state == "cancelled"
    assert bpmn.open_tasks(instance_id=revoked) == []
    inst = bpmn.get_instance(revoked)
    assert inst.state == "completed"
    assert inst.data == {"why": "撤回申请", "status": "revoked"}

    # when: B's review completes normally
    bpmn.finish(reviewed, "review", {"ok": True}, by="zhang")

    # then: the boundary event is gone, so nothing waits for the message any more
    assert bpmn.completed(reviewed) == ["start", "review", "end_reviewed"]
    assert bpmn.kinds(reviewed, "cancelled") == ["on_revoke"]
    assert bpmn.get_instance(reviewed).state == "completed"
    with pytest.raises(NotFound):
        bpmn.correlate_message("revoke", {"why": "太晚"})


def test_boundary_message_non_interrupting(bpmn, deploy):
    # given: review (user task) with a non-interrupting message boundary on_urge
    # → reply_urge (user task) → end_urged
    deploy("test_boundary_message_non_interrupting")
    iid = bpmn.start("boundary_message_non_interrupting", by="zhang", org="v1")

    # when: an urging message arrives
    assert bpmn.correlate_message("urge", {"urged_by": "镇督查室"}) == iid

    # then: a reply task opens next to the review, which stays open
    assert bpmn.completed(iid) == ["start", "on_urge"]
    assert bpmn.open_elements(iid) == ["reply_urge", "review"]

    # when: a second urging message arrives while the review is still open
    assert bpmn.correlate_message("urge", {"urged_by": "县委组织部"}) == iid

    # then: a non-interrupting boundary event fires again for as long as its activity runs
    assert bpmn.completed(iid) == ["start", "on_urge", "on_urge"]
    assert bpmn.open_elements(iid) == ["reply_urge", "reply_urge", "review"]

    # when: the review completes
    bpmn.finish(iid, "review", {"ok": True}, by="zhang")

    # then: the boundary event stops listening; the replies are still open
    assert bpmn.completed(iid) == ["start", "on_urge", "on_urge", "review", "end_reviewed"]
    assert bpmn.kinds(iid, "cancelled") == ["on_urge"]
    assert bpmn.open_elements(iid) == ["reply_urge", "reply_urge"]
    with pytest.raises(NotFound):
        bpmn.correlate_message("urge", {"urged_by": "太晚"})

    # when: both replies are sent
    bpmn.finish(iid, "reply_urge", by="zhang")
    bpmn.finish(iid, "reply_urge", by="zhang")

    # then
    assert bpmn.completed(iid) == ["start", "on_urge", "on_urge", "review", "end_reviewed",
                                   "reply_urge", "end_urged", "reply_urge", "end_urged"]
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data["ok"] is True


def test_boundary_signal_on_subprocess(bpmn, deploy):
    # given: inspect [visit (user task)] with an interrupting signal boundary on_halt
    deploy("test_boundary_signal_on_subprocess")
    iid = bpmn.start("boundary_signal_on_subprocess", by="zhang", org="v1")
    visit = bpmn.task(iid, "visit")

    # when
    assert bpmn.send_signal("halt", {"halted_by": "县委组织部"}) == [iid]

    # then: the subprocess and the task inside it are cancelled; the boundary path ran
    assert bpmn.completed(iid) == ["start", "sub_start", "on_halt", "note_halted", "end_halted"]
    assert bpmn.kinds(iid, "cancelled") == ["inspect", "visit"]
    assert bpmn.get_task(visit.id).state == "cancelled"
    assert bpmn.open_tasks(instance_id=iid) == []
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"halted_by": "县委组织部", "status": "halted"}


def test_boundary_signal_non_interrupting(bpmn, deploy):
    # given: draft (user task) with a non-interrupting signal boundary on_policy
    # → note_policy (script) → end_noted
    deploy("test_boundary_signal_non_interrupting")
    iid = bpmn.start("boundary_signal_non_interrupting", by="zhang", org="v1")

    # when
    assert bpmn.send_signal("policy_changed", {"policy": "2026版"}) == [iid]

    # then: the boundary path ran to its end; the draft is still open
    assert bpmn.completed(iid) == ["start", "on_policy", "note_policy", "end_noted"]
    assert bpmn.open_elements(iid) == ["draft"]
    assert bpmn.get_instance(iid).state == "running"

    # when
    bpmn.finish(iid, "draft", {"text": "草稿"}, by="zhang")

    # then
    assert bpmn.completed(iid) == ["start", "on_policy", "note_policy", "end_noted", "draft",
                                   "end_drafted"]
    assert "draft" not in bpmn.kinds(iid, "cancelled")
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data["text"] == "草稿"


# -- intermediate events -------------------------------------------------------

def test_intermediate_catch_message(bpmn, deploy):
    # given: wait_feedback (message catch "feedback") → review → end; two instances wait
    deploy("test_intermediate_catch_message")
    a = bpmn.start("intermediate_catch_message", {"case": "A"}, by="zhang", org="v1",
                   business_key="FB-A")
    b = bpmn.start("intermediate_catch_message", {"case": "B"}, by="zhang", org="v1",
                   business_key="FB-B")
    for iid in (a, b):
        assert bpmn.completed(iid) == ["start"]
        assert bpmn.kinds(iid, "started") == ["start", "wait_feedback"]
        assert bpmn.open_tasks(instance_id=iid) == []

    # when / then: without a correlation the message is ambiguous
    with pytest.raises(ConflictError, match="give a correlation"):
        bpmn.correlate_message("feedback", {"feedback": "?"})

    # when: the message is correlated by business key to B
    assert bpmn.correlate_message("feedback", {"feedback": "已整改"}, correlation="FB-B") == b

    # then: only B moved on, with the message payload in its data
    assert bpmn.completed(b) == ["start", "wait_feedback"]
    assert bpmn.open_elements(b) == ["review"]
    assert bpmn.get_instance(b).data == {"case": "B", "feedback": "已整改"}
    assert bpmn.completed(a) == ["start"]

    # when: the next message is correlated by a data field to A
    assert bpmn.correlate_message("feedback", {"feedback": "未整改"},
                                  correlation={"case": "A"}) == a

    # then
    bpmn.finish(a, "review", by="zhang")
    bpmn.finish(b, "review", by="zhang")
    for iid, feedback, case in ((a, "未整改", "A"), (b, "已整改", "B")):
        assert bpmn.completed(iid) == ["start", "wait_feedback", "review", "end"]
        inst = bpmn.get_instance(iid)
        assert inst.state == "completed"
        assert inst.data == {"case": case, "feedback": feedback}


def test_intermediate_catch_signal(bpmn, deploy):
    # given: wait_go (signal catch "go") → mark (script) → end; two instances wait
    deploy("test_intermediate_catch_signal")
    a = bpmn.start("intermediate_catch_signal", {"n": 1}, by="zhang", org="v1")
    b = bpmn.start("intermediate_catch_signal", {"n": 2}, by="wang", org="v2")
    assert bpmn.completed(a) == bpmn.completed(b) == ["start"]

    # when: the signal is broadcast
    caught = bpmn.send_signal("go", {"batch": "第一批"})

    # then: every waiting instance caught it
    assert caught == [a, b]
    for iid, n in ((a, 1), (b, 2)):
        assert bpmn.completed(iid) == ["start", "wait_go", "mark", "end"]
        inst = bpmn.get_instance(iid)
        assert inst.state == "completed"
        assert inst.data == {"n": n, "batch": "第一批", "started": True}
    assert bpmn.send_signal("go") == []


def test_intermediate_throw_signal(bpmn, deploy):
    # given: fork → [prepare → announce (signal throw "materials_ready") | wait_ready
    # (signal catch "materials_ready") → review (script)] → join → end
    deploy("test_intermediate_throw_signal")
    iid = bpmn.start("intermediate_throw_signal", by="zhang", org="v1")
    assert bpmn.completed(iid) == ["start", "fork"]
    assert bpmn.open_elements(iid) == ["prepare"]

    # when: the first branch throws the signal
    bpmn.finish(iid, "prepare", {"materials": 3}, by="zhang")

    # then: the parallel branch of the same instance caught it, and both joined
    assert bpmn.completed(iid) == ["start", "fork", "prepare", "announce", "wait_ready",
                                   "review", "join", "end"]
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"materials": 3, "reviewed": True}


def test_intermediate_throw_signal_other_instance(bpmn, deploy):
    # given: one file with two processes: notice_publisher throws the signal
    # "notice_published"; notice_reader waits for it. A reader instance is waiting.
    deploy("test_intermediate_throw_signal_other_instance")
    reader = bpmn.start("notice_reader", by="li", org="v1")
    assert bpmn.completed(reader) == ["read_start"]
    publisher = bpmn.start("notice_publisher", by="zhang", org="v1")

    # when: the publisher publishes
    bpmn.finish(publisher, "write_notice", {"notice": "关于开展整改的通知"}, by="zhang")

    # then: the publisher is done, and the signal reached the waiting reader instance
    assert bpmn.completed(publisher) == ["pub_start", "write_notice", "publish", "pub_end"]
    assert bpmn.get_instance(publisher).state == "completed"
    assert bpmn.completed(reader) == ["read_start", "wait_notice"]
    assert bpmn.open_elements(reader) == ["study"]
    assert bpmn.get_instance(reader).data == {"notice": "关于开展整改的通知"}
    bpmn.finish(reader, "study", by="li")
    assert bpmn.completed(reader) == ["read_start", "wait_notice", "study", "read_end"]
    assert bpmn.get_instance(reader).state == "completed"


# -- terminate -----------------------------------------------------------------

def test_terminate_end_event(bpmn, deploy):
    # given: fork → [veto → terminate (terminate end event) | slow_work → end]
    deploy("test_terminate_end_event")
    iid = bpmn.start("terminate_end_event", by="zhang", org="v1")
    assert bpmn.completed(iid) == ["start", "fork"]
    assert bpmn.open_elements(iid) == ["slow_work", "veto"]
    slow = bpmn.task(iid, "slow_work")

    # when: the veto branch reaches the terminate end event
    bpmn.finish(iid, "veto", {"vetoed": True}, by="zhang")

    # then: the other branch's open task is cancelled and the instance has ended
    assert bpmn.completed(iid) == ["start", "fork", "veto", "terminate"]
    assert bpmn.kinds(iid, "cancelled") == ["slow_work"]
    assert bpmn.open_tasks(instance_id=iid) == []
    assert bpmn.get_task(slow.id).state == "cancelled"
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"vetoed": True}
    assert "end" not in bpmn.kinds(iid, "started")


def test_terminate_end_event_after_other_branch(bpmn, deploy):
    # given: the same diagram; this time the ordinary branch finishes first
    deploy("test_terminate_end_event")
    iid = bpmn.start("terminate_end_event", by="zhang", org="v1")
    bpmn.finish(iid, "slow_work", {"work": "done"}, by="zhang")
    assert bpmn.completed(iid) == ["start", "fork", "slow_work", "end"]
    assert bpmn.get_instance(iid).state == "running"

    # when
    bpmn.finish(iid, "veto", {"vetoed": True}, by="zhang")

    # then: nothing was left to cancel
    assert bpmn.completed(iid) == ["start", "fork", "slow_work", "end", "veto", "terminate"]
    assert bpmn.kinds(iid, "cancelled") == []
    assert bpmn.get_instance(iid).state == "completed"
