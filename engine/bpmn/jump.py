"""Moving a token back to an earlier user task: the SpiffWorkflow side of 退回 and 撤回.

SpiffWorkflow's own way back, ``reset_from_task_id``, re-runs an old task that is
still in the tree. The runner compacts finished tasks away after every command
(:mod:`engine.bpmn.runner`), so the old task is gone. A move therefore works
forward, the way the flow itself would arrive:

1. the live task(s) being taken away are cancelled: a task with boundary events
   is cancelled together with its armed events (they leave the event manager, so
   their timers stop); events that already fired keep their own paths. A
   multi-instance step is cancelled as a whole (its instances go with it);
2. a new task for the target is added beside them, as a child of the task they
   hung under (``triggered``: not one of that parent's spec outputs, like the
   tasks Spiff adds for event subprocesses), FUTURE, predicted, then updated so
   it becomes READY. When the target has boundary events, the new task is its
   ``BoundaryEventSplit``, so the next ``do_engine_steps()`` arms them exactly as
   a normal arrival does (a timer gets its due time then);
3. it carries the data of the task(s) it replaces: the instance data as it is now.

What is refused, with :class:`ConflictError` (the instance is not changed):

- a target in another (sub)process than the task, a target that is not a user or
  manual task, a target that repeats (multi-instance or loop), a target open now;
- a task that is one instance of a multi-instance or loop step;
- a move that leaves a parallel branch, or enters one, while other branches are
  open, or that would leave a join waiting for a token that never comes.

The last rule reads the diagram, not the (compacted) tree: walking forward from
the target, a parallel or inclusive split opens a level and its join closes it;
the move is sound when the task is reached on the target's own level (the token
stays within one branch), or when every open task of the (sub)process is taken
and the target lies outside every branch (one token replaces them all).
"""
from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.runner import ACTIVE, all_workflows
from engine.errors import ConflictError

#: how many parallel splits deep the walk follows a diagram
MAX_LEVELS = 32


@dataclass(frozen=True)
class Move:
    """A checked move: which tasks go, where the new one grows, for which element."""

    workflow: Any
    entries: tuple[Task, ...]
    anchor: Task
    entry_spec: Any
    element_id: str
    #: ids of every element the flow can reach from the target (to judge side effects)
    reachable: frozenset[str]


def _label(spec: Any) -> str:
    name = getattr(spec, "bpmn_name", None)
    return f"「{name}」({spec.bpmn_id})" if name else f"「{spec.bpmn_id}」"


def _human_spec(wf_spec: Any, element_id: str) -> Any:
    for spec in wf_spec.task_specs.values():
        if getattr(spec, "bpmn_id", None) == element_id and spec.manual:
            return spec
    return None


def _specs_of(wf_spec: Any, element_id: str) -> list[Any]:
    return [s for s in wf_spec.task_specs.values() if getattr(s, "bpmn_id", None) == element_id]


def human_elements(task: Task) -> dict[str, str | None]:
    """Element id → name of every user or manual task in *task*'s (sub)process."""
    return {s.bpmn_id: s.bpmn_name for s in task.workflow.spec.task_specs.values()
            if s.manual and getattr(s, "bpmn_id", None)}


def _is_join(spec: Any) -> bool:
    return isinstance(spec, (ParallelGateway, InclusiveGateway)) and len(spec.inputs) > 1


def _is_split(spec: Any) -> bool:
    return isinstance(spec, (ParallelGateway, InclusiveGateway)) and len(spec.outputs) > 1


def _walk(start: Any) -> tuple[dict[str, set[int]], list[Any]]:
    """Follow the diagram forward from *start*: the levels each spec is reached on,
    and the joins that close a branch *start* lies in (reached on level 0)."""
    levels: dict[str, set[int]] = {}
    escapes: list[Any] = []
    seen: set[tuple[str, int]] = set()
    stack = [(start, 0)]
    while stack:
        spec, level = stack.pop()
        if (spec.name, level) in seen:
            continue
        seen.add((spec.name, level))
        levels.setdefault(spec.name, set()).add(level)
        if _is_join(spec) and spec is not start:
            if level == 0:
                if spec not in escapes:
                    escapes.append(spec)
                continue
            level -= 1
        if isinstance(spec, BoundaryEventSplit):
            # an interrupting event replaces the task's path; a non-interrupting one adds a token
            for out in spec.outputs:
                extra = isinstance(out, BoundaryEvent) and not out.cancel_activity
                stack.append((out, level + 1 if extra else level))
            continue
        if _is_split(spec):
            level += 1
        if level <= MAX_LEVELS:
            stack.extend((out, level) for out in spec.outputs)
    return levels, escapes


