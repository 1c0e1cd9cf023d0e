"""Approval verbs around a task's holder: transfer (转办), delegate and resolve (委派),
add_signer and sign (加签), copy_to (抄送).

How delegation and added signers take a task away from its holder, and what
that forbids meanwhile, is told in :mod:`engine.handover`. Every verb here
bumps the instance's version, so two racing verbs cannot both win.
"""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import func, select

from engine import forms, handover, notices, permissions, runtime
from engine.commands import tasks
from engine.commands.runtime import check_data, check_text, require_actor
from engine.db.command import CommandContext
from engine.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from engine.handover import AFTER, BEFORE, PENDING, RESOLVED, SIGNED, WAITING
from engine.models import (
    Comment, HumanTask, Organisation, Person, ProcessInstance, ProcessVersion, TaskCopy,
    TaskSigner,
)
from engine.queries.collab import copy_view
from engine.queries.specs import form_of
from engine.queries.tasks import task_view
from engine.runtime import SUSPENDED
from engine.views import CopyView, TaskView

MAX_SIGNERS = 20
MAX_RECIPIENTS = 50


def _require_person(ctx: CommandContext, username: Any, org_id: int | None, field: str) -> None:
    """*username* must be an active person who can see the organisation."""
    if not isinstance(username, str) or not username:
        raise ValidationError({field: "must name a person"})
    active = ctx.session.execute(select(Person.active).where(
        Person.username == username)).scalar()
    if not active:
        raise ValidationError({field: f"{username!r} is not an active person"})
    if not permissions.can_see_org(ctx.session, username, org_id):
        org = ctx.session.get(Organisation, org_id) if org_id else None
        raise PermissionDenied(f"{username} cannot see {org.name if org else 'this organisation'}"
                               ", where the task belongs")


def _names(values: Any, field: str, most: int) -> list[str]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise ValidationError({field: "must be a list of usernames"})
    names = list(dict.fromkeys(v for v in values if v))
    if not names:
        raise ValidationError({field: "name at least one person"})
    if len(names) > most:
        raise ValidationError({field: f"at most {most} people"})
    return names


def _is_holder(ctx: CommandContext, task: HumanTask, by: str) -> bool:
    """*by* holds or owns the task, or is a candidate of it while nobody holds it.

    An owner whose task is away (委派, 加签) passes here, to be told by
    :func:`engine.handover.refuse_while_away` what they wait for.
    """
    return task.assignee == by or handover.waits_for_others(ctx.session, task, by) or (
        task.assignee is None and permissions.is_candidate(ctx.session, task, by))


def _said(text: str | None) -> str:
    return f"说明：{text}" if text else ""


def transfer(ctx: CommandContext, task_id: str, to: str, *, by: str,
             comment: str | None = None) -> TaskView:
    """Hand an open task to another person, who becomes its assignee (转办).

    The holder may transfer it, a candidate of an unclaimed task, or a supervisor
    of the task's organisation. *to* is told in-app.

    :raise ValidationError: *to* is not an active person or already holds the task.
    :raise NotFound: no task has this id.
    :raise PermissionDenied: *by* may not transfer the task, or *to* cannot see its
        organisation.
    :raise ConflictError: the task is closed, its instance is not running, or it is
        delegated or with its added signers.
    """
    require_actor(ctx, by)
    note = check_text(comment, "comment", required=False)
    task, instance = tasks._open_task(ctx, task_id)
    if not (_is_holder(ctx, task, by) or permissions.supervises(ctx.session, by, task.org_id)):
        raise PermissionDenied(f"{by} neither holds task {task.id} nor supervises its "
                               "organisation")
    handover.refuse_while_away(ctx.session, task, "transferred")
    _require_person(ctx, to, task.org_id, "to")
    if to == task.assignee:
        raise ValidationError({"to": f"{to} already holds this task"})
    previous = task.assignee
    # a new holder starts afresh: an earlier delegation was between other people
    task.assignee, task.owner, task.delegation = to, None, None
    tasks._touch(ctx, instance)
    runtime.add_history(ctx, task, "transferred", by=by,
                        detail={"from": previous, "to": to, "comment": note})
    ctx.record("task.transferred", by=by, instance_id=task.instance_id, task_id=task.id,
               to=to, comment=note, **{"from": previous})
    handover.tell(ctx, task, to, "转办", f"{handover.name_of(ctx.session, by)} 将"
                  f"「{handover.label(ctx, task)[1]}」转交您办理。{_said(note)}", by=by)
    return task_view(ctx.session, task, process_key=instance.process_key)


