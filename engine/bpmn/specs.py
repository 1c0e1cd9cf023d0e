"""Task spec subclasses that carry duban behaviour into SpiffWorkflow."""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, ServiceTask, StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState


class DubanServiceTask(ServiceTask):
    """A service task that calls a Python handler registered by name.

    SpiffWorkflow's own service task does nothing and leaves the task started
    forever; ours asks the script engine (which holds the handler registry).
    """

    def _execute(self, task: Any) -> bool:
        service = getattr(self, "extensions", {}).get("service", {})
        task.workflow.script_engine.call_service(
            task, handler=service.get("handler"), result_variable=service.get("result_variable"))
        return True


class DubanStartEvent(StartEvent):
    """A start event that knows ``isInterrupting``.

    SpiffWorkflow 3.2 ignores the attribute, so an interrupting event
    subprocess runs next to the flow it should have cancelled. When the start
    event of an interrupting event subprocess fires, every other branch of the
    enclosing (sub)process is cancelled, as BPMN requires.
    """

    def __init__(self, wf_spec: Any, bpmn_id: str, event_definition: Any,
                 interrupting: bool = True, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, event_definition, **kwargs)
        self.interrupting = interrupting

    def _run_hook(self, my_task: Any) -> bool:
        result = super()._run_hook(my_task)
        if self.interrupting:
            _interrupt_enclosing(my_task)
        return result


def _interrupt_enclosing(my_task: Any) -> None:
    workflow = my_task.workflow
    parent_id = getattr(workflow, "parent_task_id", None)
    if parent_id is None:
        return  # the start event of a process
    event_subprocess = workflow.top_workflow.get_task_from_id(parent_id)
    enclosing = event_subprocess.workflow
    if event_subprocess.task_spec.name not in getattr(enclosing.spec.start, "trigger_specs", ()):
        return  # an embedded subprocess, not an event subprocess
    for child in list(enclosing.task_tree.children):
        if child is not event_subprocess:
            child.cancel()
    # the cancelled flow held the way to the end; the event subprocess takes it over
    event_subprocess.task_spec._predict(event_subprocess, mask=TaskState.STARTED)


class DubanBoundaryEvent(BoundaryEvent):
    """A boundary event that, when non-interrupting, listens again after it fires.

    BPMN lets a non-interrupting boundary event fire as often as its event
    occurs while the activity runs (a second 催办 message must open a second
    reply); SpiffWorkflow 3.2 arms it once. Timers are left to SpiffWorkflow
    (a cycle timer repeats by itself).
    """

    def _run_hook(self, my_task: Any) -> bool:
        result = super()._run_hook(my_task)
        if not self.cancel_activity and not isinstance(self.event_definition,
                                                       TimerEventDefinition):
            split = my_task.parent
            if split is not None and isinstance(split.task_spec, BoundaryEventSplit):
                main = next((c for c in split.children
                             if not isinstance(c.task_spec, BoundaryEvent)), None)
                if main is not None and not main.has_state(TaskState.FINISHED_MASK):
                    again = split._add_child(self, TaskState.WAITING)
                    self._predict(again, mask=TaskState.NOT_FINISHED_MASK)
                    self._update(again)
        return result
