"""Approval verbs: transfer (转办), delegate/resolve (委派), add_signer/sign (加签), copy_to (抄送).

The approval diagram's first step 填报 goes to the secretary of v1 (zhang); li
is a cadre of v1, sun and zhao sit in the town, qian in its supervision office,
wang in the other village v2.
"""
from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select, update

from engine import ConflictError, Engine, NotFound, PermissionDenied, ValidationError
from engine.models import AuditEvent, Person
from tests.engine.test_tasks import GOOD


def audit(eng, action: str) -> list[tuple[str, dict]]:
    """(actor, detail) of every audit event of this action, oldest first."""
    with eng.sessions() as s:
        rows = s.execute(select(AuditEvent.actor, AuditEvent.detail).where(
            AuditEvent.action == action).order_by(AuditEvent.seq)).all()
    return [(actor, json.loads(detail)) for actor, detail in rows]


def timeline(eng, iid: int, element: str | None = "fill") -> list[tuple[str, str | None]]:
    return [(e.kind, e.by) for e in eng.history(iid) if e.element_id == element]


def notices_of(eng, who: str, kind: str) -> list[str]:
    return [n.title for n in reversed(eng.notifications(who)) if n.kind == kind]


def deactivate(eng, username: str) -> None:
    with eng.sessions() as s:
        s.execute(update(Person).where(Person.username == username).values(active=False))
        s.commit()


@pytest.fixture
def iid(org, deploy):
    deploy("test_approval")
    return org.start("approval", by="zhang", org="v1")


@pytest.fixture
def fill(org, iid):
    """The first task, claimed by zhang."""
    task = org.open_tasks(instance_id=iid)[0]
    return org.claim(task.id, by="zhang")


# -- 转办 -------------------------------------------------------------------------------

def test_the_holder_transfers_and_the_new_assignee_completes(org, iid, fill):
    version = org.get_instance(iid).lock_version
    # when zhang hands the task to li with a word of explanation
    task = org.transfer(fill.id, "li", by="zhang", comment="李四熟悉情况")
    # then li holds it, has been told, and the history and audit name both
    assert (task.assignee, task.owner, task.delegation) == ("li", None, None)
    assert org.get_instance(iid).lock_version > version
    assert notices_of(org, "li", "assigned") == ["【转办】审批：填报"]
    last = [e for e in org.history(iid) if e.kind == "transferred"][-1]
    assert (last.by, last.detail) == ("zhang", {"from": "zhang", "to": "li",
                                                "comment": "李四熟悉情况"})
    assert audit(org, "task.transferred") == [("zhang", {"from": "zhang", "to": "li",
                                                         "comment": "李四熟悉情况"})]
    with pytest.raises(PermissionDenied):
        org.complete(fill.id, GOOD, by="zhang")
    assert org.complete(fill.id, GOOD, by="li").ended_by == "li"
    assert org.open_tasks(instance_id=iid)[0].element_id == "check"


def test_a_candidate_or_a_supervisor_may_transfer(org, iid):
    task = org.open_tasks(instance_id=iid)[0]
    # an unclaimed task: its candidate may hand it on
    assert org.transfer(task.id, "li", by="zhang").assignee == "li"
    # the town's supervision office may move it although it holds nothing
    assert org.transfer(task.id, "sun", by="qian").assignee == "sun"


def test_transfer_refusals(org, iid, fill):
    with pytest.raises(PermissionDenied):
        org.transfer(fill.id, "li", by="wang")       # another village
    with pytest.raises(PermissionDenied):
        org.transfer(fill.id, "zhang", by="li")      # neither holder nor supervisor
    with pytest.raises(PermissionDenied) as err:
        org.transfer(fill.id, "wang", by="zhang")    # wang cannot see v1
    assert "wang cannot see 一村党支部" in str(err.value)
    with pytest.raises(ValidationError) as err:
        org.transfer(fill.id, "nobody", by="zhang")
    assert "to" in err.value.fields
    deactivate(org, "li")
    with pytest.raises(ValidationError):
        org.transfer(fill.id, "li", by="zhang")
    with pytest.raises(ValidationError):
        org.transfer(fill.id, "zhang", by="zhang")  # already his
    with pytest.raises(NotFound):
        org.transfer("00000000-0000-0000-0000-000000000000", "sun", by="zhang")
    assert org.get_task(fill.id).assignee == "zhang"
    assert audit(org, "task.transferred") == []


