"""Supervision: lights switched on time, reminders, the 督办 ladder, urging and extensions.

The ladder: when a task passes its due time, its holders get an overdue
notice and level 1 of the ladder is told (by default the item's lead leader
— the person in the data field ``lead_leader``, else a 领导 of the instance's
organisation or the nearest one above); while it stays open, level 2 follows
after a further interval (by default two working days) to a 领导 of the
organisation above the one level 1 reached (``org="above"``), and so on. A
task's ``duban:escalation`` replaces the default ladder.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine import assignment, deadlines, holidays, jobs, notices, permissions, runtime
from engine.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from engine.jobs import handler
from engine.models import (
    HumanTask, Job, Organisation, ProcessElement, ProcessInstance, ProcessVersion, TaskCandidate,
)
from engine.organisations import ancestors, holders, memberships, role_code
from engine.timetext import parse_duration

if TYPE_CHECKING:
    from engine.db.command import CommandContext

DEFAULT_LADDER: list[dict[str, Any]] = [
    {"person": "data:lead_leader", "role": "leader", "org": "instance",
     "fallback_role": "leader"},
    {"after_working_days": 2, "role": "leader", "org": "above"},
]
#: roles that may urge and extend: they supervise the organisations they hold them in
SUPERVISOR_ROLES = permissions.SUPERVISOR_ROLES


def _open_task(ctx: "CommandContext", task_id: str | None) -> HumanTask | None:
    task = ctx.session.get(HumanTask, task_id) if task_id else None
    return task if task is not None and task.state == "open" else None


def _holders(ctx: "CommandContext", task: HumanTask) -> list[str]:
    if task.assignee:
        return [task.assignee]
    return list(ctx.session.execute(select(TaskCandidate.username).where(
        TaskCandidate.task_id == task.id).order_by(TaskCandidate.username)).scalars())


def _label(ctx: "CommandContext", task: HumanTask) -> tuple[str, str]:
    """(process name, task name) for notice texts."""
    name = ctx.session.execute(select(ProcessVersion.name).where(
        ProcessVersion.id == task.process_version_id)).scalar()
    return name or "", task.name or task.element_id


def _local(ctx: "CommandContext", moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(ctx.engine.config.timezone)).strftime("%Y-%m-%d %H:%M")


def _set_light(ctx: "CommandContext", task: HumanTask, light: str) -> None:
    if task.light == light:
        return
    before, task.light = task.light, light
    deadlines.refresh_instance_light(ctx, task.instance_id)
    ctx.record("task.light_changed", by="system", instance_id=task.instance_id, task_id=task.id,
               before=before, after=light)


@handler("task_warn")
def on_warn(ctx: "CommandContext", job: Job, payload: dict[str, Any]) -> None:
    task = _open_task(ctx, job.task_id)
    if task is None or task.due_at is None:
        return None
    if deadlines.light_at(ctx.now, task.warn_at, task.due_at) == deadlines.YELLOW:
        _set_light(ctx, task, deadlines.YELLOW)
    process, name = _label(ctx, task)
    notices.notify(ctx, _holders(ctx, task), kind="remind",
                   title=f"【提醒】{process}：{name} 将于 {_local(ctx, task.due_at)} 到期",
                   body=f"请在 {_local(ctx, task.due_at)} 前办理「{name}」。",
                   event_key=f"remind:{task.id}:{task.due_at.isoformat()}",
                   instance_id=task.instance_id, task_id=task.id)
    return None


@handler("task_due")
def on_due(ctx: "CommandContext", job: Job, payload: dict[str, Any]) -> None:
    task = _open_task(ctx, job.task_id)
    if task is None or task.due_at is None or task.due_at > ctx.now:
        return None
    _set_light(ctx, task, deadlines.RED)
    process, name = _label(ctx, task)
    notices.notify(ctx, _holders(ctx, task), kind="overdue",
                   title=f"【超期】{process}：{name} 已于 {_local(ctx, task.due_at)} 到期",
                   body=f"「{name}」已超过办理时限，请尽快办理。",
                   event_key=f"overdue:{task.id}:{task.due_at.isoformat()}",
                   instance_id=task.instance_id, task_id=task.id)
    _schedule_level(ctx, task, 1, task.due_at)
    return None


def ladder(ctx: "CommandContext", task: HumanTask) -> list[dict[str, Any]]:
    element = ctx.session.get(ProcessElement, (task.process_version_id, task.element_id))
    levels = json.loads(element.extensions).get("escalation") if element else None
    return list(levels or DEFAULT_LADDER)


def _schedule_level(ctx: "CommandContext", task: HumanTask, level: int,
                    after: datetime, reached_org: int | None = None) -> datetime | None:
    """Schedule ladder level *level*; return when, or None past the top of the ladder."""
    levels = ladder(ctx, task)
    if level > len(levels):
        return None
    rule = levels[level - 1]
    if rule.get("after_working_days"):
        when = holidays.calendar(ctx).add_working_days(after, int(rule["after_working_days"])).due
    elif rule.get("after"):
        when = parse_duration(rule["after"]).add_to(after, ctx.engine.config.timezone)
    else:
        when = after
    jobs.schedule(ctx, "task_escalate", when, instance_id=task.instance_id, task_id=task.id,
                  payload={"level": level, "org_id": reached_org,
                           "due": task.due_at.isoformat() if task.due_at else None},
                  dedupe_key=f"escalate:{task.id}")
    return when


@handler("task_escalate")
def on_escalate(ctx: "CommandContext", job: Job, payload: dict[str, Any]) -> datetime | None:
    task = _open_task(ctx, job.task_id)
    level = int(payload["level"])
    if task is None or task.due_at is None or task.due_at > ctx.now:
        return None
    if payload.get("due") and payload["due"] != task.due_at.isoformat():
        return None  # the deadline was extended since: this level belongs to the old one
    instance = ctx.session.get(ProcessInstance, task.instance_id)
    assert instance is not None
    rule = ladder(ctx, task)[level - 1]
    targets, reached = _recipients(ctx, rule, instance, payload.get("org_id"), task.id)
    process, name = _label(ctx, task)
    days = deadlines.overdue_days(ctx, task.due_at, ctx.now)
    holders = "、".join(_holders(ctx, task)) or "无"
    notices.notify(ctx, targets, kind="escalate", level=level,
                   title=f"【督办·{level}级】{process}：{name} 超期未办结",
                   body=f"「{name}」已超期 {days} 个工作日，办理人：{holders}。请督促办理。",
                   event_key=f"escalate:{task.id}:{task.due_at.isoformat()}:{level}",
                   instance_id=task.instance_id, task_id=task.id)
    task.escalation_level = max(task.escalation_level, level)
    ctx.record("task.escalated", by="system", instance_id=task.instance_id, task_id=task.id,
               level=level, to=targets)
    # the next level counts from when this one was due, not from when the job ran; it
    # reuses this job's row (same key), so tell the executor to keep it
    return _schedule_level(ctx, task, level + 1, job.due_at, reached)


def _recipients(ctx: "CommandContext", rule: dict[str, Any], instance: ProcessInstance,
                previous_org: int | None, task_id: str | None = None
                ) -> tuple[list[str], int | None]:
    """Who a ladder level tells, and the organisation where they were found."""
    if rule.get("org") == "above":
        base = ctx.session.get(Organisation, previous_org or instance.org_id)
        if base is not None and base.parent_id is not None:
            base = ctx.session.get(Organisation, base.parent_id)
        code = role_code(ctx.session, rule.get("role") or "leader")
        for org in ([base, *ancestors(ctx.session, base)] if base is not None else []):
            found = holders(ctx.session, code, org.id)
            if found:
                return found, org.id
        fallback = ctx.engine.config.fallback_person
        return [fallback], None
    data = _task_data(ctx, instance, task_id)
    resolved = assignment.resolve(ctx.session, ctx.engine.config, rule, instance, data)
    people = [resolved.assignee] if resolved.assignee else list(resolved.candidates)
    return people, _org_reached(ctx, people, rule.get("role"))


def _task_data(ctx: "CommandContext", instance: ProcessInstance,
               task_id: str | None) -> dict[str, Any]:
    """The overdue task's own data (one branch of a multi-instance has its own lead
    leader), falling back to the instance's when the task is no longer in the tree."""
    data = json.loads(instance.data_json)
    if task_id:
        loaded = runtime.load(ctx, instance.id)
        try:
            spiff = runtime.spiff_task(loaded, task_id)
        except ConflictError:
            return data
        data = {**data, **spiff.data}
    return data


