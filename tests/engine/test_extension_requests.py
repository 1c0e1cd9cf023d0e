"""Deadline extension requests (延期申请): the holder asks, a supervisor decides.

The 责任分解 step of the deadline diagram goes to the town's 组织委员 (zhao) with
three working days; sun is the town's secretary and 领导, qian its supervision
office, liu the county's 领导, wang the secretary of the other village.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine import ConflictError, NotFound, PermissionDenied, ValidationError
from tests.engine.test_approvals import audit
from tests.engine.test_deadlines import DATA, open_task
from tests.fixtures.time import advance_to, bj, end_of


@pytest.fixture
def leaders(org):
    org.grant_role("sun", "领导", "t1")
    org.add_person("liu", "刘部长")
    org.grant_role("liu", "领导", "c1")
    org.deploy((DATA / "deadline_item.bpmn").read_text(encoding="utf-8"), by="admin")
    return org


@pytest.fixture
def assign(leaders, clock):
    eng = leaders
    # Tue 2026-09-01: 3 working days → due Fri Sep 4, warned on Sep 3
    clock.set(bj("2026-09-01T09:00"))
    iid = eng.start("deadline_item", {"rectify_days": 10}, by="zhang", org="v1")
    return open_task(eng, iid, "assign")


def kinds(eng, who: str) -> list[str]:
    return [n.kind for n in reversed(eng.notifications(who))]


def test_approval_moves_the_limit_and_the_light(leaders, clock, assign):
    eng = leaders
    advance_to(eng, clock, bj("2026-09-04T12:00"))
    assert open_task(eng, assign.instance_id, "assign").light == "yellow"
    # when the holder asks for three more working days
    asked = eng.request_extension(assign.id, by="zhao", reason="需走访五个村", working_days=3)
    assert (asked.state, asked.requested_by, asked.working_days, asked.due_at) == (
        "pending", "zhao", 3, end_of("2026-09-04"))
    # then the town's supervisors and the county hear of it (not the asker, not admins)
    for who in ("sun", "qian", "liu"):
        assert kinds(eng, who)[-1] == "extension", who
    assert "extension" not in kinds(eng, "zhao") + kinds(eng, "admin") + kinds(eng, "zhang")
    assert [r.id for r in eng.pending_extension_requests(by="qian")] == [asked.id]
    assert [r.id for r in eng.pending_extension_requests(by="admin")] == [asked.id]
    assert eng.pending_extension_requests(by="zhao") == []      # one's own
    assert eng.pending_extension_requests(by="wang") == []      # another village
    # when the supervision office approves
    decided = eng.decide_extension(asked.id, approve=True, by="qian", note="同意")
    assert (decided.state, decided.decided_by, decided.decision_note) == (
        "approved", "qian", "同意")
    # then the limit moved as a supervisor's own extension moves it: Sep 7, 8, 9
    task = open_task(eng, assign.instance_id, "assign")
    assert (task.due_at, task.warn_at, task.light) == (
        end_of("2026-09-09"), end_of("2026-09-08"), "green")
    assert eng.get_instance(assign.instance_id).light == "green"
    assert decided.due_at == end_of("2026-09-09")
    # the requester is told once (by the extension notice), and the decision is recorded
    assert kinds(eng, "zhao")[-1] == "extended" and "extension" not in kinds(eng, "zhao")
    assert [e.kind for e in eng.history(assign.instance_id)
            if e.element_id == "assign"][-2:] == ["extension_requested", "extension_approved"]
    assert audit(eng, "extension.approved")[0][0] == "qian"
    assert audit(eng, "task.deadline_extended")[0][1]["reason"] == "需走访五个村"
    assert eng.pending_extension_requests(by="qian") == []
    with pytest.raises(ConflictError):
        eng.decide_extension(asked.id, approve=False, by="sun")
    # the old due day passes without a red light
    advance_to(eng, clock, bj("2026-09-07T09:00"))
    assert open_task(eng, assign.instance_id, "assign").light == "green"
    assert eng.verify_audit().ok


def test_a_request_for_a_new_due_time(leaders, assign):
    eng = leaders
    asked = eng.request_extension(assign.id, by="zhao", reason="节后办理",
                                  due=bj("2026-09-15T18:00"))
    eng.decide_extension(asked.id, approve=True, by="sun")
    assert open_task(eng, assign.instance_id, "assign").due_at == bj("2026-09-15T18:00")


def test_rejection_keeps_the_limit_and_tells_the_requester(leaders, assign):
    eng = leaders
    asked = eng.request_extension(assign.id, by="zhao", reason="人手不足", working_days=2)
    with pytest.raises(PermissionDenied):
        eng.decide_extension(asked.id, approve=True, by="wang")
    with pytest.raises(PermissionDenied):
        eng.decide_extension(asked.id, approve=True, by="zhao")   # supervises t1, but asked
    with pytest.raises(ValidationError):
        eng.decide_extension(asked.id, approve="yes", by="sun")
    decided = eng.decide_extension(asked.id, approve=False, by="sun", note="请按期完成")
    assert decided.state == "rejected"
    assert open_task(eng, assign.instance_id, "assign").due_at == end_of("2026-09-04")
    notice = eng.notifications("zhao")[0]
    assert (notice.kind, notice.body) == ("extension", "您的延期申请未获批准。意见：请按期完成")
    assert audit(eng, "extension.rejected")[0][1]["note"] == "请按期完成"
    # a new request may follow a decided one
    eng.request_extension(assign.id, by="zhao", reason="确需延期", working_days=1)


def test_one_pending_request_per_task_and_withdrawal(leaders, assign):
    eng = leaders
    asked = eng.request_extension(assign.id, by="zhao", reason="第一次", working_days=2)
    with pytest.raises(ConflictError):
        eng.request_extension(assign.id, by="zhao", reason="第二次", working_days=2)
    with pytest.raises(PermissionDenied):
        eng.withdraw_extension_request(asked.id, by="sun")
    assert eng.withdraw_extension_request(asked.id, by="zhao").state == "withdrawn"
    with pytest.raises(ConflictError):
        eng.withdraw_extension_request(asked.id, by="zhao")
    with pytest.raises(ConflictError):
        eng.decide_extension(asked.id, approve=True, by="sun")
    with pytest.raises(NotFound):
        eng.decide_extension(asked.id + 100, approve=True, by="sun")
    assert eng.request_extension(assign.id, by="zhao", reason="第二次",
                                 working_days=2).state == "pending"
    assert audit(eng, "extension.withdrawn")[0][0] == "zhao"


def test_request_refusals(leaders, clock, assign):
    eng = leaders
    with pytest.raises(ValidationError):
        eng.request_extension(assign.id, by="zhao", reason=" ", working_days=2)
    with pytest.raises(ValidationError):
        eng.request_extension(assign.id, by="zhao", reason="原因")
    with pytest.raises(ValidationError):
        eng.request_extension(assign.id, by="zhao", reason="原因", working_days=2,
                              due=bj("2026-09-20T18:00"))
    with pytest.raises(ValidationError):
        eng.request_extension(assign.id, by="zhao", reason="原因", working_days=0)
    with pytest.raises(ValidationError):
        eng.request_extension(assign.id, by="zhao", reason="原因",
                              due=end_of("2026-09-04") - timedelta(hours=1))
    with pytest.raises(PermissionDenied):
        eng.request_extension(assign.id, by="sun", reason="原因", working_days=2)
    with pytest.raises(PermissionDenied):
        eng.request_extension(assign.id, by="wang", reason="原因", working_days=2)
    asked = eng.request_extension(assign.id, by="zhao", reason="原因", working_days=2)
    # the task is done before anyone decides: the request can no longer be granted
    eng.complete(assign.id, {"responsible_person": "li", "lead_leader": "sun"}, by="zhao")
    with pytest.raises(ConflictError):
        eng.decide_extension(asked.id, approve=True, by="sun")
    with pytest.raises(ConflictError):
        eng.request_extension(assign.id, by="zhao", reason="原因", working_days=2)
    assert eng.pending_extension_requests(by="sun") == []


def test_a_task_without_a_limit_cannot_be_extended(org, deploy):
    deploy("test_approval")
    iid = org.start("approval", by="zhang", org="v1")
    task = org.open_tasks(instance_id=iid)[0]
    with pytest.raises(ConflictError):
        org.request_extension(task.id, by="zhang", reason="原因", working_days=2)
