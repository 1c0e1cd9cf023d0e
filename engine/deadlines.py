"""Deadlines on human tasks (时限), their lights (红黄绿灯) and the jobs that switch them.

A ``duban:deadline`` gives a task a limit when it is created: calendar time
(``P3D``), Chinese working days (``workingDays="5"``), or an expression over
the instance data (a date such as the limit 责任分解 set on the item, or a
number of working days). ``due_at`` and ``warn_at`` (by default one working
day before the due day ends) are computed once, stored on the task row and
indexed; the light is a stored column switched by two jobs:

- ``task_warn`` at ``warn_at``: yellow, and a reminder to whoever holds it;
- ``task_due`` at ``due_at``: red, an overdue notice, and the first level of
  the 督办 ladder (see :mod:`engine.supervision`).

A limit that runs into a year whose official calendar is not loaded counts
weekends only and is marked provisional; loading that year recomputes it and
moves its jobs. Nothing ever refuses or silently drops a deadline because the
year is new.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine import holidays, jobs, scripting
from engine.errors import ScriptError, ValidationError
from engine.models import HumanTask, Item, ProcessInstance
from engine.timetext import TimeTextError, parse_duration

if TYPE_CHECKING:
    from engine.db.command import CommandContext

GREEN, YELLOW, RED = "green", "yellow", "red"
LIGHT_ORDER = {None: 0, GREEN: 1, YELLOW: 2, RED: 3}


@dataclass(frozen=True)
class Limit:
    due_at: datetime
    warn_at: datetime | None
    provisional: bool
    #: what to recompute from: the rule, the start, and the working days when known
    rule: dict[str, Any]


def light_at(now: datetime, warn_at: datetime | None, due_at: datetime | None) -> str | None:
    if due_at is None:
        return None
    if now >= due_at:
        return RED
    if warn_at is not None and now >= warn_at:
        return YELLOW
    return GREEN


def _end_of_day(day: date, tz: str) -> datetime:
    local = datetime.combine(day, time(23, 59, 59), ZoneInfo(tz))
    return local.astimezone(timezone.utc)


def _evaluate(rule: dict[str, Any], data: dict[str, Any], element_id: str | None) -> Any:
    try:
        return scripting.compile_expression(rule["expression"]).evaluate(data)
    except ScriptError as exc:
        raise ScriptError(f"the deadline expression {rule['expression']!r} failed: {exc.reason}",
                          element_id=element_id) from None


def _due_from_value(ctx: "CommandContext", value: Any, start: datetime,
                    element_id: str | None) -> tuple[datetime, bool, int | None]:
    """Interpret an expression's value: working days, a date, a moment or a duration."""
    tz = ctx.engine.config.timezone
    if isinstance(value, bool):
        value = None
    if isinstance(value, int):
        if value < 1:
            raise ScriptError(f"the deadline expression gave {value} working days; "
                              "a limit must be at least 1", element_id=element_id)
        limit = holidays.calendar(ctx).add_working_days(start, value)
        return limit.due, limit.provisional, value
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=ZoneInfo(tz))
        return moment.astimezone(timezone.utc), False, None
    if isinstance(value, date):
        return _end_of_day(value, tz), False, None
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            if "T" in text:
                return _due_from_value(ctx, datetime.fromisoformat(text), start, element_id)
            return _due_from_value(ctx, date.fromisoformat(text), start, element_id)
        except ValueError:
            pass
        try:
            return parse_duration(text).add_to(start, tz), False, None
        except TimeTextError:
            pass
    raise ScriptError(f"the deadline expression gave {value!r}; it must be a date, a date and "
                      "time, an ISO duration or a number of working days", element_id=element_id)


def compute(ctx: "CommandContext", rule: dict[str, Any], *, start: datetime,
            data: dict[str, Any], element_id: str | None = None) -> Limit:
    """The due and warn times of a deadline rule for a task created at *start*.

    :raise ScriptError: the rule's expression failed or gave something unusable.
    """
    tz = ctx.engine.config.timezone
    working_days = rule.get("working_days")
    provisional = False
    if rule.get("duration"):
        due = parse_duration(rule["duration"]).add_to(start, tz)
    elif working_days:
        limit = holidays.calendar(ctx).add_working_days(start, int(working_days))
        due, provisional = limit.due, limit.provisional
    elif rule.get("expression"):
        value = _evaluate(rule, data, element_id)
        due, provisional, working_days = _due_from_value(ctx, value, start, element_id)
    else:
        raise ValidationError({"deadline": "needs a duration, working days or an expression"})
    warn = _warn(ctx, rule, due)
    stored = {**rule, "start": start.isoformat()}
    if working_days:
        stored["resolved_working_days"] = int(working_days)
    return Limit(due, warn if warn is not None and warn < due else None, provisional, stored)


