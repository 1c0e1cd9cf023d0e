"""Long-lived instances stay small: finished work leaves the stored tree.

SpiffWorkflow keeps every task it created; the runner drops what it no longer
reads after every command. These diagrams put loops where that is hardest:
inside one branch of a parallel split, and under boundary and event-subprocess
listeners that stay open for the whole loop.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from engine.models import ProcessInstance

DATA = Path(__file__).resolve().parent / "data"


def state_size(eng, iid: int) -> int:
    with eng.sessions() as s:
        return s.execute(select(func.length(ProcessInstance.state_json)).where(
            ProcessInstance.id == iid)).scalar_one()


def go_round(eng, iid: int, element: str = "work") -> None:
    task = next(t for t in eng.open_tasks(instance_id=iid) if t.element_id == element)
    eng.complete(task.id, {"done": False}, by="admin")


def test_a_loop_inside_a_parallel_branch_does_not_grow(org):
    org.deploy((DATA / "loop_in_parallel_branch.bpmn").read_text(), by="admin")
    iid = org.start("loop_in_parallel_branch", by="zhang", org="v1")
    for _ in range(10):
        go_round(org, iid)
    small = state_size(org, iid)
    for _ in range(150):
        go_round(org, iid)
    assert state_size(org, iid) < small * 1.05  # not 150 rounds of tasks (≈ +200 KB)
    # the other branch still joins correctly
    org.complete(next(t.id for t in org.open_tasks(instance_id=iid) if t.element_id == "work"),
                 {"done": True}, by="admin")
    assert org.get_instance(iid).state == "running"
    org.complete(org.open_tasks(instance_id=iid)[0].id, by="admin")
    assert org.get_instance(iid).state == "completed"
    completed = [e.element_id for e in org.history(iid) if e.kind == "completed"]
    assert completed.count("work") == 161 and completed[-3:] == ["watch", "join", "end"]


def test_listeners_stay_armed_while_the_loop_is_compacted(org):
    org.deploy((DATA / "loop_with_listeners.bpmn").read_text(), by="admin")
    iid = org.start("loop_with_listeners", by="zhang", org="v1")
    for _ in range(10):
        go_round(org, iid)
    small = state_size(org, iid)
    for _ in range(150):
        go_round(org, iid)
    assert state_size(org, iid) < small * 1.05  # not 150 rounds of tasks (≈ +200 KB)
    # the boundary message and the event subprocess still fire
    org.correlate_message("note", {"text": "请加快"})
    org.send_signal("audit_now")
    assert sorted(t.element_id for t in org.open_tasks(instance_id=iid)) == [
        "check", "read_note", "work"]
    for element in ("check", "read_note"):
        org.complete(next(t.id for t in org.open_tasks(instance_id=iid)
                          if t.element_id == element), by="admin")
    go_round(org, iid)
    org.complete(org.open_tasks(instance_id=iid)[0].id, {"done": True}, by="admin")
    inst = org.get_instance(iid)
    assert inst.state == "completed" and inst.data["text"] == "请加快"
