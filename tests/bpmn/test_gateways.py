"""Gateways: exclusive (conditions + default), inclusive, parallel, event-based."""
from __future__ import annotations

import pytest


def test_exclusive_gateway(bpmn, deploy):
    # given: assess → decide [score >= 70 → record_pass | default → rework] → merge → end
    deploy("test_exclusive_gateway")
    passing = bpmn.start("exclusive_gateway", by="zhang", org="v1")
    failing = bpmn.start("exclusive_gateway", by="zhang", org="v1")

    # when: a score of 85 takes the conditional flow
    bpmn.finish(passing, "assess", {"score": 85}, by="zhang")

    # then: the script runs, the default branch's task never opens
    assert bpmn.completed(passing) == ["start", "assess", "decide", "record_pass", "merge", "end"]
    inst = bpmn.get_instance(passing)
    assert inst.state == "completed"
    assert inst.data == {"score": 85, "result": "pass"}

    # when: a score of 40 takes the default flow
    bpmn.finish(failing, "assess", {"score": 40}, by="zhang")

    # then: the rework task waits
    assert bpmn.completed(failing) == ["start", "assess", "decide"]
    assert bpmn.open_elements(failing) == ["rework"]
    bpmn.finish(failing, "rework", by="zhang")
    assert bpmn.completed(failing) == ["start", "assess", "decide", "rework", "merge", "end"]
    inst = bpmn.get_instance(failing)
    assert inst.state == "completed"
    assert inst.data == {"score": 40}


def test_inclusive_gateway(bpmn, deploy):
    # given: split takes every flow whose condition holds (party, finance, safety),
    # the inclusive join waits for every branch that was taken
    deploy("test_inclusive_gateway")

    # when: two of the three conditions are true
    iid = bpmn.start("inclusive_gateway", {"areas": ["party", "safety"]}, by="zhang", org="v1")

    # then: exactly two branches run
    assert bpmn.completed(iid) == ["start", "split"]
    assert bpmn.open_elements(iid) == ["party", "safety"]

    # when: one branch finishes, the join still waits for the other
    bpmn.finish(iid, "safety", {"safety_ok": True}, by="zhang")
    assert bpmn.completed(iid) == ["start", "split", "safety"]
    assert bpmn.open_elements(iid) == ["party"]
    assert bpmn.get_instance(iid).state == "running"

    # when: the second branch finishes
    bpmn.finish(iid, "party", {"party_ok": True}, by="zhang")

    # then: the join fires once, and the data of both branches arrives
    assert bpmn.completed(iid) == ["start", "split", "safety", "party", "join", "summary", "end"]
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"areas": ["party", "safety"], "safety_ok": True, "party_ok": True,
                         "checked": ["party", "safety"]}
    assert "finance" not in bpmn.kinds(iid, "started")


@pytest.mark.parametrize("first, second", [("task_a", "task_b"), ("task_b", "task_a")])
def test_parallel_gateway(bpmn, deploy, first, second):
    # given: fork → task_a ∥ task_b → join → combine (script) → end
    deploy("test_parallel_gateway")
    iid = bpmn.start("parallel_gateway", by="zhang", org="v1")
    assert bpmn.completed(iid) == ["start", "fork"]
    assert bpmn.open_elements(iid) == ["task_a", "task_b"]
    values = {"task_a": {"a": "甲"}, "task_b": {"b": "乙"}}

    # when: one branch finishes
    bpmn.finish(iid, first, values[first], by="zhang")

    # then: the join waits for the other one
    assert bpmn.completed(iid) == ["start", "fork", first]
    assert bpmn.open_elements(iid) == [second]
    assert bpmn.get_instance(iid).state == "running"

    # when: the other branch finishes
    bpmn.finish(iid, second, values[second], by="zhang")

    # then
    assert bpmn.completed(iid) == ["start", "fork", first, second, "join", "combine", "end"]
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"a": "甲", "b": "乙", "both": "甲+乙"}


def test_event_based_gateway(bpmn, deploy):
    # given: race → [message "reply" → note_reply | signal "recall" → note_recall]
    deploy("test_event_based_gateway")
    by_message = bpmn.start("event_based_gateway", by="zhang", org="v1", business_key="A")
    by_signal = bpmn.start("event_based_gateway", by="zhang", org="v1", business_key="B")
    for iid in (by_message, by_signal):
        # the gateway itself waits for whichever event comes first
        assert bpmn.completed(iid) == ["start"]
        assert bpmn.kinds(iid, "started") == ["start", "race"]
        assert bpmn.get_instance(iid).state == "running"

    # when: the message reaches instance A
    assert bpmn.correlate_message("reply", {"answer": "已整改"}, correlation="A") == by_message

    # then: A took the message branch; the signal branch never started
    assert bpmn.completed(by_message) == ["start", "race", "got_reply", "note_reply", "end_reply"]
    assert "got_recall" not in bpmn.kinds(by_message, "started")
    inst = bpmn.get_instance(by_message)
    assert inst.state == "completed"
    assert inst.data == {"answer": "已整改", "outcome": "replied"}

    # when: the signal is broadcast; only B still waits for it
    assert bpmn.send_signal("recall", {"why": "撤回"}) == [by_signal]

    # then: B took the signal branch; the message branch never started
    assert bpmn.completed(by_signal) == ["start", "race", "got_recall", "note_recall",
                                         "end_recall"]
    assert "got_reply" not in bpmn.kinds(by_signal, "started")
    inst = bpmn.get_instance(by_signal)
    assert inst.state == "completed"
    assert inst.data == {"why": "撤回", "outcome": "recalled"}
