"""Instance and history reads, from the instance row and history rows; the instance
list and the instance page (who may see an instance: :mod:`engine.permissions`)."""
from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import permissions
from engine.errors import NotFound, ValidationError
from engine.models import (
    HistoryEvent, HumanTask, Item, Job, Organisation, Person, ProcessElement, ProcessInstance,
    ProcessVersion,
)
from engine.queries.inbox import names_of, process_choices
from engine.queries.items import get_item
from engine.queries.people import visible_organisations
from engine.queries.tasks import open_tasks
from engine.queries.timeline import timeline_entries
from engine.views import (
    HistoryEventView, IncidentView, InstanceListView, InstancePageView, InstanceRow,
    InstanceView, ItemView, TimelineEntry,
)


def get_instance(session: Session, instance_id: int) -> InstanceView:
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFound(f"no process instance {instance_id}")
    return InstanceView(
        id=row.id, process_key=row.process_key, version=row.version,
        business_key=row.business_key, state=row.state, data=json.loads(row.data_json),
        org_id=row.org_id, started_by=row.started_by, started_at=row.started_at,
        ended_at=row.ended_at, error=json.loads(row.error_json) if row.error_json else None,
        lock_version=row.lock_version, light=row.light)


def history(session: Session, instance_id: int) -> list[HistoryEventView]:
    if session.get(ProcessInstance, instance_id) is None:
        raise NotFound(f"no process instance {instance_id}")
    rows = session.execute(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id)
                           .order_by(HistoryEvent.id)).scalars()
    return [HistoryEventView(r.element_id, r.element_name, r.element_type, r.kind, r.at, r.by,
                             r.task_id, json.loads(r.detail) if r.detail else None) for r in rows]


# -- instance pages ----------------------------------------------------------------------

#: the states an instance may be in, for the list's filter
STATES = ("running", "suspended", "failed", "completed", "cancelled")
MAX_PAGE = 100


def visible_instance(session: Session, username: str, instance_id: int) -> ProcessInstance:
    """The instance, if *username* may see it (:func:`engine.permissions.can_see_instance`).

    :raise NotFound: no such instance, or one *username* may not see: whoever may not see
        it cannot tell it from one that does not exist.
    """
    row = session.get(ProcessInstance, instance_id)
    if row is None or not permissions.can_see_instance(session, username, row):
        raise NotFound(f"no process instance {instance_id}")
    return row


def instance_for(session: Session, username: str, instance_id: int) -> InstanceView:
    """An instance as *username* may see it. :raise NotFound: none, or not visible."""
    visible_instance(session, username, instance_id)
    return get_instance(session, instance_id)


def instance_list(session: Session, username: str, *, process_key: str | None = None,
                  state: str | None = None, org: str | None = None, limit: int = 20,
                  offset: int = 0) -> InstanceListView:
    """A page of the instances *username* may see, newest first, and the filters' choices.

    :param org: an organisation's code: instances concerning it or one below it.
    :raise ValidationError: an unknown state or a bad page.
    :raise NotFound: no organisation *org*.
    """
    if not 0 < limit <= MAX_PAGE or offset < 0:
        raise ValidationError({"limit": f"must be between 1 and {MAX_PAGE}"})
    if state is not None and state not in STATES:
        raise ValidationError({"state": f"must be one of {', '.join(STATES)}"})
    i = ProcessInstance
    where = [permissions.instance_visibility(session, username)]
    if process_key is not None:
        where.append(i.process_key == process_key)
    if state is not None:
        where.append(i.state == state)
    if org is not None:
        root = session.execute(select(Organisation).where(Organisation.code == org)
                               ).scalar_one_or_none()
        if root is None:
            raise NotFound(f"no organisation {org!r}")
        where.append(i.org_id.in_(select(Organisation.id).where(
            Organisation.path.startswith(root.path, autoescape=True))))
    total = session.execute(select(func.count()).select_from(i).where(*where)).scalar_one()
    o, v, p, it = Organisation, ProcessVersion, Person, Item
    rows = session.execute(
        select(i.id, i.process_key, v.name, i.version, i.business_key, i.state, i.light,
               o.code, o.name, i.started_by, p.name, i.started_at, i.ended_at, it.number,
               it.title)
        .join(v, v.id == i.process_version_id)
        .outerjoin(o, o.id == i.org_id)
        .outerjoin(p, p.username == i.started_by)
        .outerjoin(it, it.instance_id == i.id)
        .where(*where).order_by(i.started_at.desc(), i.id.desc()).limit(limit).offset(offset)
    ).tuples().all()
    return InstanceListView(
        rows=tuple(InstanceRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9],
                               r[10] or r[9], r[11], r[12], r[13], r[14]) for r in rows),
        total=total, limit=limit, offset=offset,
        processes=tuple(process_choices(session)),
        orgs=tuple(visible_organisations(session, username)))


