"""Runtime commands: start, cancel, suspend/resume, retry, messages and signals."""
from __future__ import annotations

import pytest

from engine import ConflictError, NotFound, PermissionDenied, ValidationError
from tests.engine.test_tasks import GOOD


@pytest.fixture
def approval(org, deploy):
    deploy("test_approval")
    return org.start("approval", {"note": "n"}, by="zhang", org="v1", business_key="BK-1")


def test_start_records_who_what_and_where(org, approval, clock):
    inst = org.get_instance(approval)
    assert (inst.process_key, inst.version, inst.state) == ("approval", 1, "running")
    assert (inst.business_key, inst.started_by, inst.data) == ("BK-1", "zhang", {"note": "n"})
    assert inst.started_at == clock.now()
    assert [(e.element_id, e.kind) for e in org.history(approval)] == [
        ("start", "started"), ("start", "completed"), ("fill", "started")]


def test_start_refuses_bad_input(org, deploy):
    deploy("test_approval")
    with pytest.raises(NotFound):
        org.start("nope", by="zhang")
    with pytest.raises(ValidationError):
        org.start("approval", ["not", "an", "object"], by="zhang")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        org.start("approval", {"_secret": 1}, by="zhang")
    with pytest.raises(PermissionDenied):
        org.start("approval", by="ghost")
    with pytest.raises(PermissionDenied):
        org.start("approval", by="wang", org="v1")  # v2's secretary cannot act for v1
    with pytest.raises(NotFound):
        org.start("approval", by="zhang", org="nowhere")


def test_cancel_needs_a_reason_and_cancels_open_tasks(org, approval):
    with pytest.raises(ValidationError):
        org.cancel(approval, by="admin", reason=" ")
    with pytest.raises(PermissionDenied):
        org.cancel(approval, by="wang", reason="无关")
    org.cancel(approval, by="sun", reason="重复登记")
    inst = org.get_instance(approval)
    assert inst.state == "cancelled" and inst.ended_at is not None
    assert org.open_tasks(instance_id=approval) == []
    assert ("fill", "cancelled") in [(e.element_id, e.kind) for e in org.history(approval)]
    with pytest.raises(ConflictError):
        org.cancel(approval, by="admin", reason="again")


def test_suspended_instances_hold_their_tasks(org, approval):
    task = org.open_tasks(instance_id=approval)[0]
    org.suspend(approval, by="admin")
    assert org.get_instance(approval).state == "suspended"
    with pytest.raises(ConflictError):
        org.complete(task.id, GOOD, by="zhang")
    with pytest.raises(ConflictError):
        org.suspend(approval, by="admin")
    org.resume(approval, by="admin")
    org.complete(task.id, GOOD, by="zhang")
    assert org.open_tasks(instance_id=approval)[0].element_id == "check"


def test_a_failing_script_fails_only_its_instance_and_can_be_retried(org, approval):
    # given count 0, the script "ratio = 100 / count" divides by zero
    other = org.start("approval", by="zhang", org="v1")
    org.complete(org.open_tasks(instance_id=approval)[0].id, {**GOOD, "count": 0}, by="zhang")
    org.complete(org.open_tasks(instance_id=approval)[0].id, by="zhao")
    inst = org.get_instance(approval)
    assert inst.state == "failed"
    assert inst.error["element_id"] == "calc" and "division" in inst.error["message"]
    assert ("calc", "failed") in [(e.element_id, e.kind) for e in org.history(approval)]
    assert org.get_instance(other).state == "running"
    # retrying unchanged fails again; retrying with corrected data completes
    assert org.retry(approval, by="admin") == "failed"
    assert org.retry(approval, by="admin", data={"count": 5}) == "completed"
    inst = org.get_instance(approval)
    assert inst.data["ratio"] == 20 and inst.error is None
    with pytest.raises(ConflictError):
        org.retry(approval, by="admin")


def test_messages_and_signals_reach_waiting_instances(org, deploy):
    deploy("test_wait_message")
    a = org.start("wait_message", by="zhang", org="v1", business_key="A")
    b = org.start("wait_message", by="zhang", org="v1", business_key="B")
    with pytest.raises(NotFound):
        org.correlate_message("nobody_waits", {})
    with pytest.raises(ConflictError):
        org.correlate_message("county_reply", {"answer": "同意"})
    with pytest.raises(NotFound):
        org.correlate_message("county_reply", {}, correlation="C")
    assert org.correlate_message("county_reply", {"answer": "同意"}, correlation="A") == a
    assert org.get_instance(a).data["answer"] == "同意"
    # only a waits for the signal now; b still waits for its message
    assert org.send_signal("campaign_over", {}) == [a]
    assert org.get_instance(a).state == "completed"
    assert org.get_instance(b).state == "running"
    assert org.correlate_message("county_reply", {"answer": "不同意"}) == b
    assert org.send_signal("campaign_over") == [b]
    assert [e.element_id for e in org.history(b) if e.kind == "completed"] == [
        "start", "wait", "stop", "end"]
