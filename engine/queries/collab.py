"""Reads of what people add around a task: comments, evidence files, copies, signers.

Comments, files and signers are shown only to someone who may see the instance
(:func:`engine.permissions.can_see_instance`); copies only to their recipient.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import permissions
from engine.errors import NotFound, ValidationError
from engine.models import (
    Attachment, Comment, HumanTask, ProcessInstance, TaskCopy, TaskSigner,
)
from engine.views import AttachmentView, CommentView, CopyView, SignerView

MAX_PAGE = 500


def comment_view(row: Comment) -> CommentView:
    return CommentView(row.id, row.instance_id, row.task_id, row.author, row.body,
                       row.created_at)


def attachment_view(row: Attachment) -> AttachmentView:
    return AttachmentView(row.id, row.instance_id, row.task_id, row.filename, row.content_type,
                          row.size, row.sha256, row.uploaded_by, row.uploaded_at)


def copy_view(row: TaskCopy) -> CopyView:
    return CopyView(row.id, row.instance_id, row.task_id, row.recipient, row.sent_by, row.note,
                    row.created_at, row.read_at)


def signer_view(row: TaskSigner) -> SignerView:
    return SignerView(row.id, row.task_id, row.username, row.position, row.seq, row.state,
                      row.opinion, row.added_by, row.added_at, row.signed_at)


def _page(limit: int, offset: int) -> None:
    if not 0 < limit <= MAX_PAGE or offset < 0:
        raise ValidationError({"limit": f"must be between 1 and {MAX_PAGE}"})


def _visible_instance(session: Session, instance_id: int, by: str) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"no process instance {instance_id}")
    permissions.require_instance_viewer(session, instance, by)
    return instance


def comments(session: Session, instance_id: int, *, by: str, limit: int = 100,
             offset: int = 0) -> list[CommentView]:
    """An instance's comments (signers' opinions among them), oldest first.

    :raise PermissionDenied: *by* may not see the instance.
    """
    _page(limit, offset)
    _visible_instance(session, instance_id, by)
    rows = session.execute(select(Comment).where(Comment.instance_id == instance_id)
                           .order_by(Comment.id).limit(limit).offset(offset)).scalars()
    return [comment_view(r) for r in rows]


def attachments(session: Session, *, by: str, instance_id: int | None = None,
                task_id: str | None = None, limit: int = 100,
                offset: int = 0) -> list[AttachmentView]:
    """Evidence files of an instance, or of one of its tasks, oldest first.

    :raise PermissionDenied: *by* may not see the instance.
    """
    _page(limit, offset)
    if (instance_id is None) == (task_id is None):
        raise ValidationError({"instance_id": "give exactly one of instance_id and task_id"})
    query = select(Attachment)
    if task_id is not None:
        task = session.get(HumanTask, str(task_id))
        if task is None:
            raise NotFound(f"no task {task_id}")
        _visible_instance(session, task.instance_id, by)
        query = query.where(Attachment.task_id == task.id)
    else:
        _visible_instance(session, int(instance_id), by)  # type: ignore[arg-type]
        query = query.where(Attachment.instance_id == instance_id)
    rows = session.execute(query.order_by(Attachment.id).limit(limit).offset(offset)).scalars()
    return [attachment_view(r) for r in rows]


def copies(session: Session, username: str, *, unread_only: bool = False, limit: int = 100,
           offset: int = 0) -> list[CopyView]:
    """What was copied to *username* (抄送我的), newest first."""
    _page(limit, offset)
    query = select(TaskCopy).where(TaskCopy.recipient == username)
    if unread_only:
        query = query.where(TaskCopy.read_at.is_(None))
    rows = session.execute(query.order_by(TaskCopy.created_at.desc(), TaskCopy.id.desc())
                           .limit(limit).offset(offset)).scalars()
    return [copy_view(r) for r in rows]


def signers(session: Session, task_id: str, *, by: str) -> list[SignerView]:
    """A task's added signers (加签): those before the holder, then those after, in turn.

    :raise PermissionDenied: *by* may not see the task's instance.
    """
    task = session.get(HumanTask, str(task_id))
    if task is None:
        raise NotFound(f"no task {task_id}")
    _visible_instance(session, task.instance_id, by)
    rows = session.execute(select(TaskSigner).where(TaskSigner.task_id == task.id)
                           .order_by(TaskSigner.seq, TaskSigner.id)).scalars().all()
    return [signer_view(r) for r in sorted(rows, key=lambda r: r.position != "before")]
