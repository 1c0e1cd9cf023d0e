"""Items (问题、督办事项、信访案件): the rows the ledger (台账) reads."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UTCDateTime


class Item(Base):
    """One tracked item, linked to the instance that works on it.

    Its fields come from the instance data under fixed names (title, source,
    category, responsible_unit, responsible_person, lead_leader, measures,
    due_date); its state from ``duban:itemState`` marks on the process's steps;
    its light from the instance. It is closed (销号) only by a step marked
    ``closed`` — in the shipped procedures, the one after acceptance.
    """

    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_org_state_light", "org_id", "state", "light"),
        Index("ix_items_kind_state", "kind", "state"),
        Index("ix_items_unit_state", "responsible_unit", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    #: problem (问题), matter (督办事项), petition (信访案件), ...
    kind: Mapped[str] = mapped_column(String(20))
    #: e.g. WT-2026-0007: kind prefix, year, sequence within kind and year
    number: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str | None] = mapped_column(String(400))
    source: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(100))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    responsible_unit: Mapped[str | None] = mapped_column(String(64))
    responsible_person: Mapped[str | None] = mapped_column(String(64))
    lead_leader: Mapped[str | None] = mapped_column(String(64))
    measures: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    #: registered, assigned, rectifying, reviewing, closed, cancelled, ... (from itemState marks)
    state: Mapped[str] = mapped_column(String(20))
    light: Mapped[str | None] = mapped_column(String(6))
    #: how many times acceptance sent it back
    returns: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
