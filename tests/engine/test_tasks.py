"""Task commands: claim, unclaim, complete — and two people racing for one task."""
from __future__ import annotations

import threading

import pytest

from engine import ConflictError, Engine, NotFound, PermissionDenied, ValidationError

GOOD = {"title": "公开栏", "count": 4, "kind": "a", "due": "2026-12-01"}


@pytest.fixture
def approval(org, deploy):
    deploy("test_approval")
    return org.start("approval", by="zhang", org="v1")


def test_task_goes_to_role_holders_of_the_instance_org(org, approval):
    task = org.open_tasks(instance_id=approval)[0]
    assert (task.element_id, task.assignee, task.candidates) == ("fill", None, ("zhang",))
    assert [f["name"] for f in task.form] == ["title", "count", "kind", "due"]
    assert org.open_tasks(candidate_of="zhang")[0].id == task.id
    assert org.open_tasks(candidate_of="wang") == []


def test_claim_and_unclaim(org, approval):
    task = org.open_tasks(instance_id=approval)[0]
    # when zhang claims, then the task is his and no longer offered to candidates
    assert org.claim(task.id, by="zhang").assignee == "zhang"
    assert org.open_tasks(assignee="zhang")[0].id == task.id
    assert org.open_tasks(candidate_of="zhang") == []
    # claiming again is harmless; someone else cannot take it
    assert org.claim(task.id, by="zhang").assignee == "zhang"
    with pytest.raises(ConflictError):
        org.claim(task.id, by="wang")
    # when he gives it back, then it is offered again
    assert org.unclaim(task.id, by="zhang").assignee is None
    with pytest.raises(ConflictError):
        org.unclaim(task.id, by="zhang")
    kinds = [e.kind for e in org.history(approval) if e.element_id == "fill"]
    assert kinds == ["started", "claimed", "unclaimed"]


def test_complete_validates_every_field_and_keeps_the_task_open(org, approval):
    task = org.open_tasks(instance_id=approval)[0]
    with pytest.raises(ValidationError) as err:
        org.complete(task.id, {"title": "x" * 21, "count": 101, "kind": "z", "due": "soon",
                               "extra": 1}, by="zhang")
    assert set(err.value.fields) == {"title", "count", "kind", "due", "extra"}
    with pytest.raises(ValidationError) as err:
        org.complete(task.id, {}, by="zhang")
    assert err.value.fields == {"title": "is required", "kind": "is required"}
    assert org.open_tasks(instance_id=approval)[0].id == task.id
    done = org.complete(task.id, {**GOOD, "count": "4"}, by="zhang")
    assert (done.state, done.assignee, done.ended_by) == ("completed", "zhang", "zhang")
    assert org.get_instance(approval).data["count"] == 4


def test_only_a_candidate_may_complete(org, approval):
    task = org.open_tasks(instance_id=approval)[0]
    with pytest.raises(PermissionDenied):
        org.complete(task.id, GOOD, by="wang")
    with pytest.raises(PermissionDenied):
        org.complete(task.id, GOOD, by="nobody")
    with pytest.raises(NotFound):
        org.complete("00000000-0000-0000-0000-000000000000", GOOD, by="zhang")


def test_completing_twice_is_a_conflict(org, approval):
    task = org.open_tasks(instance_id=approval)[0]
    org.complete(task.id, GOOD, by="zhang")
    with pytest.raises(ConflictError):
        org.complete(task.id, GOOD, by="zhang")


def test_next_task_goes_up_to_the_town(org, approval):
    org.complete(org.open_tasks(instance_id=approval)[0].id, GOOD, by="zhang")
    task = org.open_tasks(instance_id=approval)[0]
    assert (task.element_id, task.candidates) == ("check", ("zhao",))


def test_two_threads_completing_one_task_one_wins(org, approval, db_url, clock):
    # given one open task, and two engines as two web workers would have
    task = org.open_tasks(instance_id=approval)[0]
    other = Engine(db_url, clock=clock)
    barrier = threading.Barrier(2, timeout=10)
    results: list[object] = []

    if db_url.startswith("postgresql"):
        # make both commands load the instance before either commits
        from engine.bpmn import workflows

        original = workflows.complete_human_task

        def slow(task, data):
            original(task, data)
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass

        workflows.complete_human_task = slow

    def attempt(engine: Engine) -> None:
        try:
            results.append(engine.complete(task.id, GOOD, by="zhang"))
        except Exception as exc:  # the loser's error is the point of the test
            results.append(exc)

    try:
        threads = [threading.Thread(target=attempt, args=(e,)) for e in (org, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        other.dispose()
        if db_url.startswith("postgresql"):
            workflows.complete_human_task = original
    # then exactly one succeeded and the other was told of the conflict
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(results) == 2 and len(errors) == 1, results
    assert isinstance(errors[0], ConflictError)
    completions = [e for e in org.history(approval) if e.element_id == "fill"
                   and e.kind == "completed"]
    assert len(completions) == 1
    assert org.open_tasks(instance_id=approval)[0].element_id == "check"
