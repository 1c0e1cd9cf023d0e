"""Time as data: jobs, the notices they send, and the working-day calendar."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UTCDateTime


class Job(Base):
    """Something the engine must do at a time: fire a timer, light a task, send a notice.

    A worker leases due jobs (owner, expiry, and a fence number that grows with
    every lease); it runs each in its own transaction, which first re-checks
    that it still holds the lease, so a job's effect commits at most once.
    """

    __tablename__ = "jobs"
    # never reuse an id on SQLite: a reused id would confuse a lease taken before
    __table_args__ = (Index("ix_jobs_state_due", "state", "due_at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    task_id: Mapped[str | None] = mapped_column(String(240))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[str] = mapped_column(Text, default="{}")
    #: pending, or failed (an incident waiting for a person)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fence: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: one job per purpose: rescheduling replaces, never duplicates
    dedupe_key: Mapped[str | None] = mapped_column(String(300), unique=True)


class Notification(Base):
    """An in-app notice (提醒, 催办, 督办) for one person; the inbox shows them."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_recipient_read", "recipient", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(64))
    #: remind, overdue, urge, escalate, extended, info
    kind: Mapped[str] = mapped_column(String(20))
    level: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(400))
    body: Mapped[str] = mapped_column(Text)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    sent_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the event this notice is about, per recipient: the same event never notifies twice
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)


class ChannelConfig(Base):
    """An extra delivery channel of an organisation (e-mail, 企业微信, 钉钉)."""

    __tablename__ = "channel_configs"
    __table_args__ = (UniqueConstraint("org_id", "kind", name="uq_channel_org_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(20))
    settings: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class CalendarDay(Base):
    """An exception to the Monday–Friday rule: a holiday on a weekday, or 调休 on a weekend."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str | None] = mapped_column(String(100))
    year: Mapped[int] = mapped_column(Integer, index=True)


class CalendarYear(Base):
    """A year whose official calendar is loaded; other years count weekends only."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: chinese-calendar, or notice (entered by an admin)
    source: Mapped[str] = mapped_column(String(40))
    loaded_by: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