def _org_reached(ctx: "CommandContext", people: list[str], role: str | None) -> int | None:
    """The organisation, nearest the root, where these people hold the role (or any role)."""
    best: Organisation | None = None
    code = role_code(ctx.session, role) if role else None
    for username in people:
        for held, org in memberships(ctx.session, username):
            if code and held != code:
                continue
            if best is None or len(org.path) < len(best.path):
                best = org
    return best.id if best is not None else None


# -- commands -------------------------------------------------------------------------

def require_supervisor(ctx: "CommandContext", username: str, org_id: int | None) -> None:
    if not permissions.supervises(ctx.session, username, org_id):
        raise PermissionDenied(f"{username} does not supervise this organisation")


def _task_for_supervision(ctx: "CommandContext", task_id: str, by: str) -> HumanTask:
    task = ctx.session.get(HumanTask, str(task_id))
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.state != "open":
        raise ConflictError(f"task {task_id} is already {task.state}")
    require_supervisor(ctx, by, task.org_id)
    instance = ctx.session.get(ProcessInstance, task.instance_id)
    assert instance is not None
    instance.updated_at = ctx.now  # bump the version: racing commands on this task conflict
    return task


def urge(ctx: "CommandContext", task_id: str, *, by: str, message: str) -> int:
    """Urge (催办) the holders of an open task with a message.

    :return: how many people were notified.
    :raise ValidationError: no message.
    :raise ConflictError: the task is closed.
    :raise PermissionDenied: *by* does not supervise the task's organisation.
    """
    if not message or not message.strip():
        raise ValidationError({"message": "say what you are urging"})
    if len(message) > 2000:
        raise ValidationError({"message": "at most 2000 characters"})
    task = _task_for_supervision(ctx, task_id, by)
    process, name = _label(ctx, task)
    holders = _holders(ctx, task)
    stamp = ctx.now.isoformat()
    written = notices.notify(ctx, holders, kind="urge", title=f"【催办】{process}：{name}",
                             body=message.strip(), event_key=f"urge:{task.id}:{by}:{stamp}",
                             instance_id=task.instance_id, task_id=task.id, by=by)
    ctx.record("task.urged", by=by, instance_id=task.instance_id, task_id=task.id,
               message=message.strip(), to=holders)
    return len(written)


