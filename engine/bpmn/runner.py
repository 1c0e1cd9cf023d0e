"""Driving SpiffWorkflow for one command: load → act → engine steps → changes.

A :class:`Run` wraps one loaded workflow. It snapshots task states before the
command acts, runs the engine, then reports what changed (history events,
human tasks opened and closed, waiting message/signal catches, data) and
compacts the task tree so the stored state holds only the live part.

Why compaction: SpiffWorkflow keeps every task it ever created, so a
rectification loop (submit → review → send back) grows the tree, the stored
JSON and the cost of every step with each round, and past ~330 rounds the
task iterator's depth limit silently stalls the instance. Finished work is
already recorded in history rows, so after each command we keep only the
finished tasks SpiffWorkflow still reads (listed above ``_keep_set``) and the
unfinished ones, and drop the rest. This holds inside parallel branches and
subprocesses too, so no construct makes a long-lived instance grow.
"""
from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.timers import timer_due

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
#: tasks compaction must keep: not finished, or failed and waiting for a retry
LIVE = TaskState.NOT_FINISHED_MASK | TaskState.ERROR


@dataclass(frozen=True)
class ElementEvent:
    """Something that happened to one BPMN element during a command."""

    task_id: str
    element_id: str
    element_name: str | None
    element_type: str
    kind: str  # started, completed, cancelled, failed


@dataclass(frozen=True)
class OpenHumanTask:
    task_id: str
    element_id: str
    name: str | None
    extensions: dict[str, Any]
    data: dict[str, Any]


@dataclass
class Changes:
    events: list[ElementEvent] = field(default_factory=list)
    opened: list[OpenHumanTask] = field(default_factory=list)
    #: task id → completed or cancelled
    closed: dict[str, str] = field(default_factory=dict)
    #: (kind, name, task id) of every catch now waiting for a message or signal
    waiting: set[tuple[str, str, str]] = field(default_factory=set)
    #: task id → when each waiting timer falls due next
    timers: dict[str, datetime] = field(default_factory=dict)
    #: (name, payload) of every signal a throw or end event of the instance threw
    thrown: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    removed: int = 0


def all_workflows(wf: BpmnWorkflow) -> Iterator[Any]:
    yield wf
    yield from wf.subprocesses.values()


def all_tasks(wf: BpmnWorkflow) -> Iterator[Task]:
    for sub in all_workflows(wf):
        yield from sub.tasks.values()


def is_human(task: Task) -> bool:
    return bool(getattr(task.task_spec, "manual", False)) and \
        getattr(task.task_spec, "bpmn_id", None) is not None


def element_type(task: Task) -> str:
    name = type(task.task_spec).__name__
    return name[5:] if name.startswith("Duban") else name


def _event_kind(before: int | None, after: int) -> list[str]:
    was_active = before is not None and before & ACTIVE
    was_done = before is not None and before & TaskState.FINISHED_MASK
    if was_done or before == after:
        return []
    if after & ACTIVE:
        return [] if was_active else ["started"]
    if after == TaskState.COMPLETED:
        return ["completed"] if was_active else ["started", "completed"]
    if after == TaskState.ERROR:
        return ["failed"] if was_active else ["started", "failed"]
    if after == TaskState.CANCELLED:
        return ["cancelled"] if was_active else []
    return []


def is_finished(wf: Any) -> bool:
    """Whether nothing is left to do in *wf*.

    Not ``Workflow.is_completed()``: its iterator stops 1000 levels down, so on
    a deep tree it answers True while work remains, and caches the answer.
    """
    return not any(t.has_state(TaskState.NOT_FINISHED_MASK) for t in wf.tasks.values())


def tree_size(wf: BpmnWorkflow) -> int:
    """How many tasks the workflow and its subprocesses hold."""
    return sum(len(sub.tasks) for sub in all_workflows(wf))


def current_data(wf: BpmnWorkflow) -> dict[str, Any]:
    """The instance data as a person would read it now.

    SpiffWorkflow keeps data on tasks until the end; mid-run, the data of the
    active tasks (merged in the order they became active) is the current data.
    """
    if is_finished(wf):
        return dict(wf.data)
    active = [t for t in wf.tasks.values() if t.has_state(ACTIVE | TaskState.ERROR)]
    if not active:
        return dict(wf.last_task.data) if wf.last_task is not None else {}
    data: dict[str, Any] = {}
    for task in sorted(active, key=lambda t: t.last_state_change):
        data.update(task.data)
    return data


