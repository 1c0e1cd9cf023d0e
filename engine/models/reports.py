"""Generated reports kept as dated records: the monthly circular (一月一通报)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UTCDateTime


class Circular(Base):
    """One generation of a town's monthly circular; regenerating adds a new row."""

    __tablename__ = "circulars"
    __table_args__ = (Index("ix_circulars_org_month", "org_id", "month", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    #: the month reported on, "2026-10"
    month: Mapped[str] = mapped_column(String(7))
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    generated_by: Mapped[str] = mapped_column(String(64))
    #: the per-unit rows and totals as computed then, JSON
    body_json: Mapped[str] = mapped_column(Text)