def extend_deadline(ctx: "CommandContext", task_id: str, *, by: str, reason: str,
                    due: datetime | None = None, working_days: int | None = None,
                    duration: str | None = None) -> datetime:
    """Extend (延期) an open task's limit; the change is audited and its jobs move.

    Give exactly one of: a new *due* moment, *working_days* or a *duration*
    counted from the current due time.

    :return: the new due time.
    :raise ValidationError: no reason, no or several new limits, or one not later.
    """
    if not reason or not reason.strip():
        raise ValidationError({"reason": "a reason is required to extend a deadline"})
    given = [v for v in (due, working_days, duration) if v is not None]
    if len(given) != 1:
        raise ValidationError({"due": "give exactly one of due, working_days, duration"})
    task = _task_for_supervision(ctx, task_id, by)
    if task.due_at is None:
        raise ConflictError(f"task {task_id} has no deadline to extend")
    old = task.due_at
    if due is not None:
        if due.tzinfo is None:
            due = due.replace(tzinfo=ZoneInfo(ctx.engine.config.timezone))
        new_due, provisional = due, False
    elif working_days is not None:
        if working_days < 1:
            raise ValidationError({"working_days": "must be at least 1"})
        limit = holidays.calendar(ctx).add_working_days(old, working_days)
        new_due, provisional = limit.due, limit.provisional
    else:
        try:
            new_due = parse_duration(str(duration)).add_to(old, ctx.engine.config.timezone)
        except ValueError as exc:
            raise ValidationError({"duration": str(exc)}) from None
        provisional = False
    if new_due <= old:
        raise ValidationError({"due": "the new limit must be later than the current one"})
    rule = json.loads(task.deadline_rule or "{}")
    rule["extended_to"] = new_due.isoformat()
    warn = deadlines._warn(ctx, rule, new_due)
    deadlines.apply(ctx, task, deadlines.Limit(new_due, warn if warn and warn < new_due else None,
                                               provisional, rule))
    jobs.unschedule(ctx, f"escalate:{task.id}")
    task.escalation_level = 0
    deadlines.refresh_instance_light(ctx, task.instance_id)
    process, name = _label(ctx, task)
    notices.notify(ctx, _holders(ctx, task), kind="extended",
                   title=f"【延期】{process}：{name} 时限延至 {_local(ctx, new_due)}",
                   body=f"延期理由：{reason.strip()}",
                   event_key=f"extended:{task.id}:{new_due.isoformat()}",
                   instance_id=task.instance_id, task_id=task.id, by=by)
    ctx.record("task.deadline_extended", by=by, instance_id=task.instance_id, task_id=task.id,
               before=old.isoformat(), after=new_due.isoformat(), reason=reason.strip())
    return new_due
