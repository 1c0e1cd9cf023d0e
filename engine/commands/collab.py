"""What people add around a task: comments (意见、留言) and evidence files (佐证材料)."""
from __future__ import annotations

import hashlib

from engine import evidence, handover, permissions, runtime
from engine.commands import tasks
from engine.commands.runtime import check_text, require_actor
from engine.db.command import CommandContext
from engine.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from engine.models import Attachment, AttachmentBlob, Comment
from engine.queries.collab import attachment_view, comment_view
from engine.runtime import SUSPENDED
from engine.views import AttachmentView, CommentView

#: the longest comment, in characters
MAX_COMMENT = 4000


def add_comment(ctx: CommandContext, instance_id: int, body: str, *, by: str,
                task_id: str | None = None) -> CommentView:
    """Add a comment to an instance, or to one of its open tasks.

    :raise ValidationError: an empty body, one longer than 4,000 characters, or a task
        of another instance.
    :raise NotFound: no such instance or task.
    :raise PermissionDenied: *by* may not see the instance.
    :raise ConflictError: the task is closed or the instance suspended.
    """
    require_actor(ctx, by)
    text = check_text(body, "body", limit=MAX_COMMENT)
    instance = runtime.get_row(ctx, instance_id)
    if task_id is not None:
        task, _ = tasks._open_task(ctx, task_id)
        if task.instance_id != instance.id:
            raise ValidationError({"task_id": f"is not a task of instance {instance.id}"})
    elif instance.state == SUSPENDED:
        raise ConflictError(f"instance {instance.id} is suspended")
    permissions.require_instance_viewer(ctx.session, instance, by)
    row = Comment(instance_id=instance.id, task_id=task_id, author=by, body=text,
                  created_at=ctx.now)
    ctx.session.add(row)
    tasks._touch(ctx, instance)
    ctx.record("comment.added", by=by, instance_id=instance.id, task_id=task_id,
               comment_id=row.id, body=text)
    return comment_view(row)


def add_attachment(ctx: CommandContext, task_id: str, filename: str, content: bytes, *,
                   by: str, content_type: str | None = None) -> AttachmentView:
    """Attach an evidence file to an open task.

    The name is made safe (:func:`engine.evidence.clean_filename`) and the type is
    decided by the name's extension *and* the content's first bytes; *content_type*,
    what the client claimed, is only recorded.

    :raise ValidationError: on field ``file``: empty, larger than the configured
        ``attachment_max_bytes``, a type not accepted, or content that does not
        match its name.
    :raise NotFound: no task has this id.
    :raise PermissionDenied: *by* may not act on the task and is not its owner.
    :raise ConflictError: the task is closed or its instance not running.
    """
    require_actor(ctx, by)
    if not isinstance(content, (bytes, bytearray, memoryview)):
        raise ValidationError({"file": "must be the file's bytes"})
    data = bytes(content)
    most = ctx.engine.config.attachment_max_bytes
    if not data:
        raise ValidationError({"file": "is empty"})
    if len(data) > most:
        raise ValidationError({"file": f"is {len(data)} bytes; at most {most} are accepted"})
    name = evidence.clean_filename(filename)
    stored_type = evidence.content_type(name, data)
    task, instance = tasks._open_task(ctx, task_id)
    # the holder of a task away (委派, 加签) may still add evidence to it
    if not handover.waits_for_others(ctx.session, task, by):
        permissions.require_task_actor(ctx.session, task, by)
    digest = hashlib.sha256(data).hexdigest()
    row = Attachment(instance_id=instance.id, task_id=task.id, filename=name,
                     content_type=stored_type, size=len(data), sha256=digest, uploaded_by=by,
                     uploaded_at=ctx.now)
    ctx.session.add(row)
    ctx.session.flush()
    ctx.session.add(AttachmentBlob(attachment_id=row.id, content=data))
    tasks._touch(ctx, instance)
    runtime.add_history(ctx, task, "attachment_added", by=by,
                        detail={"attachment_id": row.id, "filename": name, "size": len(data)})
    ctx.record("attachment.added", by=by, instance_id=instance.id, task_id=task.id,
               attachment_id=row.id, filename=name, size=len(data), sha256=digest,
               content_type=stored_type, claimed_type=content_type)
    return attachment_view(row)


def attachment_content(ctx: CommandContext, attachment_id: int, *,
                       by: str) -> tuple[AttachmentView, bytes]:
    """An evidence file and its bytes, for someone who may see its instance; the
    reading is audited.

    :raise NotFound: no such file.
    :raise PermissionDenied: *by* may not see the file's instance.
    """
    require_actor(ctx, by)
    row = ctx.session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound(f"no attachment {attachment_id}")
    instance = runtime.get_row(ctx, row.instance_id)
    if not permissions.can_see_instance(ctx.session, by, instance):
        raise PermissionDenied(f"{by} may not see attachment {attachment_id}")
    blob = ctx.session.get(AttachmentBlob, row.id)
    if blob is None:
        raise NotFound(f"attachment {attachment_id} has no content")
    ctx.record("attachment.read", by=by, instance_id=row.instance_id, task_id=row.task_id,
               attachment_id=row.id, filename=row.filename, sha256=row.sha256)
    return attachment_view(row), bytes(blob.content)
