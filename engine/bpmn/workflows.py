"""The few things commands do to a SpiffWorkflow workflow, named for what they mean."""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.runner import all_tasks


def new_workflow(spec: Any, subprocess_specs: dict[str, Any], script_engine: Any,
                 data: dict[str, Any]) -> BpmnWorkflow:
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
    workflow.task_tree.data.update(data)
    return workflow


def start_form(spec: Any) -> list[dict[str, Any]]:
    """The ``duban:form`` on the process's start event, if any."""
    for task_spec in spec.task_specs.values():
        if type(task_spec).__name__ == "StartEvent" and getattr(task_spec, "extensions", None):
            form = task_spec.extensions.get("form")
            if form:
                return list(form)
    return []


def reset_failed(workflow: BpmnWorkflow, patch: dict[str, Any]) -> list[str]:
    """Make every failed step ready to run again; return their element ids."""
    failed = [t for t in all_tasks(workflow) if t.state == TaskState.ERROR]
    for task in failed:
        task.data.update(patch)
        task._set_state(TaskState.READY)
    return [t.task_spec.bpmn_id for t in failed]


def deliver_message(workflow: BpmnWorkflow, name: str, payload: dict[str, Any]) -> None:
    workflow.catch(BpmnEvent(MessageEventDefinition(name), payload=payload))


def deliver_signal(workflow: BpmnWorkflow, name: str, payload: dict[str, Any]) -> None:
    workflow.catch(BpmnEvent(SignalEventDefinition(name), payload=payload))


def is_ready(task: Any) -> bool:
    return bool(task.state == TaskState.READY)


def complete_human_task(task: Any, data: dict[str, Any]) -> None:
    task.data.update(data)
    task.run()


def human_form(task_spec: Any) -> list[dict[str, Any]]:
    return list((getattr(task_spec, "extensions", None) or {}).get("form") or [])