def delegate(ctx: CommandContext, task_id: str, to: str, *, by: str,
             comment: str | None = None) -> TaskView:
    """Let another person work on a task for its holder, who stays its owner (委派).

    The delegate cannot complete the task: they hand it back with :func:`resolve`,
    and the owner completes it.

    :raise ValidationError: *to* is not an active person, or is *by*.
    :raise PermissionDenied: *by* does not hold the task, or *to* cannot see its
        organisation.
    :raise ConflictError: the task is closed, or already delegated or with signers.
    """
    require_actor(ctx, by)
    note = check_text(comment, "comment", required=False)
    task, instance = tasks._open_task(ctx, task_id)
    if not _is_holder(ctx, task, by):
        raise PermissionDenied(f"only the holder of task {task.id} may delegate it")
    handover.refuse_while_away(ctx.session, task, "delegated")
    if to == by:
        raise ValidationError({"to": "a task cannot be delegated to its own holder"})
    _require_person(ctx, to, task.org_id, "to")
    task.owner, task.assignee, task.delegation = by, to, PENDING
    tasks._touch(ctx, instance)
    runtime.add_history(ctx, task, "delegated", by=by, detail={"to": to, "comment": note})
    ctx.record("task.delegated", by=by, instance_id=task.instance_id, task_id=task.id,
               owner=by, to=to, comment=note)
    handover.tell(ctx, task, to, "委派", f"{handover.name_of(ctx.session, by)} 委派您办理"
                  f"「{handover.label(ctx, task)[1]}」，办好后请交回。{_said(note)}", by=by)
    return task_view(ctx.session, task, process_key=instance.process_key)


def resolve(ctx: CommandContext, task_id: str, *, by: str, comment: str | None = None,
            data: dict[str, Any] | None = None) -> TaskView:
    """Hand a delegated task back to its owner (委派 → 交回).

    *data*, if given, is checked field by field against the task's form (nothing is
    required yet) and kept as a draft: the owner's completion starts from it, and
    what the owner submits wins.

    :raise ValidationError: a field of *data* is not in the form or has a bad value.
    :raise PermissionDenied: *by* is not the delegate.
    :raise ConflictError: the task is closed or not delegated.
    """
    require_actor(ctx, by)
    note = check_text(comment, "comment", required=False)
    payload = check_data(data)
    task, instance = tasks._open_task(ctx, task_id)
    if task.delegation != PENDING:
        raise ConflictError(f"task {task.id} is not delegated; there is nothing to resolve")
    if task.assignee != by:
        raise PermissionDenied(f"task {task.id} is delegated to {task.assignee}; only they may "
                               "resolve it")
    draft = None
    if payload:
        form = form_of(ctx.session, task.process_version_id, task.element_id)
        draft = forms.validate([{**f, "required": False} for f in form], payload)
        handover.keep_draft(task, draft)
    owner = task.owner
    task.assignee, task.delegation = owner, RESOLVED
    tasks._touch(ctx, instance)
    runtime.add_history(ctx, task, "resolved", by=by,
                        detail={"owner": owner, "comment": note, "data": draft})
    ctx.record("task.resolved", by=by, instance_id=task.instance_id, task_id=task.id,
               owner=owner, comment=note, data=draft)
    handover.tell(ctx, task, owner, "委派交回", f"{handover.name_of(ctx.session, by)} 已办好"
                  f"「{handover.label(ctx, task)[1]}」并交回，请您办理。{_said(note)}", by=by)
    return task_view(ctx.session, task, process_key=instance.process_key)


