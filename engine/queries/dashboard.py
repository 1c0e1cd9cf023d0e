"""The supervisor's dashboard: lights by unit and by procedure, and the task lists.

Everything is read from projection rows — open tasks (``human_tasks``), items,
instances and organisations — grouped in SQL, so the cost follows the number of
organisations and procedures, never the number of instances or their history.
See :mod:`engine.queries.units` for the scope and its units.

Definitions:

- a task is *open* while its row is ``open``; an item is *open* until it is
  closed (销号) or cancelled;
- a task counts for the unit holding it (the organisation its assignee or
  candidates were found in); an item for its responsible unit (责任单位), else
  the organisation it concerns;
- lights are the stored ones (green, yellow, red, or ``none``: no limit);
- *overdue* means due before now, whatever the stored light says (a worker
  that has not yet switched it does not hide a late task);
- days overdue are given twice: working days past the due moment (工作日,
  what the 督办 notices say: days ``d`` with due date < ``d`` <= today that are
  working days) and calendar days between the local due date and today.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from engine import holidays
from engine.errors import ValidationError
from engine.models import (
    HumanTask, Item, Organisation, Person, ProcessInstance, ProcessVersion, TaskCandidate,
)
from engine.queries import units
from engine.views import (
    DashboardView, LightCounts, ProcedureLights, SupervisedTaskView, TaskPage, UnitLights,
)

MAX_PAGE = 500
LIGHTS = ("green", "yellow", "red", "none")
CLOSED_STATES = ("closed", "cancelled")


def _add(counts: dict[str, int], light: str | None, n: int) -> None:
    key = light if light in ("green", "yellow", "red") else "none"
    counts[key] = counts.get(key, 0) + n


def _lights(counts: dict[str, int] | None) -> LightCounts:
    return LightCounts(**(counts or {}))


def process_names(session: Session, keys: set[str]) -> dict[str, str | None]:
    """The name of the newest version of each process."""
    if not keys:
        return {}
    names: dict[str, str | None] = {}
    for key, name in session.execute(select(ProcessVersion.process_key, ProcessVersion.name)
                                     .where(ProcessVersion.process_key.in_(keys))
                                     .order_by(ProcessVersion.version)):
        names[key] = name
    return names


def dashboard(session: Session, username: str, *, org: str | None = None,
              now: datetime) -> DashboardView:
    """Open tasks and open items under *org* by light, per unit and per procedure.

    :raise NotFound: no such organisation.
    :raise PermissionDenied: *username* may not see it.
    """
    scope = units.resolve(session, username, org)
    under = Organisation.path.startswith(scope.org.path, autoescape=True)
    by_unit: dict[int, dict[str, dict[str, int]]] = {}
    by_key: dict[str, dict[str, dict[str, int]]] = {}
    task_rows = session.execute(
        select(HumanTask.org_id, ProcessInstance.process_key, HumanTask.light, func.count())
        .join(Organisation, Organisation.id == HumanTask.org_id)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.state == "open", under)
        .group_by(HumanTask.org_id, ProcessInstance.process_key, HumanTask.light)).all()
    for org_id, key, light, n in task_rows:
        unit = scope.unit_of[org_id]
        _add(by_unit.setdefault(unit.id, {}).setdefault("tasks", {}), light, n)
        _add(by_key.setdefault(key, {}).setdefault("tasks", {}), light, n)
    responsible = aliased(Organisation)
    item_rows = session.execute(
        select(Item.org_id, responsible.id, ProcessInstance.process_key, Item.light, func.count())
        .join(Organisation, Organisation.id == Item.org_id)
        .join(ProcessInstance, ProcessInstance.id == Item.instance_id)
        .outerjoin(responsible, responsible.code == Item.responsible_unit)
        .where(Item.state.not_in(CLOSED_STATES), under)
        .group_by(Item.org_id, responsible.id, ProcessInstance.process_key, Item.light)).all()
    for org_id, responsible_id, key, light, n in item_rows:
        unit = units.unit_for(scope, org_id, responsible_id)
        if unit is not None:
            _add(by_unit.setdefault(unit.id, {}).setdefault("items", {}), light, n)
        _add(by_key.setdefault(key, {}).setdefault("items", {}), light, n)
    overdue = session.execute(
        select(func.count()).select_from(HumanTask)
        .join(Organisation, Organisation.id == HumanTask.org_id)
        .where(HumanTask.state == "open", HumanTask.due_at < now, under)).scalar_one()
    names = process_names(session, set(by_key))
    unit_views = tuple(
        UnitLights(u.code, u.name, u.kind, _lights(by_unit.get(u.id, {}).get("tasks")),
                   _lights(by_unit.get(u.id, {}).get("items"))) for u in scope.units)
    procedures = tuple(
        ProcedureLights(key, names.get(key), _lights(by_key[key].get("tasks")),
                        _lights(by_key[key].get("items"))) for key in sorted(by_key))
    task_total: dict[str, int] = {}
    item_total: dict[str, int] = {}
    for counts in by_key.values():
        for light, n in counts.get("tasks", {}).items():
            _add(task_total, light, n)
        for light, n in counts.get("items", {}).items():
            _add(item_total, light, n)
    return DashboardView(scope.org.code, scope.org.name, unit_views, procedures,
                         _lights(task_total), _lights(item_total), int(overdue), now)


def _people_names(session: Session, usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    return dict(session.execute(select(Person.username, Person.name)
                                .where(Person.username.in_(usernames))).tuples().all())


def task_list(session: Session, username: str, *, now: datetime, tz: str,
              org: str | None = None, unit: str | None = None, process_key: str | None = None,
              light: str | None = None, overdue: bool = False, limit: int = 100,
              offset: int = 0) -> TaskPage:
    """Open tasks under *org* (drill-down of the dashboard), with what a 催办 needs.

    Filtered by unit (a unit code of the scope), procedure (process key), light
    (green, yellow, red or none) and *overdue* (due before now). Overdue lists
    come most overdue first; other lists by due time, untimed tasks last.

    :raise ValidationError: a bad light or page.
    :raise NotFound: no such organisation, or *unit* is not a unit of it.
    :raise PermissionDenied: *username* may not see *org*.
    """
    if not 0 < limit <= MAX_PAGE or offset < 0:
        raise ValidationError({"limit": f"must be between 1 and {MAX_PAGE}"})
    if light is not None and light not in LIGHTS:
        raise ValidationError({"light": f"must be one of {', '.join(LIGHTS)}"})
    scope = units.resolve(session, username, org)
    conditions: list[Any] = [HumanTask.state == "open",
                             Organisation.path.startswith(scope.org.path, autoescape=True)]
    if unit is not None:
        conditions.append(HumanTask.org_id.in_(scope.unit_ids(unit)))
    if process_key is not None:
        conditions.append(ProcessInstance.process_key == process_key)
    if light == "none":
        conditions.append(HumanTask.light.is_(None))
    elif light is not None:
        conditions.append(HumanTask.light == light)
    if overdue:
        conditions.append(HumanTask.due_at < now)
    base = (select(HumanTask.id)
            .join(Organisation, Organisation.id == HumanTask.org_id)
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(*conditions))
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = session.execute(
        select(HumanTask.id, HumanTask.name, HumanTask.instance_id, HumanTask.assignee,
               HumanTask.org_id, HumanTask.light, HumanTask.escalation_level,
               HumanTask.created_at, HumanTask.due_at, ProcessInstance.process_key,
               Item.number, Item.title, Item.lead_leader)
        .join(Organisation, Organisation.id == HumanTask.org_id)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .outerjoin(Item, Item.instance_id == HumanTask.instance_id)
        .where(*conditions)
        .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at,
                  HumanTask.id)
        .limit(limit).offset(offset)).all()
    candidates: dict[str, list[str]] = {}
    if rows:
        for task_id, name in session.execute(
                select(TaskCandidate.task_id, TaskCandidate.username)
                .where(TaskCandidate.task_id.in_([r.id for r in rows]))
                .order_by(TaskCandidate.username)):
            candidates.setdefault(task_id, []).append(name)
    people = _people_names(session, {u for r in rows for u in (r.assignee, r.lead_leader) if u}
                           | {u for names in candidates.values() for u in names})
    keys = process_names(session, {r.process_key for r in rows})
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    calendar = holidays.stored_calendar(session, tz)
    views = []
    for r in rows:
        holder = scope.orgs.get(r.org_id)
        unit_ref = scope.unit_of.get(r.org_id)
        names = tuple(candidates.get(r.id, ()))
        holders = (r.assignee,) if r.assignee else names
        late = r.due_at is not None and r.due_at < now
        views.append(SupervisedTaskView(
            task_id=r.id, task_name=r.name, instance_id=r.instance_id,
            process_key=r.process_key, process_name=keys.get(r.process_key),
            org_code=holder.code if holder else None, org_name=holder.name if holder else None,
            unit_code=unit_ref.code if unit_ref else None,
            unit_name=unit_ref.name if unit_ref else None,
            assignee=r.assignee, candidates=names,
            holder_names=tuple(people.get(u, u) for u in holders),
            item_number=r.number, item_title=r.title, lead_leader=r.lead_leader,
            lead_leader_name=people.get(r.lead_leader) if r.lead_leader else None,
            light=r.light, escalation_level=r.escalation_level or 0,
            created_at=r.created_at, due_at=r.due_at,
            overdue_working_days=calendar.working_days_between(r.due_at, now) if late else 0,
            overdue_calendar_days=(today - r.due_at.astimezone(zone).date()).days
            if late else 0))
    return TaskPage(tuple(views), int(total), limit, offset)


__all__ = ["dashboard", "task_list", "process_names", "MAX_PAGE"]
