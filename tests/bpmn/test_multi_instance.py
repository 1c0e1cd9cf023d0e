"""Multi-instance activities over a collection: parallel and sequential, user and script tasks.

The user-task diagrams assign each instance to the 书记 of the organisation named
by its item (``<duban:assignment role="书记" org="data:village"/>``), so the test
can tell the instances apart in the inbox: v1 → zhang, v2 → wang, t1 → sun.
"""
from __future__ import annotations

import pytest

SECRETARY = {"v1": "zhang", "v2": "wang", "t1": "sun"}
VILLAGES = ["v1", "v2", "t1"]


def _candidates(bpmn, iid: int) -> list[tuple[str, ...]]:
    return sorted(t.candidates for t in bpmn.open_tasks(instance_id=iid))


def _finish_as(bpmn, iid: int, person: str, data: dict) -> None:
    tasks = [t for t in bpmn.open_tasks(instance_id=iid) if person in t.candidates]
    assert len(tasks) == 1, f"{person} should hold exactly one open task"
    bpmn.eng.complete(tasks[0].id, data, by=person)


@pytest.mark.parametrize("order", [["v1", "v2", "t1"], ["t1", "v1", "v2"]],
                         ids=["input-order", "other-order"])
def test_multi_instance_parallel(bpmn, deploy, order):
    # given: rectify is a parallel multi-instance user task over villages,
    # collecting each instance's report into reports; then summarize (script)
    deploy("test_multi_instance_parallel")

    # when
    iid = bpmn.start("multi_instance_parallel", {"villages": VILLAGES}, by="zhang", org="v1")

    # then: one task per item, all open at once, each for that organisation's 书记
    assert bpmn.completed(iid) == ["start"]
    assert bpmn.open_elements(iid) == ["rectify", "rectify", "rectify"]
    assert _candidates(bpmn, iid) == [("sun",), ("wang",), ("zhang",)]

    # when: the instances are completed one by one
    for n, village in enumerate(order, start=1):
        _finish_as(bpmn, iid, SECRETARY[village], {"report": f"{village} 已整改"})
        if n < 3:
            # then: the activity is still running
            assert bpmn.completed(iid) == ["start"] + ["rectify"] * n
            assert len(bpmn.open_tasks(instance_id=iid)) == 3 - n

    # then: the three instances, then the activity itself, completed; outputs were
    # collected (SpiffWorkflow appends a parallel instance's output when it completes)
    assert bpmn.completed(iid) == ["start", "rectify", "rectify", "rectify", "rectify",
                                   "summarize", "end"]
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"villages": VILLAGES, "count": 3,
                         "reports": [f"{v} 已整改" for v in order]}


def test_multi_instance_sequential(bpmn, deploy):
    # given: the same activity, sequential
    deploy("test_multi_instance_sequential")

    # when
    iid = bpmn.start("multi_instance_sequential", {"villages": VILLAGES}, by="zhang", org="v1")

    # then: one instance at a time, in the order of the collection
    for n, village in enumerate(VILLAGES):
        assert bpmn.completed(iid) == ["start"] + ["rectify"] * n
        assert _candidates(bpmn, iid) == [(SECRETARY[village],)]
        _finish_as(bpmn, iid, SECRETARY[village], {"report": f"{village} 已整改"})

    # then
    assert bpmn.completed(iid) == ["start", "rectify", "rectify", "rectify", "rectify",
                                   "summarize", "end"]
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"villages": VILLAGES, "count": 3,
                         "reports": ["v1 已整改", "v2 已整改", "t1 已整改"]}


def _run_script_multi_instance(bpmn, deploy, mode: str) -> None:
    # given: label_each is a multi-instance script task over villages, collecting labels
    deploy(f"test_multi_instance_script_{mode}")

    # when
    iid = bpmn.start(f"multi_instance_script_{mode}", {"villages": ["v1", "v2", "v3"]},
                     by="zhang", org="v1")

    # then: it runs to the end in the start command; labels keep the input order
    assert bpmn.completed(iid) == ["start", "label_each", "label_each", "label_each",
                                   "label_each", "end"]
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"villages": ["v1", "v2", "v3"],
                         "labels": ["检查-v1", "检查-v2", "检查-v3"]}


def test_multi_instance_script_parallel(bpmn, deploy):
    _run_script_multi_instance(bpmn, deploy, "parallel")


def test_multi_instance_script_sequential(bpmn, deploy):
    _run_script_multi_instance(bpmn, deploy, "sequential")