def add_signer(ctx: CommandContext, task_id: str, usernames: Iterable[str] | str, *,
               by: str, position: str = BEFORE, comment: str | None = None) -> TaskView:
    """Add people who sign a task before or after its holder (加签).

    ``before``: they sign first, one after another (the first has the task now),
    then the task is back with its holder. ``after``: the holder's completion is
    kept while they sign in turn; the last signature completes the task.

    :raise ValidationError: bad position, nobody named, the holder or someone already
        waiting named, or someone who is not an active person.
    :raise PermissionDenied: *by* may not act on the task, or a signer cannot see its
        organisation.
    :raise ConflictError: the task is closed, delegated or with its signers already.
    """
    require_actor(ctx, by)
    note = check_text(comment, "comment", required=False)
    if position not in (BEFORE, AFTER):
        raise ValidationError({"position": "must be before or after"})
    names = _names(usernames, "usernames", MAX_SIGNERS)
    task, instance = tasks._open_task(ctx, task_id)
    # an owner waiting for a delegate or signers is told why below
    if not handover.waits_for_others(ctx.session, task, by):
        permissions.require_task_actor(ctx.session, task, by)
    handover.refuse_while_away(ctx.session, task, "given more signers")
    holder = task.assignee or by
    if holder in names:
        raise ValidationError({"usernames": f"{holder} holds the task and signs by completing it"})
    waiting = {s.username for s in handover.waiting_signers(ctx.session, task, AFTER)}
    if waiting & set(names):
        raise ValidationError({"usernames": f"already waiting to sign: "
                                            f"{', '.join(sorted(waiting & set(names)))}"})
    for name in names:
        _require_person(ctx, name, task.org_id, "usernames")
    last = ctx.session.execute(select(func.max(TaskSigner.seq)).where(
        TaskSigner.task_id == task.id, TaskSigner.position == position)).scalar() or 0
    for seq, name in enumerate(names, start=last + 1):
        ctx.session.add(TaskSigner(task_id=task.id, username=name, position=position, seq=seq,
                                   state=WAITING, added_by=by, added_at=ctx.now))
    task.assignee = holder
    if position == BEFORE:
        task.owner, task.assignee = holder, names[0]
    tasks._touch(ctx, instance)
    runtime.add_history(ctx, task, "signers_added", by=by,
                        detail={"position": position, "signers": names, "comment": note})
    ctx.record("task.signers_added", by=by, instance_id=task.instance_id, task_id=task.id,
               position=position, signers=names, holder=holder, comment=note)
    if position == BEFORE:
        handover.tell(ctx, task, names[0], "加签", f"{handover.name_of(ctx.session, by)} 请您"
                      f"签署「{handover.label(ctx, task)[1]}」的意见。{_said(note)}", by=by)
    return task_view(ctx.session, task, process_key=instance.process_key)


def sign(ctx: CommandContext, task_id: str, *, by: str, opinion: str) -> TaskView:
    """Sign a task one was added to (加签), with an opinion everyone can read.

    The task moves to the next waiting signer; after the last signer before the
    holder it is back with the holder; the last signer after the holder completes
    it with the holder's kept data, and the process moves on.

    :raise ValidationError: no opinion, or a longer one than 4,000 characters.
    :raise PermissionDenied: *by* is not the signer whose turn it is.
    :raise ConflictError: the task is closed or not waiting for signatures.
    """
    require_actor(ctx, by)
    text = check_text(opinion, "opinion")
    task, instance = tasks._open_task(ctx, task_id)
    phase = handover.signing_phase(ctx.session, task)
    if phase is None:
        raise ConflictError(f"task {task.id} is not waiting for anyone to sign")
    waiting = handover.waiting_signers(ctx.session, task, phase)
    current = waiting[0]
    if current.username != by:
        if any(s.username == by for s in waiting):
            raise PermissionDenied(f"it is {current.username}'s turn to sign task {task.id}")
        raise PermissionDenied(f"{by} is not waiting to sign task {task.id}")
    current.state, current.opinion, current.signed_at = SIGNED, text, ctx.now
    ctx.session.add(Comment(instance_id=task.instance_id, task_id=task.id, author=by,
                            body=text, created_at=ctx.now))
    runtime.add_history(ctx, task, "signed", by=by, detail={"position": phase, "opinion": text})
    ctx.record("task.signed", by=by, instance_id=task.instance_id, task_id=task.id,
               position=phase, opinion=text)
    _, name = handover.label(ctx, task)
    if len(waiting) > 1:
        task.assignee = waiting[1].username
        handover.tell(ctx, task, task.assignee, "加签",
                      f"请您签署「{name}」的意见（{handover.name_of(ctx.session, by)} 已签）。", by=by)
    elif phase == BEFORE:
        task.assignee = task.owner
        handover.tell(ctx, task, task.owner, "加签完成",
                      f"「{name}」的加签人已全部签署，请您继续办理。", by=by)
    else:
        kept = handover.submitted(task) or {}
        task.assignee = task.owner
        tasks._touch(ctx, instance)  # and flush: the history reads signed, then completed
        return tasks.finish(ctx, task, instance, kept, by=by, checked=True)
    tasks._touch(ctx, instance)
    return task_view(ctx.session, task, process_key=instance.process_key)


