"""Activities: user task, manual task, script task, service task (with resultVariable)."""
from __future__ import annotations

from typing import Any


def test_user_task(bpmn, deploy):
    # given: start → review (user task with a form, no assignment rule) → end
    deploy("test_user_task")
    iid = bpmn.start("user_task", {"title": "整改通知"}, by="zhang", org="v1")

    # then: the instance waits in the starter's inbox
    task = bpmn.task(iid, "review")
    assert (task.assignee, task.state, task.name) == ("zhang", "open", "审核")
    assert [f["name"] for f in task.form] == ["approved", "comment"]
    assert [t.element_id for t in bpmn.open_tasks(assignee="zhang")] == ["review"]
    assert bpmn.completed(iid) == ["start"]
    assert bpmn.get_instance(iid).state == "running"

    # when: the starter completes it
    bpmn.finish(iid, "review", {"approved": True, "comment": "同意"}, by="zhang")

    # then
    assert bpmn.completed(iid) == ["start", "review", "end"]
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"title": "整改通知", "approved": True, "comment": "同意"}
    assert bpmn.get_task(task.id).state == "completed"
    assert bpmn.open_tasks(instance_id=iid) == []


def test_manual_task(bpmn, deploy):
    # given: start → visit (manual task) → end
    deploy("test_manual_task")
    iid = bpmn.start("manual_task", by="zhang", org="v1")

    # then: a manual task is a human task in the starter's inbox too
    task = bpmn.task(iid, "visit")
    assert (task.assignee, task.state) == ("zhang", "open")
    assert [t.element_id for t in bpmn.open_tasks(assignee="zhang")] == ["visit"]

    # when
    bpmn.finish(iid, "visit", {"visited": True}, by="zhang")

    # then
    assert bpmn.completed(iid) == ["start", "visit", "end"]
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"visited": True}


def test_script_task(bpmn, deploy):
    # given: start → compute (script) → check (user task) → end
    deploy("test_script_task")

    # when
    iid = bpmn.start("script_task", {"items": [3, 4, 5]}, by="zhang", org="v1")

    # then: what the script set is instance data while the user task waits
    assert bpmn.completed(iid) == ["start", "compute"]
    assert bpmn.get_instance(iid).data == {"items": [3, 4, 5], "total": 12, "count": 3,
                                           "label": "共3项"}
    assert bpmn.task(iid, "check").assignee == "zhang"

    # when
    bpmn.finish(iid, "check", by="zhang")

    # then
    assert bpmn.completed(iid) == ["start", "compute", "check", "end"]
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"items": [3, 4, 5], "total": 12, "count": 3, "label": "共3项"}


def test_service_task(bpmn, deploy):
    # given: a handler registered by name, and start → lookup (service task) → end
    calls: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def lookup_village(data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # the directory answers only while the command runs
        kwargs["directory"] = kwargs["directory"].organisation()
        calls.append((dict(data), kwargs))
        data["scribble"] = True  # the handler gets a copy: this must not leak
        return {"village": "一村", "households": 120}

    bpmn.register_service("lookup_village", lookup_village)
    deploy("test_service_task")

    # when
    iid = bpmn.start("service_task", {"code": "v1"}, by="zhang", org="v1",
                     business_key="BK-svc")

    # then: the handler ran once with the data and the keyword facts
    assert bpmn.completed(iid) == ["start", "lookup", "end"]
    assert len(calls) == 1 and calls[0][0] == {"code": "v1"}
    facts = dict(calls[0][1])
    assert facts.pop("directory") == {"code": "v1", "name": "一村党支部", "kind": "branch"}
    assert facts == {"element_id": "lookup", "instance_id": iid, "business_key": "BK-svc"}
    inst = bpmn.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data == {"code": "v1", "village": "一村", "households": 120}


def test_service_task_result_variable(bpmn, deploy):
    # given: a handler whose result is stored under resultVariable="result"
    bpmn.register_service("score_village", lambda data, **kw: {"score": data["base"] + 5})
    deploy("test_service_task_result_variable")

    # when / then: score 80 takes the conditional flow
    high = bpmn.start("service_task_result_variable", {"base": 75}, by="zhang", org="v1")
    assert bpmn.completed(high) == ["start", "score", "decide", "end_pass"]
    inst = bpmn.get_instance(high)
    assert inst.state == "completed"
    assert inst.data == {"base": 75, "result": {"score": 80}}

    # when / then: score 65 takes the default flow; the dict is not merged into data
    low = bpmn.start("service_task_result_variable", {"base": 60}, by="zhang", org="v1")
    assert bpmn.completed(low) == ["start", "score", "decide", "end_fail"]
    inst = bpmn.get_instance(low)
    assert inst.state == "completed"
    assert inst.data == {"base": 60, "result": {"score": 65}}
    assert "score" not in inst.data
