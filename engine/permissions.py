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
    HumanTask, Membership, Organisation, Person, ProcessInstance, TaskCandidate,
)
from engine.organisations import SYSTEM_ACTOR, memberships

#: roles that may manage (cancel, suspend, resume, retry) instances they can see
MANAGER_ROLES = {"admin", "secretary", "inspector"}


def is_admin(session: Session, username: str) -> bool:
    return username == SYSTEM_ACTOR or any(r == "admin" for r, _ in memberships(session, username))


def visible_org_paths(session: Session, username: str) -> list[str]:
    """Path prefixes of the organisations *username* may see (an office: its town's)."""
    paths = set()
    for _, org in memberships(session, username):
        if org.kind == "office" and org.parent_id is not None:
            parent = session.get(Organisation, org.parent_id)
            paths.add(parent.path if parent is not None else org.path)
        else:
            paths.add(org.path)
    return sorted(paths)


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


__all__ = ["is_admin", "visible_org_paths", "can_see_org", "is_candidate",
           "require_task_actor", "require_instance_manager", "require_starter"]
