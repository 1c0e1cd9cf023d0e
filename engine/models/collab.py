"""What people add around a task: comments, evidence files, copies (抄送),
added signers (加签) and deadline extension requests (延期申请)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UTCDateTime


class Comment(Base):
    """A remark on an instance, optionally on one of its tasks (意见、留言)."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_instance", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    author: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Attachment(Base):
    """An evidence file (佐证材料); its bytes live in :class:`AttachmentBlob`.

    Files are kept in the database, not on a web server's disk: every worker
    on every host sees them, they commit or roll back with the command that
    adds them, and nothing is ever reachable by a path.
    """

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_instance", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"))
    task_id: Mapped[str | None] = mapped_column(String(36), index=True)
    #: the uploaded name, sanitised (no folders, no control characters)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AttachmentBlob(Base):
    __tablename__ = "attachment_blobs"

    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class TaskCopy(Base):
    """A task or instance copied to a person for information (抄送)."""

    __tablename__ = "task_copies"
    __table_args__ = (Index("ix_task_copies_recipient", "recipient", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    recipient: Mapped[str] = mapped_column(String(64))
    sent_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TaskSigner(Base):
    """A person added to sign a task before or after its holder (加签)."""

    __tablename__ = "task_signers"
    __table_args__ = (Index("ix_task_signers_task", "task_id", "position", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("human_tasks.id"))
    username: Mapped[str] = mapped_column(String(64))
    #: before (前加签) or after (后加签) the holder
    position: Mapped[str] = mapped_column(String(6))
    seq: Mapped[int] = mapped_column(Integer)
    #: waiting, signed
    state: Mapped[str] = mapped_column(String(10))
    opinion: Mapped[str | None] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ExtensionRequest(Base):
    """A holder's request to move a task's limit later, and its decision (延期申请)."""

    __tablename__ = "extension_requests"
    __table_args__ = (Index("ix_extension_requests_state", "state", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("human_tasks.id"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"))
    requested_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    #: what is asked: a new due time, or a number of working days more
    requested_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    working_days: Mapped[int | None] = mapped_column(Integer)
    #: pending, approved, rejected, withdrawn
    state: Mapped[str] = mapped_column(String(10))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