class Run:
    """One command's work on one workflow."""

    def __init__(self, workflow: BpmnWorkflow) -> None:
        self.workflow = workflow
        self._snapshot()
        self.waiting_before = waiting_catches(workflow)
        self.timers_before = waiting_timers(workflow)
        self.changes = Changes()

    def finish(self) -> Changes:
        """Report what the command changed, then compact the tree."""
        self._collect()
        self.changes.waiting = waiting_catches(self.workflow)
        self.changes.timers = waiting_timers(self.workflow)
        self.changes.removed += compact(self.workflow)
        return self.changes

    def checkpoint(self) -> None:
        """Record what changed so far and compact, in the middle of a command.

        A loop of automatic steps would otherwise stall in one command once the
        tree is 1000 levels deep (SpiffWorkflow's iterator limit, ~330 rounds).
        """
        self._collect()
        self.changes.removed += compact(self.workflow)
        self._snapshot()

    def _snapshot(self) -> None:
        self.before = {t.id: t.state for t in all_tasks(self.workflow)}
        #: active BPMN elements, to name them in history if they vanish (a torn-down
        #: subprocess takes its tasks out of the tree without cancelling them one by one)
        self.active_before = {t.id: t for t in all_tasks(self.workflow)
                              if t.state & ACTIVE and getattr(t.task_spec, "bpmn_id", None)}

    def _collect(self) -> None:
        changes = self.changes
        opened_here = {o.task_id for o in changes.opened}

        def close(task_id: str, outcome: str) -> None:
            if task_id in opened_here:  # opened and closed within this command
                changes.opened = [o for o in changes.opened if o.task_id != task_id]
                opened_here.discard(task_id)
            else:
                changes.closed[task_id] = outcome

        seen: set[UUID] = set()
        found: list[tuple[float, int, Task, list[str]]] = []
        for index, task in enumerate(all_tasks(self.workflow)):
            seen.add(task.id)
            before = self.before.get(task.id)
            if getattr(task.task_spec, "bpmn_id", None) is None:
                continue
            kinds = _event_kind(before, task.state)
            if kinds:
                found.append((task.last_state_change, index, task, kinds))
                if "completed" in kinds and isinstance(task.task_spec, ThrowingEvent):
                    for d in _definitions(task.task_spec.event_definition):
                        if isinstance(d, SignalEventDefinition):
                            changes.thrown.append((d.name, deepcopy(task.data)))
            if is_human(task):
                if task.state == TaskState.READY and (before is None or before != TaskState.READY):
                    changes.opened.append(OpenHumanTask(
                        str(task.id), task.task_spec.bpmn_id, task.task_spec.bpmn_name,
                        dict(getattr(task.task_spec, "extensions", {}) or {}), task.data))
                elif before == TaskState.READY and task.state != TaskState.READY:
                    close(str(task.id), "completed" if task.state == TaskState.COMPLETED
                          else "cancelled")
        vanished = [task_id for task_id, state in self.before.items()
                    if task_id not in seen and state & ACTIVE]
        for task_id in vanished:
            close(str(task_id), "cancelled")
        for _at, _i, task, kinds in sorted(found, key=lambda f: (f[0], f[1])):
            for kind in kinds:
                changes.events.append(ElementEvent(
                    str(task.id), task.task_spec.bpmn_id, task.task_spec.bpmn_name,
                    element_type(task), kind))
        for task_id in vanished:
            gone = self.active_before.get(task_id)
            if gone is not None:
                changes.events.append(ElementEvent(
                    str(task_id), gone.task_spec.bpmn_id, gone.task_spec.bpmn_name,
                    element_type(gone), "cancelled"))


def waiting_timers(wf: BpmnWorkflow) -> dict[str, datetime]:
    due = {}
    for task in wf.event_manager.tasks.values():
        when = timer_due(task)
        if when is not None:
            due[str(task.id)] = when
    return due


def _definitions(definition: Any) -> list[Any]:
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition]


def waiting_catches(wf: BpmnWorkflow) -> set[tuple[str, str, str]]:
    """Every message or signal the instance would catch now: (kind, name, task id).

    Event subprocesses started by a message or signal have no task until they
    fire; SpiffWorkflow keeps them as triggers on the process start, and they
    are listed here as ``trigger:<subprocess id>``.
    """
    result = set()
    if not is_finished(wf):
        for name in getattr(wf.spec.start, "trigger_specs", []):
            sub_spec = wf.subprocess_specs.get(name)
            for start in getattr(sub_spec, "bpmn_start_events", []) if sub_spec else []:
                for d in _definitions(start.event_definition):
                    if isinstance(d, MessageEventDefinition):
                        result.add(("message", d.name, f"trigger:{name}"))
                    elif isinstance(d, SignalEventDefinition):
                        result.add(("signal", d.name, f"trigger:{name}"))
    for task in wf.event_manager.tasks.values():
        if not isinstance(task.task_spec, CatchingEvent) or task.state != TaskState.WAITING:
            continue
        for d in _definitions(task.task_spec.event_definition):
            if isinstance(d, MessageEventDefinition):
                result.add(("message", d.name, str(task.id)))
            elif isinstance(d, SignalEventDefinition):
                result.add(("signal", d.name, str(task.id)))
    return result