def _warn(ctx: "CommandContext", rule: dict[str, Any], due: datetime) -> datetime | None:
    tz = ctx.engine.config.timezone
    if rule.get("warn"):
        span = parse_duration(rule["warn"])
        return due - (span.add_to(due, tz) - due)
    days = int(rule.get("warn_working_days") or 1)
    return holidays.calendar(ctx).working_days_before(due, days)


def apply(ctx: "CommandContext", task: HumanTask, limit: Limit) -> None:
    """Store a task's limit and light, and (re)schedule its warn and due jobs."""
    task.due_at, task.warn_at = limit.due_at, limit.warn_at
    task.due_provisional = limit.provisional
    task.deadline_rule = json.dumps(limit.rule, ensure_ascii=False, sort_keys=True)
    task.light = light_at(ctx.now, limit.warn_at, limit.due_at)
    if limit.warn_at is not None and limit.warn_at > ctx.now:
        jobs.schedule(ctx, "task_warn", limit.warn_at, instance_id=task.instance_id,
                      task_id=task.id, dedupe_key=f"warn:{task.id}")
    else:
        jobs.unschedule(ctx, f"warn:{task.id}")
    jobs.schedule(ctx, "task_due", limit.due_at, instance_id=task.instance_id, task_id=task.id,
                  dedupe_key=f"due:{task.id}")


def forget(ctx: "CommandContext", task: HumanTask) -> None:
    """A closed task needs no more reminders or escalations."""
    jobs.unschedule(ctx, f"warn:{task.id}", f"due:{task.id}", f"escalate:{task.id}")


def refresh_instance_light(ctx: "CommandContext", instance_id: int) -> str | None:
    """The instance's light is the worst light among its open tasks."""
    ctx.session.flush()  # the lights just set on task rows must be in the query
    lights = ctx.session.execute(select(HumanTask.light).where(
        HumanTask.instance_id == instance_id, HumanTask.state == "open")).scalars().all()
    worst = max(lights, key=lambda light: LIGHT_ORDER.get(light, 0), default=None)
    row = ctx.session.get(ProcessInstance, instance_id)
    if row is not None and row.light != worst:
        row.light = worst
        item = ctx.session.execute(select(Item).where(Item.instance_id == instance_id)
                                   ).scalar_one_or_none()
        if item is not None and item.state not in ("closed", "cancelled"):
            item.light = worst
    return worst


def recompute_provisional(ctx: "CommandContext", *, by: str) -> int:
    """After a year's calendar is loaded: move every provisional due date, with its jobs."""
    moved = 0
    tasks = ctx.session.execute(select(HumanTask).where(
        HumanTask.state == "open", HumanTask.due_provisional.is_(True))).scalars().all()
    for task in tasks:
        rule = json.loads(task.deadline_rule or "{}")
        days = rule.get("resolved_working_days") or rule.get("working_days")
        if not days or "start" not in rule:
            continue
        old_due = task.due_at
        limit = holidays.calendar(ctx).add_working_days(datetime.fromisoformat(rule["start"]),
                                                        int(days))
        warn = _warn(ctx, rule, limit.due)
        apply(ctx, task, Limit(limit.due, warn if warn is not None and warn < limit.due else None,
                               limit.provisional, rule))
        refresh_instance_light(ctx, task.instance_id)
        ctx.record("task.deadline_recomputed", by=by, instance_id=task.instance_id,
                   task_id=task.id, before=old_due.isoformat() if old_due else None,
                   after=limit.due.isoformat(), provisional=limit.provisional)
        moved += 1
    return moved


def overdue_days(ctx: "CommandContext", due_at: datetime, now: datetime) -> int:
    """Working days a task is overdue (0 if not overdue)."""
    if now <= due_at:
        return 0
    return holidays.calendar(ctx).working_days_between(due_at, now)


__all__ = ["Limit", "light_at", "compute", "apply", "forget", "refresh_instance_light",
           "recompute_provisional", "overdue_days", "GREEN", "YELLOW", "RED"]