def _entry(task: Task) -> Task:
    """The task that stands for *task*'s place in the flow: its boundary split, or the
    multi-instance step it is an instance of."""
    node = task
    while node.parent is not None:
        parent = node.parent
        if isinstance(parent.task_spec, BoundaryEventSplit) or (
                isinstance(parent.task_spec, LoopTask) and parent.has_state(ACTIVE)):
            node = parent
            continue
        break
    return node


def _in_entry(task: Task, entries: Iterable[Task]) -> bool:
    return any(task is e or task.is_descendant_of(e) for e in entries)


def _common_ancestor(tasks: Sequence[Task]) -> Task:
    chains = []
    for task in tasks:
        chain, node = [], task.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        chains.append(chain)
    shared = set(id(t) for t in chains[0])
    for chain in chains[1:]:
        shared &= {id(t) for t in chain}
    return next(t for t in chains[0] if id(t) in shared)


def plan_move(from_tasks: Sequence[Task], element_id: str) -> Move:
    """Check that the tokens of *from_tasks* may move to *element_id*.

    :param from_tasks: live tasks of one (sub)process; a task with boundary events or
        an instance of a multi-instance step stands for the whole construct.
    :raise ConflictError: the move would corrupt the instance (the message says why).
    """
    if not from_tasks:
        raise ConflictError("nothing is open to move back")
    workflow = from_tasks[0].workflow
    if any(t.workflow is not workflow for t in from_tasks):
        raise ConflictError("the open steps belong to different (sub)processes")
    target = _human_spec(workflow.spec, element_id)
    if target is None:
        elsewhere = [s for wf in _all_specs(workflow) for s in _specs_of(wf, element_id)]
        if any(s.manual for s in elsewhere):
            raise ConflictError(
                f"{_label(elsewhere[0])} is in another (sub)process than "
                f"{_label(from_tasks[0].task_spec)}; work can only go back within the same "
                "process level")
        if elsewhere:
            raise ConflictError(f"{_label(elsewhere[0])} is not a user task; "
                                "work can only go back to a step people do")
        raise ConflictError(f"this process has no step {element_id!r}")
    if any(isinstance(s, LoopTask) for s in _specs_of(workflow.spec, element_id)):
        raise ConflictError(f"{_label(target)} is done by several people or rounds at once "
                            "(multi-instance or loop); it cannot be a target")
    parts = [t for t in from_tasks if t.parent is not None
             and isinstance(t.parent.task_spec, LoopTask) and t.parent not in from_tasks]
    if parts:
        raise ConflictError(f"{_label(parts[0].task_spec)} is one instance of a step done "
                            "by several people or rounds; it cannot be moved on its own")
    entries = tuple(dict.fromkeys(_entry(t) for t in from_tasks))
    active = [t for t in workflow.tasks.values() if t.has_state(ACTIVE)
              and getattr(t.task_spec, "bpmn_id", None) and not _in_entry(t, entries)]
    if any(t.task_spec.bpmn_id == element_id for t in active):
        raise ConflictError(f"{_label(target)} is open right now; it cannot be a target")
    entry_spec = workflow.spec.task_specs.get(f"{element_id}.BoundaryEventSplit") or target
    levels, escapes = _walk(entry_spec)
    moving = [e.task_spec for e in entries]
    if len(moving) == 1 and 0 in levels.get(moving[0].name, ()):
        pass  # the token stays within its branch: other branches are not concerned
    elif active or escapes or any(s.name not in levels for s in moving):
        raise ConflictError(_refusal(target, moving, active, escapes, levels))
    reachable = frozenset(s.bpmn_id for s in workflow.spec.task_specs.values()
                          if s.name in levels and getattr(s, "bpmn_id", None))
    anchor = entries[0].parent if len(entries) == 1 else _common_ancestor(entries)
    return Move(workflow, entries, anchor, entry_spec, element_id, reachable)


