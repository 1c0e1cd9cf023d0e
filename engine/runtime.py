"""Loading an instance for a command, and writing back everything it changed.

Every command that moves an instance goes through :func:`load` and
:func:`save`: the instance row (state, data, optimistic version), the
history rows, the human-task projection with its candidates, and the
message/signal subscriptions are all written in the command's transaction.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import delete, insert, select

from engine import assignment, deadlines, items, jobs, scripting
from engine.directory import Directory
from engine.bpmn import serializer, workflows
from engine.bpmn.runner import Changes, Run, current_data, is_finished
from engine.bpmn.script_engine import DubanScriptEngine
from engine.errors import ConflictError, NotFound, ScriptError
from engine.models import (
    EventSubscription, HistoryEvent, HumanTask, ProcessInstance, ProcessVersion, TaskCandidate,
)

if TYPE_CHECKING:
    from engine.db.command import CommandContext

RUNNING, COMPLETED, FAILED, CANCELLED, SUSPENDED = (
    "running", "completed", "failed", "cancelled", "suspended")


@dataclass
class CachedSpec:
    spec: Any
    subprocess_specs: dict[str, Any]
    #: SpiffWorkflow mutates shared specs when it triggers event subprocesses;
    #: one command at a time per version in this process keeps that safe
    lock: threading.RLock
    #: element id → its duban: extensions, across the process and what it embeds
    extensions: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the kind of item the process tracks (duban:item on its start event), if any
    item_kind: str | None = None

    def __post_init__(self) -> None:
        for one in (self.spec, *self.subprocess_specs.values()):
            for task_spec in one.task_specs.values():
                bpmn_id = getattr(task_spec, "bpmn_id", None)
                ext = getattr(task_spec, "extensions", None)
                if bpmn_id and ext:
                    self.extensions.setdefault(bpmn_id, ext)
                    if one is self.spec and "item" in ext:
                        self.item_kind = ext["item"]["kind"]


class SpecCache:
    """Deserialized specs per process version; versions are immutable."""

    def __init__(self) -> None:
        self._items: dict[int, CachedSpec] = {}
        self._lock = threading.Lock()

    def get(self, ctx: "CommandContext", version_id: int) -> CachedSpec:
        cached = self._items.get(version_id)
        if cached is None:
            row = ctx.session.get(ProcessVersion, version_id)
            if row is None:
                raise NotFound(f"no process version {version_id}")
            spec, subs = serializer.load_specs(row.spec_json)
            with self._lock:
                cached = self._items.setdefault(version_id,
                                                CachedSpec(spec, subs, threading.RLock()))
        return cached


@dataclass
class Loaded:
    row: ProcessInstance
    #: the SpiffWorkflow BpmnWorkflow (typed loosely: only engine/bpmn knows Spiff)
    workflow: Any
    run: Run
    spec: CachedSpec
    data_before: dict[str, Any]


def script_engine(ctx: "CommandContext", row: ProcessInstance | None) -> DubanScriptEngine:
    context = {"instance_id": row.id if row is not None else None,
               "business_key": row.business_key if row is not None else None,
               "directory": Directory(ctx.session, row.org_id if row is not None else None)}
    return DubanScriptEngine(ctx.engine.service_handlers, ctx.engine.script_limits, context,
                             now=lambda: ctx.now, tz=ctx.engine.config.timezone)


def get_row(ctx: "CommandContext", instance_id: int) -> ProcessInstance:
    row = ctx.session.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFound(f"no process instance {instance_id}")
    return row


def load(ctx: "CommandContext", instance_id: int) -> Loaded:
    """Load an instance and its workflow; the caller must hold ``loaded.spec.lock``."""
    row = get_row(ctx, instance_id)
    cached = ctx.engine.specs.get(ctx, row.process_version_id)
    workflow = serializer.load_state(row.state_json, row.state_format, cached.spec,
                                     cached.subprocess_specs)
    workflow.script_engine = script_engine(ctx, row)
    return Loaded(row, workflow, Run(workflow), cached, json.loads(row.data_json))


def spiff_task(loaded: Loaded, task_id: str) -> Any:
    try:
        return loaded.workflow.get_task_from_id(UUID(task_id))
    except Exception:
        raise ConflictError(f"task {task_id} is no longer part of instance {loaded.row.id}") \
            from None


def run_engine(loaded: Loaded) -> ScriptError | None:
    """Run every automatic step until the instance waits; report a failure instead of raising."""
    try:
        # timers first: one that fell due since the last command moves before the steps run
        loaded.workflow.refresh_timers()
        workflows.run_automatic_steps(loaded.workflow, loaded.run)
    except Exception as exc:  # scripts, conditions and handlers fail only their instance
        return as_script_error(exc)
    return None


def as_script_error(exc: BaseException) -> ScriptError:
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, ScriptError):
            return node
        inner = getattr(node, "exception", None)
        node = inner if isinstance(inner, BaseException) else (node.__cause__ or node.__context__)
    task = getattr(exc, "task", None)
    element = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
    return ScriptError(f"{type(exc).__name__}: {exc}", element_id=element)


def data_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    diff = {}
    for key in sorted(set(before) | set(after)):
        if before.get(key, _MISSING) != after.get(key, _MISSING):
            diff[key] = [before.get(key), after.get(key)]
    return diff


_MISSING = object()


def save(ctx: "CommandContext", loaded: Loaded, *, by: str, acted_task: str | None = None,
         error: ScriptError | None = None) -> Changes:
    """Write the instance and its projections after the command acted."""
    row, workflow = loaded.row, loaded.workflow
    changes = loaded.run.finish()
    history = []
    for event in changes.events:
        detail = None
        if event.kind == "failed" and error is not None:
            detail = json.dumps({"error": error.reason, "line": error.line}, ensure_ascii=False)
        history.append({
            "instance_id": row.id, "task_id": event.task_id, "element_id": event.element_id,
            "element_name": event.element_name, "element_type": event.element_type,
            "kind": event.kind, "at": ctx.now,
            "by": by if event.task_id == acted_task or event.kind == "failed" else None,
            "detail": detail})
    if history:
        ctx.session.connection().execute(insert(HistoryEvent.__table__), history)
    timed = _close_tasks(ctx, changes, by=by, acted_task=acted_task)
    data = current_data(workflow)
    timed = _open_tasks(ctx, row, changes, data) or timed
    if timed:
        ctx.session.flush()
        deadlines.refresh_instance_light(ctx, row.id)
    if loaded.spec.item_kind:
        items.sync(ctx, row, loaded.spec.item_kind, changes, data, loaded.spec.extensions)
    _sync_subscriptions(ctx, row, changes, loaded.run.waiting_before)
    _sync_timer_jobs(ctx, row, changes, loaded.run.timers_before)
    if error is not None:
        row.state = FAILED
        row.error_json = json.dumps({"type": "ScriptError", "message": error.reason,
                                     "element_id": error.element_id, "line": error.line},
                                    ensure_ascii=False)
        ctx.record("instance.failed", by=by, instance_id=row.id, error=error.reason,
                   element_id=error.element_id, line=error.line)
    elif is_finished(workflow) and row.state in (RUNNING, FAILED):
        row.state = COMPLETED
        row.ended_at = ctx.now
        ctx.record("instance.completed", by=by, instance_id=row.id)
    row.state_json = serializer.dump_state(workflow)
    row.state_format = serializer.STATE_FORMAT
    new_data = json.loads(serializer.dump_data(data))
    diff = data_diff(loaded.data_before, new_data)
    row.data_json = json.dumps(new_data, ensure_ascii=False, sort_keys=True)
    row.updated_at = ctx.now
    if diff:
        ctx.record("instance.data_changed", by=by, instance_id=row.id, task_id=acted_task,
                   diff=diff)
    return changes


def _close_tasks(ctx: "CommandContext", changes: Changes, *, by: str,
                 acted_task: str | None) -> bool:
    """Close the projection rows of tasks that ended; return whether a timed one did."""
    timed = False
    for task_id, outcome in changes.closed.items():
        task = ctx.session.get(HumanTask, task_id)
        if task is None or task.state != "open":
            continue
        if task.due_at is not None:
            deadlines.forget(ctx, task)
            timed = True
        task.state = outcome
        task.ended_at = ctx.now
        task.ended_by = by if task_id == acted_task or outcome == "cancelled" else None
        ctx.session.connection().execute(delete(TaskCandidate.__table__).where(
            TaskCandidate.__table__.c.task_id == task_id))
        if task_id != acted_task:
            ctx.record(f"task.{outcome}", by=by, instance_id=task.instance_id, task_id=task_id,
                       element_id=task.element_id)
    return timed


def _open_tasks(ctx: "CommandContext", row: ProcessInstance, changes: Changes,
                data: dict[str, Any]) -> bool:
    """Project newly ready human tasks: owner, candidates, deadline; True if one is timed."""
    timed = False
    for opened in changes.opened:
        task_data = {**data, **opened.data}
        rule = opened.extensions.get("assignment")
        found = assignment.resolve(ctx.session, ctx.engine.config, rule, row, task_data)
        task = HumanTask(
            id=opened.task_id, instance_id=row.id, process_version_id=row.process_version_id,
            element_id=opened.element_id, name=_title(opened, task_data), state="open",
            assignee=found.assignee, org_id=found.org_id, created_at=ctx.now)
        ctx.session.add(task)
        for username in found.candidates:
            ctx.session.add(TaskCandidate(task_id=opened.task_id, username=username))
        limit = None
        if opened.extensions.get("deadline"):
            limit = deadlines.compute(ctx, opened.extensions["deadline"], start=ctx.now,
                                      data=task_data, element_id=opened.element_id)
            deadlines.apply(ctx, task, limit)
            timed = True
        ctx.record("task.created", by="system", instance_id=row.id, task_id=opened.task_id,
                   element_id=opened.element_id, assignee=found.assignee,
                   candidates=list(found.candidates), assigned_by=found.source,
                   due_at=limit.due_at.isoformat() if limit else None,
                   provisional=limit.provisional if limit else None)
    return timed


def _title(opened: Any, data: dict[str, Any]) -> str | None:
    """The task's name, or its duban:title computed now (a title is a label: when the
    expression cannot be computed, the element's name stands)."""
    rule = opened.extensions.get("title")
    if not rule:
        return opened.name  # type: ignore[no-any-return]
    try:
        value = scripting.compile_expression(rule["expression"]).evaluate(data)
    except ScriptError:
        return opened.name  # type: ignore[no-any-return]
    return str(value)[:400] if value not in (None, "") else opened.name


