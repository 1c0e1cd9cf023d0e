"""Deadline extension requests (延期申请): the holder asks, a supervisor decides.

An approval moves the limit through :func:`engine.supervision.extend_deadline`
in the same transaction, so a granted request and a supervisor's own extension
are one and the same change (jobs, light, notice, audit).
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine import handover, notices, permissions, runtime, supervision
from engine.commands import tasks
from engine.commands.runtime import check_text, require_actor
from engine.db.command import CommandContext
from engine.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from engine.models import ExtensionRequest, HumanTask, Notification
from engine.queries.extension_requests import extension_request_view
from engine.views import ExtensionRequestView

PENDING, APPROVED, REJECTED, WITHDRAWN = "pending", "approved", "rejected", "withdrawn"
#: the most working days one request may ask for
MAX_WORKING_DAYS = 250


def _local(ctx: CommandContext, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(ctx.engine.config.timezone)).strftime("%Y-%m-%d %H:%M")


def _asked(ctx: CommandContext, row: ExtensionRequest) -> str:
    if row.working_days is not None:
        return f"延长 {row.working_days} 个工作日"
    assert row.requested_due is not None
    return f"延至 {_local(ctx, row.requested_due)}"


def request_extension(ctx: CommandContext, task_id: str, *, by: str, reason: str,
                      working_days: int | None = None,
                      due: datetime | None = None) -> ExtensionRequestView:
    """Ask for a task's limit to move later: *working_days* more, or to *due* (延期申请).

    The supervisors of the task's organisation are told in-app; one of them decides.

    :raise ValidationError: no reason, not exactly one of *working_days* and *due*,
        or a *due* not later than the current limit.
    :raise PermissionDenied: *by* does not hold the task.
    :raise ConflictError: the task is closed, has no limit, or already has a pending
        request.
    """
    require_actor(ctx, by)
    text = check_text(reason, "reason", limit=2000)
    if (working_days is None) == (due is None):
        raise ValidationError({"working_days": "give exactly one of working_days and due"})
    if working_days is not None and (isinstance(working_days, bool) or
                                     not isinstance(working_days, int) or
                                     not 1 <= working_days <= MAX_WORKING_DAYS):
        raise ValidationError({"working_days": f"must be from 1 to {MAX_WORKING_DAYS}"})
    if due is not None:
        if not isinstance(due, datetime):
            raise ValidationError({"due": "must be a date and time"})
        if due.tzinfo is None:
            due = due.replace(tzinfo=ZoneInfo(ctx.engine.config.timezone))
    task, instance = tasks._open_task(ctx, task_id)
    holder = handover.holder(ctx.session, task)
    if not (holder == by or (holder is None and permissions.is_candidate(ctx.session, task, by))):
        raise PermissionDenied(f"only the holder of task {task.id} may ask for more time")
    if task.due_at is None:
        raise ConflictError(f"task {task.id} has no deadline to extend")
    if due is not None and due <= task.due_at:
        raise ValidationError({"due": "must be later than the current limit"})
    pending = ctx.session.execute(select(ExtensionRequest.id).where(
        ExtensionRequest.task_id == task.id, ExtensionRequest.state == PENDING)).scalar()
    if pending is not None:
        raise ConflictError(f"task {task.id} already has a pending extension request "
                            f"({pending}); withdraw it or wait for the decision")
    row = ExtensionRequest(task_id=task.id, instance_id=instance.id, requested_by=by,
                           reason=text, requested_due=due, working_days=working_days,
                           state=PENDING, created_at=ctx.now)
    ctx.session.add(row)
    # the version bump makes two racing requests on one task conflict
    tasks._touch(ctx, instance)
    runtime.add_history(ctx, task, "extension_requested", by=by, detail={
        "request_id": row.id, "reason": text, "working_days": working_days,
        "due": due.isoformat() if due else None})
    ctx.record("extension.requested", by=by, instance_id=instance.id, task_id=task.id,
               request_id=row.id, reason=text, working_days=working_days,
               due=due.isoformat() if due else None)
    process, name = handover.label(ctx, task)
    supervisors = [u for u in permissions.supervisors_of(ctx.session, task.org_id) if u != by]
    notices.notify(ctx, supervisors, kind="extension", title=f"【延期申请】{process}：{name}",
                   body=f"{handover.name_of(ctx.session, by)} 申请{_asked(ctx, row)}。理由：{text}",
                   event_key=f"extension:{row.id}:requested", instance_id=instance.id,
                   task_id=task.id, by=by)
    return extension_request_view(row, task)


def _pending_request(ctx: CommandContext, request_id: int) -> ExtensionRequest:
    row = ctx.session.get(ExtensionRequest, request_id)
    if row is None:
        raise NotFound(f"no extension request {request_id}")
    if row.state != PENDING:
        raise ConflictError(f"extension request {request_id} is already {row.state}")
    return row


def decide_extension(ctx: CommandContext, request_id: int, *, approve: bool, by: str,
                     note: str | None = None) -> ExtensionRequestView:
    """Approve or reject a pending extension request; the requester is told.

    An approval extends the task's limit exactly as :meth:`Engine.extend_deadline`
    does (new due and warn times, jobs, light, holders told, audit).

    :raise ValidationError: *approve* is not a boolean, or the asked limit is no
        longer later than the current one.
    :raise NotFound: no such request.
    :raise PermissionDenied: *by* does not supervise the task's organisation, or
        asked for the extension.
    :raise ConflictError: the request was decided or withdrawn, or its task closed.
    """
    require_actor(ctx, by)
    text = check_text(note, "note", limit=2000, required=False)
    if not isinstance(approve, bool):
        raise ValidationError({"approve": "must be true or false"})
    row = _pending_request(ctx, request_id)
    task, instance = tasks._open_task(ctx, row.task_id)
    supervision.require_supervisor(ctx, by, task.org_id)
    if by == row.requested_by:
        raise PermissionDenied("an extension request is decided by someone other than "
                               "the person who asked")
    new_due = None
    if approve:
        new_due = supervision.extend_deadline(ctx, task.id, by=by, reason=row.reason,
                                              due=row.requested_due,
                                              working_days=row.working_days)
    row.state = APPROVED if approve else REJECTED
    row.decided_by, row.decided_at, row.decision_note = by, ctx.now, text
    tasks._touch(ctx, instance)
    detail = {"request_id": row.id, "note": text,
              "due": new_due.isoformat() if new_due else None}
    runtime.add_history(ctx, task, f"extension_{row.state}", by=by, detail=detail)
    ctx.record(f"extension.{row.state}", by=by, instance_id=instance.id, task_id=task.id,
               **detail)
    _tell_requester(ctx, row, task, new_due)
    return extension_request_view(row, task)


def _tell_requester(ctx: CommandContext, row: ExtensionRequest, task: HumanTask,
                    new_due: datetime | None) -> None:
    if new_due is not None:
        # extend_deadline told the holders already; one notice of the same news is enough
        told = ctx.session.execute(select(Notification.id).where(
            Notification.dedupe_key == f"extended:{task.id}:{new_due.isoformat()}:"
                                       f"{row.requested_by}")).first()
        if told:
            return
    process, name = handover.label(ctx, task)
    verdict = f"已批准，时限延至 {_local(ctx, new_due)}" if new_due else "未获批准"
    notices.notify(ctx, [row.requested_by], kind="extension",
                   title=f"【延期申请{'已批准' if new_due else '未获批准'}】{process}：{name}",
                   body=f"您的延期申请{verdict}。" + (f"意见：{row.decision_note}"
                                                     if row.decision_note else ""),
                   event_key=f"extension:{row.id}:decided", instance_id=task.instance_id,
                   task_id=task.id, by=row.decided_by or "system")


def withdraw_extension_request(ctx: CommandContext, request_id: int, *,
                               by: str) -> ExtensionRequestView:
    """Withdraw one's own pending extension request.

    :raise NotFound: no such request.
    :raise PermissionDenied: *by* did not make it.
    :raise ConflictError: it was decided or withdrawn already, or its task closed.
    """
    require_actor(ctx, by)
    row = ctx.session.get(ExtensionRequest, request_id)
    if row is None:
        raise NotFound(f"no extension request {request_id}")
    if row.requested_by != by:
        raise PermissionDenied(f"only {row.requested_by} may withdraw extension request "
                               f"{request_id}")
    row = _pending_request(ctx, request_id)
    task, instance = tasks._open_task(ctx, row.task_id)
    row.state, row.decided_by, row.decided_at = WITHDRAWN, by, ctx.now
    tasks._touch(ctx, instance)
    runtime.add_history(ctx, task, "extension_withdrawn", by=by, detail={"request_id": row.id})
    ctx.record("extension.withdrawn", by=by, instance_id=instance.id, task_id=task.id,
               request_id=row.id)
    return extension_request_view(row, task)
