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
smallest subtree that holds every unfinished task (plus its parent, whose
data the subtree inherits), hang it under the root, and drop the rest.
Event-subprocess listeners hanging off the root are kept as they are.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.specs.defaults import EventSubprocess
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

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


def current_data(wf: BpmnWorkflow) -> dict[str, Any]:
    """The instance data as a person would read it now.

    SpiffWorkflow keeps data on tasks until the end; mid-run, the data of the
    active tasks (merged in the order they became active) is the current data.
    """
    if wf.is_completed():
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
        self.before = {t.id: t.state for t in all_tasks(workflow)}
        self.waiting_before = waiting_catches(workflow)

    def finish(self) -> Changes:
        """Report what the command changed, then compact the tree."""
        changes = Changes()
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
            if is_human(task):
                if task.state == TaskState.READY and (before is None or before != TaskState.READY):
                    changes.opened.append(OpenHumanTask(
                        str(task.id), task.task_spec.bpmn_id, task.task_spec.bpmn_name,
                        dict(getattr(task.task_spec, "extensions", {}) or {}), task.data))
                elif before == TaskState.READY and task.state != TaskState.READY:
                    changes.closed[str(task.id)] = ("completed" if task.state == TaskState.COMPLETED
                                                    else "cancelled")
        for task_id, state in self.before.items():
            if task_id not in seen and state & ACTIVE:
                changes.closed[str(task_id)] = "cancelled"
        for _at, _i, task, kinds in sorted(found, key=lambda f: (f[0], f[1])):
            for kind in kinds:
                changes.events.append(ElementEvent(
                    str(task.id), task.task_spec.bpmn_id, task.task_spec.bpmn_name,
                    element_type(task), kind))
        changes.waiting = waiting_catches(self.workflow)
        changes.removed = compact(self.workflow)
        return changes


def waiting_catches(wf: BpmnWorkflow) -> set[tuple[str, str, str]]:
    result = set()
    for task in wf.event_manager.tasks.values():
        if not isinstance(task.task_spec, CatchingEvent) or task.state != TaskState.WAITING:
            continue
        definition = task.task_spec.event_definition
        defs = definition.event_definitions if isinstance(definition, MultipleEventDefinition) \
            else [definition]
        for d in defs:
            if isinstance(d, MessageEventDefinition):
                result.add(("message", d.name, str(task.id)))
            elif isinstance(d, SignalEventDefinition):
                result.add(("signal", d.name, str(task.id)))
    return result


# -- compaction --------------------------------------------------------------

def _is_listener(task: Task) -> bool:
    """An event subprocess hanging off the root, waiting for its trigger."""
    return isinstance(task.task_spec, EventSubprocess)


def _path(task: Task) -> list[Task]:
    path = []
    node: Task | None = task
    while node is not None:
        path.append(node)
        node = node.parent
    path.reverse()
    return path


def _lowest_common_ancestor(tasks: list[Task]) -> Task:
    paths = [_path(t) for t in tasks]
    lca = paths[0][0]
    for level in zip(*paths):
        if all(node is level[0] for node in level):
            lca = level[0]
        else:
            break
    return lca


def _drop(wf: Any, task: Task, top: BpmnWorkflow) -> int:
    """Remove *task* and its subtree from *wf* (no callbacks: it is history)."""
    removed = 0
    stack = [task]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        wf.tasks.pop(node.id, None)
        top.event_manager.remove_task(node)
        if node.id in top.subprocesses and isinstance(node.task_spec, SubWorkflowTask):
            sub = top.subprocesses.pop(node.id)
            removed += _drop(sub, sub.task_tree, top)
        removed += 1
    return removed


def compact_one(wf: Any, top: BpmnWorkflow) -> int:
    root = wf.task_tree
    listeners = [c for c in root.children if _is_listener(c)]
    listener_ids = {c.id for c in listeners}

    def under_listener(task: Task) -> bool:
        node = task
        while node.parent is not None and node.parent is not root:
            node = node.parent
        return node.id in listener_ids

    live = [t for t in wf.tasks.values() if t.has_state(LIVE) and t is not root
            and not under_listener(t)]
    if not live:
        if not wf.is_completed():
            return 0
        # finished: the data lives on the workflow; only the root stays
        removed = 0
        for child in list(root.children):
            if child.id not in listener_ids:
                removed += _drop(wf, child, top)
        root._children = [c for c in root._children if c in listener_ids]
        wf.last_task = root
        return removed
    keep = _lowest_common_ancestor(live)
    if keep.parent is not None:
        keep = keep.parent  # its data is what the kept subtree inherited
    if keep is root or keep.parent is root:
        return 0
    removed = 0
    for child in list(root.children):
        if child.id not in listener_ids:
            removed += _drop_except(wf, child, keep, top)
    keep.parent = root
    root._children = [keep.id] + [c for c in root._children if c in listener_ids]
    if wf.last_task is not None and wf.last_task.id not in wf.tasks:
        wf.last_task = keep
    return removed


def _drop_except(wf: Any, task: Task, keep: Task, top: BpmnWorkflow) -> int:
    """Drop the subtree of *task*, sparing the subtree of *keep* inside it."""
    removed = 0
    stack = [task]
    while stack:
        node = stack.pop()
        if node is keep:
            continue
        stack.extend(node.children)
        wf.tasks.pop(node.id, None)
        top.event_manager.remove_task(node)
        if node.id in top.subprocesses and isinstance(node.task_spec, SubWorkflowTask):
            sub = top.subprocesses.pop(node.id)
            removed += _drop(sub, sub.task_tree, top)
        removed += 1
    return removed


def compact(wf: BpmnWorkflow) -> int:
    """Compact the top workflow and every live subprocess; return tasks removed."""
    removed = compact_one(wf, wf)
    for key in list(wf.subprocesses):
        sub = wf.subprocesses.get(key)
        if sub is not None:  # an earlier pass may have dropped it with its parent
            removed += compact_one(sub, wf)
    return removed