def _refusal(target: Any, moving: list[Any], active: list[Task], escapes: list[Any],
             levels: dict[str, set[int]]) -> str:
    here = ", ".join(_label(s) for s in moving)
    if escapes:
        return (f"{_label(target)} lies inside a parallel branch that joins at "
                f"{_label(escapes[0])}; moving {here} there would leave that join waiting "
                "for the other branches forever")
    unreached = [s for s in moving if s.name not in levels]
    if unreached:
        return (f"{here} does not follow {_label(target)} in the diagram; "
                "the work cannot go back there")
    others = ", ".join(sorted({_label(t.task_spec) for t in active}))
    return (f"{here} runs in a parallel branch that starts after {_label(target)}, and other "
            f"work of this process is open beside it ({others}); it can only go back to a "
            "step of its own branch")


def _all_specs(workflow: Any) -> list[Any]:
    top = workflow.top_workflow
    return [top.spec, *top.subprocess_specs.values()]


def move_token(move: Move, data: dict[str, Any] | None = None) -> Task:
    """Carry out a checked move; return the new task (READY: the target itself, or its
    boundary split, which the next engine step runs).

    :param data: the new task's data; by default the data of the tasks taken away,
        merged in the order they became active.
    """
    if data is None:
        data = {}
        for entry in sorted(move.entries, key=lambda t: t.last_state_change):
            data.update(_current(entry).data)
    for entry in move.entries:
        _cancel(entry)
    task = move.anchor._add_child(move.entry_spec, TaskState.FUTURE)
    task.triggered = True
    move.entry_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
    move.entry_spec._update(task)
    # after the update: updating inherits (and would overwrite with) the anchor's older data
    task.data = deepcopy(data)
    return task


def _current(entry: Task) -> Task:
    """The task of an entry whose data is the newest: a split's main task, a waiting
    join's input (a join takes its inputs' data only when it fires), else the entry."""
    if isinstance(entry.task_spec, BoundaryEventSplit):
        main = [c for c in entry.children if not isinstance(c.task_spec, BoundaryEvent)]
        if main:
            return main[0]
    if isinstance(entry.task_spec, UnstructuredJoin) and entry.state == TaskState.WAITING \
            and entry.parent is not None:
        return entry.parent
    return entry


def _cancel(entry: Task) -> None:
    if isinstance(entry.task_spec, BoundaryEventSplit):
        for child in entry.children:
            if child.has_state(TaskState.NOT_FINISHED_MASK):
                child.cancel()  # the task, and its armed events with their timers
        return
    entry.cancel()
    if isinstance(entry.task_spec, UnstructuredJoin):
        # a cancelled join instance whose input completed would still count as arrived
        entry.workflow._remove_task(entry.id)


def tokens(workflow: Any, task_ids: set[str], element_id: str) -> list[Task]:
    """The live tasks among *task_ids*, each seen from the (sub)process that holds
    *element_id* (a task inside a subprocess is represented by the subprocess).

    :raise ConflictError: none is live, or they are not all in one such (sub)process.
    """
    found: dict[int, Task] = {}
    for sub in all_workflows(workflow):
        for task in sub.tasks.values():
            if str(task.id) not in task_ids or not task.has_state(ACTIVE):
                continue
            node = task
            while _human_spec(node.workflow.spec, element_id) is None:
                parent_id = node.workflow.parent_task_id
                if parent_id is None:
                    raise ConflictError("the next step is in another (sub)process; "
                                        "it cannot be taken back from here")
                node = workflow.get_task_from_id(parent_id)
            found[id(node)] = node
    result = list(found.values())
    if not result:
        raise ConflictError("the step has nothing open after it to take back")
    if len({id(t.workflow) for t in result}) > 1:
        raise ConflictError("the next steps are in different (sub)processes")
    return result


__all__ = ["Move", "human_elements", "plan_move", "move_token", "tokens", "MAX_LEVELS"]