def _sync_subscriptions(ctx: "CommandContext", row: ProcessInstance, changes: Changes,
                        before: set[tuple[str, str, str]]) -> None:
    if before == changes.waiting:
        return  # the rows already say this
    existing = ctx.session.execute(select(EventSubscription).where(
        EventSubscription.instance_id == row.id)).scalars().all()
    current = {(s.kind, s.event_name, s.task_id) for s in existing}
    if current == changes.waiting:
        return
    for sub in existing:
        if (sub.kind, sub.event_name, sub.task_id) not in changes.waiting:
            ctx.session.delete(sub)
    for kind, name, task_id in changes.waiting - current:
        ctx.session.add(EventSubscription(instance_id=row.id, kind=kind, event_name=name,
                                          task_id=task_id))


def add_history(ctx: "CommandContext", task: HumanTask, kind: str, *, by: str,
                detail: dict[str, Any] | None = None) -> None:
    """A history row for something people do to a task that is not a BPMN state change."""
    ctx.session.add(HistoryEvent(
        instance_id=task.instance_id, task_id=task.id, element_id=task.element_id,
        element_name=task.name, element_type="UserTask", kind=kind, at=ctx.now, by=by,
        detail=json.dumps(detail, ensure_ascii=False) if detail else None))


def add_instance_history(ctx: "CommandContext", instance_id: int, kind: str, *, by: str,
                         detail: dict[str, Any] | None = None) -> None:
    """A history row for something people do to a whole instance (a copy sent, ...)."""
    ctx.session.add(HistoryEvent(
        instance_id=instance_id, kind=kind, at=ctx.now, by=by,
        detail=json.dumps(detail, ensure_ascii=False) if detail else None))


def _sync_timer_jobs(ctx: "CommandContext", row: ProcessInstance, changes: Changes,
                     before: dict[str, Any]) -> None:
    """One job per waiting timer, due when the timer is; gone when the timer is."""
    if before == changes.timers:
        return
    gone = [f"timer:{task_id}" for task_id in before.keys() - changes.timers.keys()]
    if ctx.running_job is not None:
        # the job being run is deleted by the executor when its handler returns
        running = ctx.session.get(jobs.Job, ctx.running_job)
        gone = [key for key in gone if running is None or running.dedupe_key != key]
    jobs.unschedule(ctx, *gone)
    for task_id, due in changes.timers.items():
        if before.get(task_id) != due:
            jobs.schedule(ctx, "timer", due, instance_id=row.id, task_id=task_id,
                          dedupe_key=f"timer:{task_id}")
