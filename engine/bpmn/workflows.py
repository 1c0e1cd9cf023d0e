"""The few things commands do to a SpiffWorkflow workflow, named for what they mean."""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition, TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.runner import Run, all_tasks, tree_size

#: tasks a command may add to the tree before it is compacted mid-command
COMPACT_EVERY = 50


def new_workflow(spec: Any, subprocess_specs: dict[str, Any], script_engine: Any,
                 data: dict[str, Any]) -> BpmnWorkflow:
    """A new workflow holding *data*, its timer start events already fired.

    An instance of a process with a timer start event is created when that
    timer falls due (by a ``start_timer`` job) or by a person on purpose; in
    both cases it must start now, not wait for the timer again.
    """
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
    workflow.task_tree.data.update(data)
    for task in workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK):
        if isinstance(task.task_spec, StartEvent) and \
                isinstance(task.task_spec.event_definition, TimerEventDefinition):
            task._set_internal_data(event_fired=True)
            if isinstance(task.task_spec.event_definition, CycleTimerEventDefinition) \
                    and not task.children:
                # Spiff gives a cycle timer's event no successors until a cycle fires;
                # this firing is the one, so the flow after the start event must exist
                for output in task.task_spec.outputs:
                    child = task._add_child(output, TaskState.FUTURE)
                    child.task_spec._predict(child, mask=TaskState.NOT_FINISHED_MASK)
    return workflow


def run_automatic_steps(workflow: BpmnWorkflow, run: Run) -> None:
    """``BpmnWorkflow.do_engine_steps()``, compacting the tree on the way.

    SpiffWorkflow finds ready steps by walking the tree and stops 1000 levels
    down, so a loop of automatic steps (script → gateway → back) stalls after
    ~330 rounds in one command, and each step costs a walk over everything
    the command has done so far. Recording and compacting every
    ``COMPACT_EVERY`` new tasks keeps the walk short and the loop going.
    """
    limit = tree_size(workflow) + COMPACT_EVERY
    while workflow._do_engine_steps():
        if tree_size(workflow) > limit:
            run.checkpoint()
            limit = tree_size(workflow) + COMPACT_EVERY
    workflow.refresh_timers()


def start_timers(spec: Any) -> list[tuple[str, str, str | None]]:
    """(element id, timer text, organisation kind) of each timer start event of a process.

    The kind comes from ``duban:startsFor``: one instance per organisation of
    that kind (each town, say); None means one instance with no organisation.

    Only timers written as ISO text can start instances on a calendar; an
    expression needs instance data, which a process not yet started lacks.
    """
    found = []
    for task_spec in spec.task_specs.values():
        definition = getattr(task_spec, "event_definition", None)
        if isinstance(task_spec, StartEvent) and isinstance(definition, TimerEventDefinition) \
                and getattr(definition, "iso", False):
            starts_for = (getattr(task_spec, "extensions", None) or {}).get("startsFor") or {}
            found.append((task_spec.bpmn_id, definition.expression, starts_for.get("kind")))
    return sorted(found)


def start_form(spec: Any) -> list[dict[str, Any]]:
    """The ``duban:form`` on the process's start event, if any."""
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, StartEvent) and getattr(task_spec, "extensions", None):
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


def vote_rule(task_spec: Any) -> dict[str, Any] | None:
    return (getattr(task_spec, "extensions", None) or {}).get("vote")