# -- compaction --------------------------------------------------------------
#
# Which finished tasks SpiffWorkflow still reads, and so must stay:
# - the parent of every live task: its data is what the task inherited, and a
#   join checks that its instance's parent (an incoming flow) completed;
# - the children of every live task: a multi-instance task counts its
#   finished instances, a subprocess task owns its predicted successors;
# - while a join waits (WAITING or READY), every instance of that join and
#   their parents: which inputs have arrived is read from them;
# - for a live instance of a structured join (boundary events, several start
#   events), its split ancestor and the split's children.
# Everything else is history. Kept tasks are re-linked to their nearest kept
# ancestor, which preserves every ancestor relation among them.


def _keep_set(wf: Any) -> set[UUID]:
    tasks = wf.tasks
    keep = {wf.task_tree.id}
    waiting_joins: set[str] = set()
    for task in tasks.values():
        if not task.has_state(LIVE):
            continue
        keep.add(task.id)
        if task._parent is not None:
            keep.add(task._parent)
        keep.update(task._children)
        spec = task.task_spec
        if isinstance(spec, Join):
            if task.state in (TaskState.WAITING, TaskState.READY):
                waiting_joins.add(spec.name)
            if spec.split_task:
                split = task.find_ancestor(spec.split_task)
                if split is not None:
                    keep.add(split.id)
                    keep.update(split._children)
    if waiting_joins:
        for task in tasks.values():
            if task.task_spec.name in waiting_joins:
                keep.add(task.id)
                if task._parent is not None:
                    keep.add(task._parent)
    return keep


def compact_one(wf: Any, top: BpmnWorkflow) -> int:
    """Drop finished tasks SpiffWorkflow no longer reads; return how many."""
    if is_finished(wf):
        keep = {wf.task_tree.id}
    else:
        keep = _keep_set(wf)
    if len(keep) == len(wf.tasks):
        return 0
    root = wf.task_tree
    new_children: dict[UUID, list[UUID]] = {root.id: []}
    new_parent: dict[UUID, UUID] = {}
    stack: list[tuple[UUID, UUID]] = [(c, root.id) for c in reversed(root._children)]
    while stack:  # depth first, in child order, so kept children keep their order
        task_id, kept_above = stack.pop()
        task = wf.tasks.get(task_id)
        if task is None:
            continue
        if task_id in keep:
            new_children[kept_above].append(task_id)
            new_children[task_id] = []
            new_parent[task_id] = kept_above
            kept_above = task_id
        stack.extend((c, kept_above) for c in reversed(task._children))
    removed = 0
    for task_id in [t for t in wf.tasks if t not in new_children]:
        task = wf.tasks.pop(task_id)
        top.event_manager.remove_task(task)
        if task_id in top.subprocesses and isinstance(task.task_spec, SubWorkflowTask):
            removed += _drop_subprocess(top, task_id)
        removed += 1
    for task_id, children in new_children.items():
        task = wf.tasks[task_id]
        task._children = children
        if task_id != root.id:
            task._parent = new_parent[task_id]
    if wf.last_task is not None and wf.last_task.id not in wf.tasks:
        wf.last_task = root
    return removed


def _drop_subprocess(top: BpmnWorkflow, task_id: UUID) -> int:
    sub = top.subprocesses.pop(task_id)
    removed = 0
    for task in list(sub.tasks.values()):
        top.event_manager.remove_task(task)
        if task.id in top.subprocesses:
            removed += _drop_subprocess(top, task.id)
        removed += 1
    return removed


def compact(wf: BpmnWorkflow) -> int:
    """Compact the top workflow and every subprocess still held; return tasks removed."""
    removed = compact_one(wf, wf)
    for key in list(wf.subprocesses):
        sub = wf.subprocesses.get(key)
        if sub is not None:  # an earlier pass may have dropped it with its parent task
            removed += compact_one(sub, wf)
    return removed
