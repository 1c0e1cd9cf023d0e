"""Who may see an organisation and act on a task or instance — written once.

A person sees the organisations where they hold a role and every one below
them. Commands call these predicates and raise ``PermissionDenied``; queries
filter by :func:`visible_org_paths`. The ``system`` actor (jobs, timers) may
do anything.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from engine.errors import PermissionDenied
from engine.models import (
    HumanTask, Membership, Organisation, Person, ProcessInstance, TaskCandidate, TaskCopy,
    TaskSigner,
)
from engine.organisations import SYSTEM_ACTOR, memberships

# instance pages
import json

from sqlalchemy import ColumnElement, false, true

from engine.models import AuditEvent

#: roles that may manage (cancel, suspend, resume, retry) instances they can see
MANAGER_ROLES = {"admin", "secretary", "inspector"}
#: roles that may urge, extend deadlines and decide extension requests: they supervise
#: the organisations they hold them in, and everything below
SUPERVISOR_ROLES = {"admin", "inspector", "secretary", "leader", "organisation_member"}


def is_admin(session: Session, username: str) -> bool:
    return username == SYSTEM_ACTOR or any(r == "admin" for r, _ in memberships(session, username))


def visible_org_paths(session: Session, username: str) -> list[str]:
    """Path prefixes of the organisations *username* may see (an office: its town's)."""
    return sorted({_scope(session, org) for _, org in memberships(session, username)})


def _visibility_query() -> Any:
    """Built once: a statement object costs more to build than to run."""
    m, p, o = Membership.__table__.c, Person.__table__.c, Organisation.__table__.c
    parent = Organisation.__table__.alias("parent")
    target = Organisation.__table__.alias("target")
    target_path = select(target.c.path).where(
        target.c.id == bindparam("org_id")).scalar_subquery()
    # an office (督查室, 党建工作站) acts for the town it belongs to
    return (select(m.id)
            .select_from(Membership.__table__.join(Person.__table__, p.id == m.person_id)
                         .join(Organisation.__table__, o.id == m.org_id)
                         .outerjoin(parent, parent.c.id == o.parent_id))
            .where(p.username == bindparam("username"), p.active.is_(True),
                   or_(m.role_code == "admin", target_path.startswith(o.path),
                       and_(o.kind == "office", target_path.startswith(parent.c.path))))
            .limit(1))


_VISIBLE = _visibility_query()


def can_see_org(session: Session, username: str, org_id: int | None) -> bool:
    """Whether *username* is an active admin or holds a role in the organisation or above it.

    One indexed query, since it runs on every start.
    """
    if username == SYSTEM_ACTOR:
        return True
    found = session.connection().execute(_VISIBLE, {"username": username, "org_id": org_id})
    return found.first() is not None


def is_candidate(session: Session, task: HumanTask, username: str) -> bool:
    return session.get(TaskCandidate, (task.id, username)) is not None


def require_task_actor(session: Session, task: HumanTask, username: str) -> None:
    """*username* must hold the task, or be a candidate of an unclaimed one, or be an admin."""
    if username == SYSTEM_ACTOR or task.assignee == username:
        return
    if task.assignee is None and is_candidate(session, task, username):
        return
    if is_admin(session, username):
        return
    if task.assignee is not None and is_candidate(session, task, username):
        raise PermissionDenied(f"task {task.id} is held by {task.assignee}")
    raise PermissionDenied(f"{username} is not a candidate of task {task.id}")


def require_instance_manager(session: Session, instance: ProcessInstance, username: str) -> None:
    if username == SYSTEM_ACTOR or is_admin(session, username):
        return
    for role, org in memberships(session, username):
        if role not in MANAGER_ROLES:
            continue
        target = session.get(Organisation, instance.org_id) if instance.org_id else None
        if target is not None and target.path.startswith(org.path):
            return
    if instance.started_by == username:
        return
    raise PermissionDenied(f"{username} may not manage instance {instance.id}")


def require_starter(session: Session, username: str, org_id: int | None) -> None:
    if not can_see_org(session, username, org_id):
        raise PermissionDenied(f"{username} may not start a process for this organisation")


def _scope(session: Session, org: Organisation) -> str:
    """The path an organisation's roles reach: an office (督查室, 党建工作站) acts for its town."""
    if org.kind == "office" and org.parent_id is not None:
        parent = session.get(Organisation, org.parent_id)
        if parent is not None:
            return parent.path
    return org.path


def supervised_paths(session: Session, username: str) -> list[str]:
    """Path prefixes of the organisations *username* supervises (``["/"]``: all of them)."""
    if is_admin(session, username):
        return ["/"]
    return sorted({_scope(session, org) for role, org in memberships(session, username)
                   if role in SUPERVISOR_ROLES})


def supervises(session: Session, username: str, org_id: int | None) -> bool:
    """Whether *username* holds a supervisor role at the organisation or above it."""
    paths = supervised_paths(session, username)
    if paths == ["/"]:
        return True
    target = session.get(Organisation, org_id) if org_id else None
    return target is not None and any(target.path.startswith(p) for p in paths)


def supervisors_of(session: Session, org_id: int | None) -> list[str]:
    """Active people who supervise an organisation (administrators aside: they may act
    everywhere, but are not told of every request), sorted."""
    target = session.get(Organisation, org_id) if org_id else None
    if target is None:
        return []
    ids = [int(p) for p in target.path.strip("/").split("/")]
    m, p, o = Membership.__table__.c, Person.__table__.c, Organisation.__table__.c
    rows = session.execute(
        select(p.username).distinct()
        .select_from(Membership.__table__.join(Person.__table__, p.id == m.person_id)
                     .join(Organisation.__table__, o.id == m.org_id))
        .where(p.active.is_(True), m.role_code.in_(SUPERVISOR_ROLES - {"admin"}),
               or_(o.id.in_(ids), and_(o.kind == "office", o.parent_id.in_(ids))))
        .order_by(p.username)).scalars()
    return list(rows)


def can_see_instance(session: Session, username: str, instance: ProcessInstance) -> bool:
    """Whether *username* may see an instance: they see its organisation, or they started
    it, hold or held one of its tasks, are a candidate or an added signer (加签) of one,
    or were sent a copy of it (抄送)."""
    if can_see_org(session, username, instance.org_id):
        return True
    active = session.execute(select(Person.active).where(Person.username == username)).scalar()
    if not active:
        return False
    if instance.started_by == username:
        return True
    t, iid = HumanTask, instance.id
    involved = select(or_(
        select(t.id).where(t.instance_id == iid, or_(t.assignee == username,
                                                     t.owner == username,
                                                     t.ended_by == username)).exists(),
        select(TaskCandidate.task_id).join(t, t.id == TaskCandidate.task_id)
        .where(t.instance_id == iid, TaskCandidate.username == username).exists(),
        select(TaskSigner.id).join(t, t.id == TaskSigner.task_id)
        .where(t.instance_id == iid, TaskSigner.username == username).exists(),
        select(TaskCopy.id).where(TaskCopy.instance_id == iid,
                                  TaskCopy.recipient == username).exists()))
    return bool(session.execute(involved).scalar()) or was_offered_a_task(session, username, iid)


def require_instance_viewer(session: Session, instance: ProcessInstance, username: str) -> None:
    if not can_see_instance(session, username, instance):
        raise PermissionDenied(f"{username} may not see instance {instance.id}")


__all__ = ["is_admin", "visible_org_paths", "can_see_org", "is_candidate",
           "require_task_actor", "require_instance_manager", "require_starter",
           "SUPERVISOR_ROLES", "supervised_paths", "supervises", "supervisors_of",
           "can_see_instance", "require_instance_viewer"]


# -- inbox ---------------------------------------------------------------------------

def can_see_task(session: Session, username: str, task: HumanTask) -> bool:
    """Whether *username* may see a task: they see its organisation (a role there or
    above it, or in an office of its town), or its instance (:func:`can_see_instance`:
    its starter, someone who holds, held or may claim one of its tasks, an added signer,
    a copy recipient). A village's secretary never sees another village's tasks."""
    if can_see_org(session, username, task.org_id):
        return True
    instance = session.get(ProcessInstance, task.instance_id)
    return instance is not None and can_see_instance(session, username, instance)


def people_seeing_org(session: Session, org_id: int | None) -> list[str]:
    """Active people who may see an organisation (as :func:`can_see_org` decides: a role
    in it or above it, in an office of a town at or above it, or administrators), sorted:
    who a task there may be handed to (转办, 委派, 加签, 抄送)."""
    target = session.get(Organisation, org_id) if org_id else None
    m, p, o = Membership.__table__.c, Person.__table__.c, Organisation.__table__.c
    query = (select(p.username).distinct()
             .select_from(Membership.__table__.join(Person.__table__, p.id == m.person_id)
                          .join(Organisation.__table__, o.id == m.org_id))
             .where(p.active.is_(True)))
    if target is None:
        query = query.where(m.role_code == "admin")
    else:
        ids = [int(i) for i in target.path.strip("/").split("/")]
        query = query.where(or_(m.role_code == "admin", o.id.in_(ids),
                                and_(o.kind == "office", o.parent_id.in_(ids))))
    return list(session.execute(query.order_by(p.username)).scalars())


__all__ += ["can_see_task", "people_seeing_org"]


# -- instance pages ------------------------------------------------------------------

#: audit actions that name who was offered or handed a task
_OFFERS = ("task.created", "task.transferred", "task.delegated")


def was_offered_a_task(session: Session, username: str, instance_id: int) -> bool:
    """Whether *username* was once a candidate or holder of one of the instance's tasks.

    Candidacy rows go when a task closes; the audit trail keeps who was offered it
    (one indexed look-up of the instance's few task events).
    """
    rows = session.execute(select(AuditEvent.detail).where(
        AuditEvent.instance_id == instance_id, AuditEvent.action.in_(_OFFERS),
        AuditEvent.detail.contains(json.dumps(username), autoescape=True))).scalars()
    for text in rows:
        detail = json.loads(text)
        named = {detail.get("assignee"), detail.get("to"), detail.get("from"),
                 *(detail.get("candidates") or [])}
        if username in named:
            return True
    return False


def can_manage_instance(session: Session, username: str, instance: ProcessInstance) -> bool:
    """Whether *username* may suspend, resume, cancel and retry the instance and see its
    incidents (as :func:`require_instance_manager` decides)."""
    try:
        require_instance_manager(session, instance, username)
    except PermissionDenied:
        return False
    return True


def instance_visibility(session: Session, username: str) -> ColumnElement[bool]:
    """A condition on ``process_instances`` matching the instances *username* may see, for
    lists: as :func:`can_see_instance`, less former candidates who never acted (finding
    them would scan the audit trail; they still open an instance they are sent to)."""
    if username == SYSTEM_ACTOR or is_admin(session, username):
        return true()
    active = session.execute(select(Person.active).where(Person.username == username)).scalar()
    if not active:
        return false()
    i, t = ProcessInstance, HumanTask
    mine = [i.started_by == username,
            i.id.in_(select(t.instance_id).where(t.assignee == username)),
            i.id.in_(select(t.instance_id).where(t.ended_by == username)),
            i.id.in_(select(t.instance_id).where(t.owner == username)),
            i.id.in_(select(t.instance_id).join(TaskCandidate, TaskCandidate.task_id == t.id)
                     .where(TaskCandidate.username == username)),
            i.id.in_(select(t.instance_id).join(TaskSigner, TaskSigner.task_id == t.id)
                     .where(TaskSigner.username == username)),
            i.id.in_(select(TaskCopy.instance_id).where(TaskCopy.recipient == username))]
    paths = visible_org_paths(session, username)
    if paths:
        mine.append(i.org_id.in_(select(Organisation.id).where(
            or_(*(Organisation.path.startswith(p) for p in paths)))))
    return or_(*mine)


__all__ += ["was_offered_a_task", "can_manage_instance", "instance_visibility"]