def incidents(session: Session, username: str, instance_id: int) -> tuple[IncidentView, ...]:
    """What stopped in an instance: its failure, then its failed jobs (oldest first).

    :raise NotFound: no such instance, or not visible to *username*.
    :raise PermissionDenied: *username* may see the instance but not manage it.
    """
    row = visible_instance(session, username, instance_id)
    permissions.require_instance_manager(session, row, username)
    return _incidents(session, row)


def _incidents(session: Session, row: ProcessInstance) -> tuple[IncidentView, ...]:
    names = _element_names(session, row.process_version_id)
    found = []
    if row.state == "failed" and row.error_json:
        error = json.loads(row.error_json)
        element = error.get("element_id")
        found.append(IncidentView("instance", error.get("message"), element_id=element,
                                  element_name=names.get(element) if element else None))
    jobs = session.execute(select(Job).where(Job.instance_id == row.id, Job.state == "failed")
                           .order_by(Job.due_at, Job.id).limit(MAX_PAGE)).scalars()
    tasks = dict(session.execute(select(HumanTask.id, HumanTask.name).where(
        HumanTask.instance_id == row.id)).tuples().all())
    for job in jobs:
        found.append(IncidentView(job.kind, job.last_error, job_id=job.id, task_id=job.task_id,
                                  element_name=tasks.get(job.task_id or ""),
                                  attempts=job.attempts, due_at=job.due_at))
    return tuple(found)


def _element_names(session: Session, version_id: int) -> dict[str, str]:
    return {e: n for e, n in session.execute(
        select(ProcessElement.element_id, ProcessElement.name)
        .where(ProcessElement.version_id == version_id)).tuples() if n}


def _labels(session: Session, version_id: int) -> dict[str, str]:
    """Data name → the label a form of the version gives it (the first one found)."""
    labels: dict[str, str] = {}
    for text in session.execute(select(ProcessElement.extensions).where(
            ProcessElement.version_id == version_id)).scalars():
        for field in json.loads(text).get("form") or []:
            labels.setdefault(field["name"], field.get("label") or field["name"])
    return labels


def instance_page(session: Session, username: str, instance_id: int, *,
                  timeline_limit: int = 500) -> InstancePageView:
    """Everything the instance page shows to *username*: the instance, its open tasks,
    its item, its timeline and, for those who may manage it, its incidents.

    :raise NotFound: no such instance, or not visible to *username*.
    """
    row = visible_instance(session, username, instance_id)
    view = get_instance(session, instance_id)
    version = session.get(ProcessVersion, row.process_version_id)
    org = session.get(Organisation, row.org_id) if row.org_id else None
    tasks = open_tasks(session, instance_id=row.id, limit=500)
    manage = permissions.can_manage_instance(session, username, row)
    item = _item(session, row.id)
    names = names_of(session, [row.started_by, *(t.assignee for t in tasks),
                               *(t.owner for t in tasks),
                               *(c for t in tasks for c in t.candidates),
                               item.responsible_person if item else None,
                               item.lead_leader if item else None])
    return InstancePageView(
        instance=view, process_name=version.name if version else None,
        org_code=org.code if org else None, org_name=org.name if org else None,
        started_by_name=names.get(row.started_by, row.started_by), tasks=tuple(tasks),
        names=names, item=item,
        timeline=tuple(timeline_entries(session, row, limit=timeline_limit)),
        can_manage=manage, incidents=_incidents(session, row) if manage else (),
        labels=_labels(session, row.process_version_id))


def _item(session: Session, instance_id: int) -> ItemView | None:
    try:
        return get_item(session, instance_id=instance_id)
    except NotFound:
        return None


def timeline(session: Session, username: str, instance_id: int, *,
             limit: int = 500) -> list[TimelineEntry]:
    """The instance's timeline, oldest first: its newest *limit* audit events in
    human terms (:mod:`engine.queries.timeline`).

    :raise NotFound: no such instance, or not visible to *username*.
    """
    if not 0 < limit <= 5000:
        raise ValidationError({"limit": "must be between 1 and 5000"})
    return timeline_entries(session, visible_instance(session, username, instance_id),
                            limit=limit)
