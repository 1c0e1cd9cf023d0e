"""Long loops: SpiffWorkflow keeps every task it created, and its task iterator stops at
depth 1000, so a loop stalls after ~330 rounds unless the engine compacts the tree."""
from __future__ import annotations

import time

import pytest

ROUNDS = 1_000
ITERATIONS = 10_000


@pytest.mark.slow
def test_user_task_loop_1000(org, deploy):
    # given: init (rounds = 0) → merge → work (user task) → count (rounds += 1)
    # → split [rounds < limit → merge | default → end]
    deploy("test_user_task_loop_1000")
    iid = org.start("user_task_loop", {"limit": ROUNDS}, by="zhang", org="v1")

    # when: the user task is completed 1,000 times
    for n in range(1, ROUNDS + 1):
        tasks = org.open_tasks(instance_id=iid)
        assert [t.element_id for t in tasks] == ["work"], f"round {n}"
        org.complete(tasks[0].id, {"note": f"第{n}轮"}, by="zhang")

    # then: every round is in the history, in order, and the counter is right
    events = org.history(iid)
    completed = [e.element_id for e in events if e.kind == "completed"]
    assert completed == (["start", "init"] + ["merge", "work", "count", "split"] * ROUNDS
                         + ["end"])
    inst = org.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"limit": ROUNDS, "rounds": ROUNDS, "note": f"第{ROUNDS}轮"}
    assert org.open_tasks(instance_id=iid) == []


@pytest.mark.slow
def test_script_loop_10000(org, deploy, record_property):
    # given: init (i = 0) → merge → step (i += 1) → split [i < 10000 → merge | default → end]
    deploy("test_script_loop_10000")

    # when: one start command runs the whole loop
    began = time.perf_counter()
    iid = org.start("script_loop", by="zhang", org="v1")
    elapsed = time.perf_counter() - began
    record_property("script_loop_10000_seconds", round(elapsed, 2))
    print(f"\n10,000-iteration script loop: start() took {elapsed:.2f}s")

    # then: the loop ran to the end within that command
    inst = org.get_instance(iid)
    assert inst.error is None
    assert inst.state == "completed"
    assert inst.data == {"i": ITERATIONS}
    completed = [e.element_id for e in org.history(iid) if e.kind == "completed"]
    assert completed == ["start", "init"] + ["merge", "step", "split"] * ITERATIONS + ["end"]
