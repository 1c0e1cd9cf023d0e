"""A task as its page shows it to one person: what it is, where it stands, and the verbs
open to that person, decided by the rules the commands apply (``engine/permissions.py``).

Reads projection rows only, never a workflow.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import permissions
from engine.errors import NotFound
from engine.models import (
    ExtensionRequest, HumanTask, Organisation, ProcessElement, ProcessInstance, ProcessVersion,
    TaskCandidate, TaskSigner,
)
from engine.queries.extension_requests import extension_request_view
from engine.queries.inbox import names_of
from engine.queries.items import get_item
from engine.queries.tasks import task_view
from engine.views import ItemView, TaskDetailView


def _visible_task(session: Session, username: str, task_id: str) -> HumanTask:
    task = session.get(HumanTask, str(task_id))
    # a task one may not see does not exist, as far as one can tell
    if task is None or not permissions.can_see_task(session, username, task):
        raise NotFound(f"no task {task_id}")
    return task


def _signing(session: Session, task: HumanTask) -> str | None:
    """加签: ``after`` while the holder's completion waits for signers, ``before`` while
    signers before the holder wait (as :func:`engine.handover.signing_phase` decides)."""
    kept = json.loads(task.pending_data) if task.pending_data else {}
    if kept.get("submitted") is not None:
        return "after"
    waiting = session.execute(select(TaskSigner.id).where(
        TaskSigner.task_id == task.id, TaskSigner.position == "before",
        TaskSigner.state == "waiting").limit(1)).first()
    return "before" if waiting else None


def _actions(session: Session, username: str, task: HumanTask, instance: ProcessInstance,
             signing: str | None, pending: ExtensionRequest | None) -> set[str]:
    """The verbs *username* may use on the task now, by the rules the commands apply."""
    if instance.state == "suspended":
        return set()
    acts = {"comment", "copy"}
    if task.state != "open" or instance.state != "running":
        return acts
    away = task.delegation == "pending" or signing is not None
    candidate = permissions.is_candidate(session, task, username)
    holds = task.assignee == username or (task.assignee is None and candidate)
    supervises = permissions.supervises(session, username, task.org_id)
    if task.assignee is None and candidate:
        acts.add("claim")
    if not away and task.assignee == username and session.execute(
            select(TaskCandidate.username).where(TaskCandidate.task_id == task.id)
            .limit(1)).first():
        acts.add("unclaim")
    if not away and holds:
        acts |= {"complete", "delegate", "add_signer", "send_back"}
    if not away and (holds or supervises):
        acts.add("transfer")
    if task.delegation == "pending" and task.assignee == username:
        acts.add("resolve")
    if signing is not None and task.assignee == username:
        acts.add("sign")
    if holds or task.owner == username:
        acts.add("attach")
    if supervises and not holds and task.owner != username:
        acts.add("urge")
    holder = task.owner if away else task.assignee
    if task.due_at is not None and pending is None and (
            holder == username or (holder is None and candidate)):
        acts.add("request_extension")
    if pending is not None:
        if pending.requested_by == username:
            acts.add("withdraw_extension")
        elif supervises:
            acts.add("decide_extension")
    return acts


def _item_of(session: Session, instance_id: int) -> ItemView | None:
    try:
        return get_item(session, instance_id=instance_id)
    except NotFound:
        return None


def task_for(session: Session, username: str, task_id: str) -> TaskDetailView:
    """A task as its page shows it to *username*, with the verbs open to them.

    :raise NotFound: no such task, or *username* may not see it
        (:func:`engine.permissions.can_see_task`).
    """
    task = _visible_task(session, username, task_id)
    instance = session.get(ProcessInstance, task.instance_id)
    assert instance is not None
    version = session.get(ProcessVersion, task.process_version_id)
    org = session.get(Organisation, task.org_id) if task.org_id else None
    view = task_view(session, task, process_key=instance.process_key)
    signing = _signing(session, task) if task.state == "open" else None
    pending = session.execute(select(ExtensionRequest).where(
        ExtensionRequest.task_id == task.id, ExtensionRequest.state == "pending")
    ).scalar_one_or_none()
    away = task.delegation == "pending" or signing is not None
    kept = json.loads(task.pending_data) if task.pending_data else {}
    return TaskDetailView(
        task=view, process_name=version.name if version else None,
        org_code=org.code if org else None, org_name=org.name if org else None,
        instance_state=instance.state, business_key=instance.business_key,
        started_by=instance.started_by, item=_item_of(session, instance.id),
        holder=task.owner if away else task.assignee, owner=task.owner,
        delegation=task.delegation, signing=signing, draft=dict(kept.get("draft") or {}),
        extension_request=extension_request_view(pending, task) if pending else None,
        actions=frozenset(_actions(session, username, task, instance, signing, pending)),
        names=names_of(session, [task.assignee, task.owner, task.ended_by,
                                 instance.started_by, *view.candidates]),
        fields=_version_fields(session, task.process_version_id))


def _version_fields(session: Session, version_id: int) -> dict[str, dict[str, Any]]:
    """Every form field of a process version, by name, from its element rows."""
    found: dict[str, dict[str, Any]] = {}
    for extensions in session.execute(select(ProcessElement.extensions).where(
            ProcessElement.version_id == version_id).order_by(ProcessElement.element_id)
                                      ).scalars():
        for f in json.loads(extensions).get("form") or []:
            found.setdefault(f["name"], f)
    return found


def task_people(session: Session, username: str, task_id: str) -> list[tuple[str, str]]:
    """(username, name) of the people a task may be handed to or copied to (转办, 委派,
    加签, 抄送): those who may see its organisation, *username* aside.

    :raise NotFound: no such task, or *username* may not see it.
    """
    task = _visible_task(session, username, task_id)
    people = [u for u in permissions.people_seeing_org(session, task.org_id) if u != username]
    names = names_of(session, people)
    return [(u, names.get(u, u)) for u in people]
