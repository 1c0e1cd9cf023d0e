"""Deployed BPMN files and the process versions they hold (流程定义)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UTCDateTime


class Deployment(Base):
    """One deployed BPMN file, stored as given; identical files deploy once."""

    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: sha256 of the normalised XML
    xml_hash: Mapped[str] = mapped_column(String(64), unique=True)
    xml: Mapped[str] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(String(400))
    deployed_by: Mapped[str] = mapped_column(String(64))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProcessVersion(Base):
    """An immutable version of one executable process."""

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("process_key", "version", name="uq_process_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(400))
    #: the parsed spec and every process it calls, serialized once at deploy
    spec_json: Mapped[str] = mapped_column(Text)
    #: the serializer format of spec_json and of instance states
    spec_format: Mapped[str] = mapped_column(String(20))
    deployed_by: Mapped[str] = mapped_column(String(64))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProcessElement(Base):
    """One flow node of a deployed version with its duban extensions, for reads
    (forms on task pages, names on timelines) that must not load specs."""

    __tablename__ = "process_elements"

    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), primary_key=True)
    element_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    element_type: Mapped[str] = mapped_column(String(60))
    name: Mapped[str | None] = mapped_column(String(400))
    #: the element's duban: extensions as JSON (form, assignment, ...)
    extensions: Mapped[str] = mapped_column(Text)
