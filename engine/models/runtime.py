"""Running instances and the projections queries read (流程实例、待办)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UTCDateTime


class ProcessInstance(Base):
    __tablename__ = "process_instances"
    __table_args__ = (
        Index("ix_process_instances_key_state", "process_key", "state"),
        Index("ix_process_instances_org_state", "org_id", "state"),
        Index("ix_process_instances_org_light", "org_id", "light"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    business_key: Mapped[str | None] = mapped_column(String(200), index=True)
    #: running, completed, failed, cancelled, suspended
    state: Mapped[str] = mapped_column(String(20))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    started_by: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: the compacted SpiffWorkflow state (live tasks only), JSON
    state_json: Mapped[str] = mapped_column(Text)
    state_format: Mapped[str] = mapped_column(String(20))
    #: the instance data as of the last command, JSON
    data_json: Mapped[str] = mapped_column(Text)
    #: the error that failed the instance, JSON {"type", "message", "element_id", "line"}
    error_json: Mapped[str | None] = mapped_column(Text)
    #: worst light of the open tasks: green, yellow, red (None when nothing is timed)
    light: Mapped[str | None] = mapped_column(String(6))
    #: optimistic lock: every command bumps it; a stale writer gets ConflictError
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(Base):
    """A user or manual task, open or done: what the inbox reads."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        Index("ix_human_tasks_assignee_state", "assignee", "state"),
        Index("ix_human_tasks_instance_state", "instance_id", "state"),
        Index("ix_human_tasks_org_state", "org_id", "state"),
        Index("ix_human_tasks_state_due", "state", "due_at"),
        Index("ix_human_tasks_org_light", "org_id", "state", "light"),
        Index("ix_human_tasks_ended_by", "ended_by", "ended_at"),
    )

    #: the SpiffWorkflow task id
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"))
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(400))
    #: open, completed, cancelled
    state: Mapped[str] = mapped_column(String(20))
    assignee: Mapped[str | None] = mapped_column(String(64))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: green (on track), yellow (within the warning window), red (overdue); None: no limit
    light: Mapped[str | None] = mapped_column(String(6))
    #: the due date counted weekends only, for a year whose calendar is not loaded yet
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    #: how the limit was set, to recompute it (calendar loaded, deadline extended), JSON
    deadline_rule: Mapped[str | None] = mapped_column(Text)
    #: the highest 督办 level sent so far
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(64))
    #: 委派: the person a delegated task comes back to (the assignee is the delegate)
    owner: Mapped[str | None] = mapped_column(String(64))
    #: 委派: pending (with the delegate) or resolved (back with the owner)
    delegation: Mapped[str | None] = mapped_column(String(10))
    #: JSON, see engine/handover.py: {"draft": …} what a delegate filled in (委派), or
    #: {"submitted": …} the holder's checked data, kept until the after-signers sign (后加签)
    pending_data: Mapped[str | None] = mapped_column(Text)


class TaskCandidate(Base):
    """A person who may claim an open task."""

    __tablename__ = "task_candidates"

    task_id: Mapped[str] = mapped_column(ForeignKey("human_tasks.id"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class HistoryEvent(Base):
    """What happened to each BPMN element of an instance, in order (流转记录)."""

    __tablename__ = "history_events"
    __table_args__ = (Index("ix_history_events_instance", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(200))
    element_name: Mapped[str | None] = mapped_column(String(400))
    element_type: Mapped[str | None] = mapped_column(String(60))
    #: started, completed, cancelled, failed, claimed, unclaimed, suspended, ...
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class EventSubscription(Base):
    """An instance waiting for a message or signal, so correlation never loads workflows."""

    __tablename__ = "event_subscriptions"
    __table_args__ = (Index("ix_event_subscriptions_kind_name", "kind", "event_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    #: message or signal
    kind: Mapped[str] = mapped_column(String(10))
    event_name: Mapped[str] = mapped_column(String(200))
    #: the waiting task's id, or "trigger:<event subprocess id>" for a start trigger
    task_id: Mapped[str] = mapped_column(String(240))