def test_two_racing_transfers_one_wins(org, iid, fill, db_url, clock, monkeypatch):
    if not db_url.startswith("postgresql"):
        pytest.skip("a race needs two connections writing at once (PostgreSQL)")
    from engine import handover

    # given two workers that have both read the task before either writes
    barrier = threading.Barrier(2, timeout=10)
    original = handover.refuse_while_away

    def both_loaded(*args, **kwargs):
        original(*args, **kwargs)
        barrier.wait()

    monkeypatch.setattr(handover, "refuse_while_away", both_loaded)
    other = Engine(db_url, clock=clock)
    results: list[object] = []

    def attempt(engine: Engine, to: str, by: str) -> None:
        try:
            results.append(engine.transfer(fill.id, to, by=by))
        except Exception as exc:  # the loser's error is the point of the test
            results.append(exc)

    threads = [threading.Thread(target=attempt, args=(org, "li", "zhang")),
               threading.Thread(target=attempt, args=(other, "sun", "qian"))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        other.dispose()
    # then one transfer won and the other was told of the conflict
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(results) == 2 and len(errors) == 1 and isinstance(errors[0], ConflictError)
    assert len([e for e in org.history(iid) if e.kind == "transferred"]) == 1


def test_verbs_refuse_closed_tasks_and_suspended_instances(org, iid, fill):
    org.suspend(iid, by="admin")
    with pytest.raises(ConflictError):
        org.transfer(fill.id, "li", by="zhang")
    with pytest.raises(ConflictError):
        org.delegate(fill.id, "li", by="zhang")
    with pytest.raises(ConflictError):
        org.add_signer(fill.id, ["li"], by="zhang")
    with pytest.raises(ConflictError):
        org.copy_to(["li"], by="zhang", instance_id=iid)
    org.resume(iid, by="admin")
    org.complete(fill.id, GOOD, by="zhang")
    for verb in (lambda: org.transfer(fill.id, "li", by="zhang"),
                 lambda: org.delegate(fill.id, "li", by="zhang"),
                 lambda: org.resolve(fill.id, by="zhang"),
                 lambda: org.add_signer(fill.id, ["li"], by="zhang"),
                 lambda: org.sign(fill.id, by="li", opinion="同意"),
                 lambda: org.copy_to(["li"], by="zhang", task_id=fill.id)):
        with pytest.raises(ConflictError):
            verb()


# -- 委派 -------------------------------------------------------------------------------

def test_delegation_round_trip_ends_in_the_owners_completion(org, iid, fill):
    # when zhang delegates to li
    task = org.delegate(fill.id, "li", by="zhang", comment="请先起草")
    assert (task.assignee, task.owner, task.delegation) == ("li", "zhang", "pending")
    assert notices_of(org, "li", "assigned") == ["【委派】审批：填报"]
    # then neither of them may complete it while it is away, and the message says why
    with pytest.raises(ConflictError) as err:
        org.complete(fill.id, GOOD, by="li")
    assert "resolves it" in str(err.value)
    with pytest.raises(ConflictError):
        org.complete(fill.id, GOOD, by="zhang")
    with pytest.raises(ConflictError):
        org.transfer(fill.id, "sun", by="li")
    with pytest.raises(PermissionDenied):
        org.resolve(fill.id, by="zhang")            # only the delegate resolves
    with pytest.raises(ValidationError) as err:
        org.resolve(fill.id, by="li", data={"count": 1000, "colour": "red"})
    assert set(err.value.fields) == {"count", "colour"}
    # when li hands it back with a draft (nothing is required yet)
    task = org.resolve(fill.id, by="li", comment="已起草", data={"title": "公开栏", "count": "3"})
    assert (task.assignee, task.owner, task.delegation) == ("zhang", "zhang", "resolved")
    assert notices_of(org, "zhang", "assigned") == ["【委派交回】审批：填报"]
    with pytest.raises(ConflictError):
        org.resolve(fill.id, by="li")
    with pytest.raises(PermissionDenied):
        org.complete(fill.id, GOOD, by="li")
    # then zhang completes from the draft: what he gives wins, the rest comes from li
    done = org.complete(fill.id, {"kind": "b", "count": 5}, by="zhang")
    assert (done.state, done.ended_by) == ("completed", "zhang")
    data = org.get_instance(iid).data
    assert (data["title"], data["count"], data["kind"]) == ("公开栏", 5, "b")
    assert [k for k, _ in timeline(org, iid)] == [
        "started", "claimed", "delegated", "resolved", "completed"]
    assert audit(org, "task.delegated")[0] == ("zhang", {"owner": "zhang", "to": "li",
                                                          "comment": "请先起草"})
    assert audit(org, "task.resolved")[0][1]["data"] == {"title": "公开栏", "count": 3}
    assert org.verify_audit().ok


def test_delegation_refusals(org, iid, fill):
    with pytest.raises(PermissionDenied):
        org.delegate(fill.id, "li", by="sun")        # not the holder
    with pytest.raises(PermissionDenied):
        org.delegate(fill.id, "wang", by="zhang")
    with pytest.raises(ValidationError):
        org.delegate(fill.id, "zhang", by="zhang")
    with pytest.raises(ConflictError):
        org.resolve(fill.id, by="zhang")             # nothing to resolve
    org.delegate(fill.id, "li", by="zhang")
    with pytest.raises(ConflictError):
        org.delegate(fill.id, "sun", by="li")        # a delegate does not delegate on
    with pytest.raises(PermissionDenied):
        org.resolve(fill.id, by="wang")


# -- 加签 -------------------------------------------------------------------------------

def test_signers_before_the_holder_sign_in_turn_then_the_holder_completes(org, iid, fill):
    task = org.add_signer(fill.id, ["li", "sun"], by="zhang", position="before",
                          comment="请两位先把关")
    assert (task.assignee, task.owner) == ("li", "zhang")
    assert notices_of(org, "li", "assigned") == ["【加签】审批：填报"]
    with pytest.raises(ConflictError):
        org.complete(fill.id, GOOD, by="zhang")
    with pytest.raises(ConflictError):
        org.complete(fill.id, GOOD, by="li")
    with pytest.raises(PermissionDenied) as err:
        org.sign(fill.id, by="sun", opinion="同意")
    assert "li's turn" in str(err.value)
    with pytest.raises(ValidationError):
        org.sign(fill.id, by="li", opinion="  ")
    assert org.sign(fill.id, by="li", opinion="情况属实").assignee == "sun"
    assert org.sign(fill.id, by="sun", opinion="同意上报").assignee == "zhang"
    assert notices_of(org, "zhang", "assigned") == ["【加签完成】审批：填报"]
    with pytest.raises(ConflictError):
        org.sign(fill.id, by="sun", opinion="再签")
    # the opinions are on the task and among the instance's comments
    signers = org.signers(fill.id, by="zhao")
    assert [(s.username, s.position, s.state, s.opinion) for s in signers] == [
        ("li", "before", "signed", "情况属实"), ("sun", "before", "signed", "同意上报")]
    assert [(c.author, c.body) for c in org.comments(iid, by="zhang")] == [
        ("li", "情况属实"), ("sun", "同意上报")]
    org.complete(fill.id, GOOD, by="zhang")
    assert org.open_tasks(instance_id=iid)[0].element_id == "check"
    assert [k for k, _ in timeline(org, iid)] == [
        "started", "claimed", "signers_added", "signed", "signed", "completed"]
    assert [a for a, _ in audit(org, "task.signed")] == ["li", "sun"]
    assert audit(org, "task.signers_added")[0][1]["signers"] == ["li", "sun"]


def test_signers_after_the_holder_the_process_moves_on_after_the_last(org, iid, fill):
    org.add_signer(fill.id, ["li"], by="zhang", position="after")
    org.add_signer(fill.id, "sun", by="zhang", position="after")
    assert org.get_task(fill.id).assignee == "zhang"
    with pytest.raises(ValidationError):
        org.complete(fill.id, {"title": "x"}, by="zhang")   # checked before it is kept
    assert org.get_task(fill.id).assignee == "zhang"
    # when zhang completes, the task goes to the first signer instead of ending
    task = org.complete(fill.id, GOOD, by="zhang")
    assert (task.state, task.assignee, task.owner) == ("open", "li", "zhang")
    assert [t.element_id for t in org.open_tasks(instance_id=iid)] == ["fill"]
    assert "title" not in org.get_instance(iid).data
    with pytest.raises(ConflictError):
        org.complete(fill.id, GOOD, by="li")
    assert org.sign(fill.id, by="li", opinion="同意").assignee == "sun"
    assert [t.element_id for t in org.open_tasks(instance_id=iid)] == ["fill"]
    # then the last signature completes the step with zhang's data
    done = org.sign(fill.id, by="sun", opinion="同意，报镇审核")
    assert (done.state, done.assignee, done.ended_by) == ("completed", "zhang", "sun")
    assert org.open_tasks(instance_id=iid)[0].element_id == "check"
    assert org.get_instance(iid).data["title"] == GOOD["title"]
    assert [k for k, _ in timeline(org, iid)] == [
        "started", "claimed", "signers_added", "signers_added", "submitted", "signed", "signed",
        "completed"]
    assert audit(org, "task.completed")[0] == ("sun", audit(org, "task.completed")[0][1])
    assert audit(org, "task.submitted")[0][1]["signers"] == ["li", "sun"]
    assert [s.seq for s in org.signers(fill.id, by="zhang")] == [1, 2]


def test_add_signer_refusals(org, iid, fill):
    with pytest.raises(ValidationError):
        org.add_signer(fill.id, ["li"], by="zhang", position="middle")
    with pytest.raises(ValidationError):
        org.add_signer(fill.id, [], by="zhang")
    with pytest.raises(ValidationError):
        org.add_signer(fill.id, ["zhang"], by="zhang")
    with pytest.raises(ValidationError):
        org.add_signer(fill.id, ["li", "ghost"], by="zhang")
    with pytest.raises(PermissionDenied):
        org.add_signer(fill.id, ["li", "wang"], by="zhang")
    with pytest.raises(PermissionDenied):
        org.add_signer(fill.id, ["sun"], by="li")
    org.add_signer(fill.id, ["li"], by="zhang", position="after")
    with pytest.raises(ValidationError):
        org.add_signer(fill.id, ["li"], by="zhang", position="after")
    with pytest.raises(ConflictError):
        org.sign(fill.id, by="li", opinion="早了")   # not before zhang has completed
    org.add_signer(fill.id, ["sun"], by="zhang")
    with pytest.raises(ConflictError):
        org.add_signer(fill.id, ["zhao"], by="zhang")
    with pytest.raises(PermissionDenied):
        org.signers(fill.id, by="wang")


# -- 抄送 -------------------------------------------------------------------------------

def test_copy_an_instance_and_a_task(org, iid, fill):
    copies = org.copy_to(["sun", "li"], by="zhang", instance_id=iid, note="请知悉")
    assert [(c.recipient, c.task_id, c.note) for c in copies] == [
        ("sun", None, "请知悉"), ("li", None, "请知悉")]
    assert notices_of(org, "sun", "copy") == [f"【抄送】审批：#{iid}"]
    org.copy_to("sun", by="qian", task_id=fill.id)
    mine = org.copies("sun")
    assert [c.task_id for c in mine] == [fill.id, None]
    assert [(e.kind, e.element_id, e.by) for e in org.history(iid) if e.kind == "copied"] == [
        ("copied", None, "zhang"), ("copied", "fill", "qian")]
    assert [a for a, _ in audit(org, "instance.copied")] == ["zhang"]
    assert audit(org, "task.copied")[0][1]["recipients"] == ["sun"]
    # read by the recipient only
    with pytest.raises(NotFound):
        org.mark_copy_read(mine[1].id, by="li")
    assert org.mark_copy_read(mine[1].id, by="sun").read_at is not None
    assert [c.id for c in org.copies("sun", unread_only=True)] == [mine[0].id]


def test_copy_refusals(org, iid, fill):
    with pytest.raises(PermissionDenied):
        org.copy_to(["li"], by="wang", instance_id=iid)
    with pytest.raises(PermissionDenied):
        org.copy_to(["wang"], by="zhang", instance_id=iid)
    with pytest.raises(ValidationError):
        org.copy_to(["li"], by="zhang", instance_id=iid, task_id=fill.id)
    with pytest.raises(ValidationError):
        org.copy_to(["li"], by="zhang")
    with pytest.raises(ValidationError):
        org.copy_to(["zhang"], by="zhang", instance_id=iid)
    with pytest.raises(NotFound):
        org.copy_to(["li"], by="zhang", instance_id=iid + 100)
    assert org.copies("li") == []