def copy_to(ctx: CommandContext, recipients: Iterable[str] | str, *, by: str,
            instance_id: int | None = None, task_id: str | None = None,
            note: str | None = None) -> list[CopyView]:
    """Copy an instance, or one of its open tasks, to people for information (抄送).

    Anyone who may see the instance may copy it; each recipient gets an in-app
    notice and sees the instance from then on.

    :raise ValidationError: not exactly one of *instance_id* and *task_id*, nobody
        named, *by* named, or someone who is not an active person.
    :raise NotFound: no such instance or task.
    :raise PermissionDenied: *by* may not see the instance, or a recipient cannot see
        its organisation.
    :raise ConflictError: the task is closed or the instance suspended.
    """
    require_actor(ctx, by)
    text = check_text(note, "note", required=False)
    if (instance_id is None) == (task_id is None):
        raise ValidationError({"instance_id": "give exactly one of instance_id and task_id"})
    names = _names(recipients, "recipients", MAX_RECIPIENTS)
    task: HumanTask | None = None
    if task_id is not None:
        task, instance = tasks._open_task(ctx, task_id)
    else:
        instance = runtime.get_row(ctx, int(instance_id))  # type: ignore[arg-type]
        if instance.state == SUSPENDED:
            raise ConflictError(f"instance {instance.id} is suspended")
    permissions.require_instance_viewer(ctx.session, instance, by)
    if by in names:
        raise ValidationError({"recipients": "a copy to oneself says nothing"})
    for name in names:
        _require_person(ctx, name, instance.org_id, "recipients")
    rows = [TaskCopy(instance_id=instance.id, task_id=task.id if task else None, recipient=name,
                     sent_by=by, note=text, created_at=ctx.now) for name in names]
    ctx.session.add_all(rows)
    tasks._touch(ctx, instance)
    detail = {"to": names, "note": text}
    if task is not None:
        runtime.add_history(ctx, task, "copied", by=by, detail=detail)
    else:
        runtime.add_instance_history(ctx, instance.id, "copied", by=by, detail=detail)
    ctx.record("task.copied" if task else "instance.copied", by=by, instance_id=instance.id,
               task_id=task.id if task else None, recipients=names, note=text)
    title = _copy_title(ctx, instance, task)
    sender = handover.name_of(ctx.session, by)
    for row in rows:
        notices.notify(ctx, [row.recipient], kind="copy", title=title,
                       body=f"{sender} 抄送给您。{_said(text)}", event_key=f"copy:{row.id}",
                       instance_id=instance.id, task_id=row.task_id, by=by)
    return [copy_view(row) for row in rows]


def _copy_title(ctx: CommandContext, instance: ProcessInstance, task: HumanTask | None) -> str:
    process = ctx.session.execute(select(ProcessVersion.name).where(
        ProcessVersion.id == instance.process_version_id)).scalar() or instance.process_key
    what = (task.name or task.element_id) if task else (instance.business_key or f"#{instance.id}")
    return f"【抄送】{process}：{what}"


def mark_copy_read(ctx: CommandContext, copy_id: int, *, by: str) -> CopyView:
    """Mark a copy one received as read.

    :raise NotFound: no such copy was sent to *by*.
    """
    row = ctx.session.get(TaskCopy, copy_id)
    if row is None or row.recipient != by:
        raise NotFound(f"no copy {copy_id}")
    if row.read_at is None:
        row.read_at = ctx.now
    return copy_view(row)
