"""Frozen views the engine returns to its callers (never ORM objects)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class VersionView:
    id: int
    process_key: str
    version: int
    name: str | None
    deployment_id: int
    deployed_by: str
    deployed_at: datetime
    #: False when identical XML was deployed before and nothing new was stored
    created: bool = True
    #: every process version the deployed file holds (this one included)
    all_in_file: tuple["VersionView", ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True)
class TaskView:
    id: str
    element_id: str
    name: str | None
    instance_id: int
    process_key: str
    state: str
    assignee: str | None
    candidates: tuple[str, ...]
    org_id: int | None
    created_at: datetime
    due_at: datetime | None
    warn_at: datetime | None
    form: tuple[dict[str, Any], ...]
    ended_at: datetime | None = None
    ended_by: str | None = None
    #: green, yellow, red; None when the task has no limit
    light: str | None = None
    #: the due date counts weekends only: its year's holiday calendar is not loaded yet
    due_provisional: bool = False
    escalation_level: int = 0


@dataclass(frozen=True)
class InstanceView:
    id: int
    process_key: str
    version: int
    business_key: str | None
    state: str
    data: dict[str, Any]
    org_id: int | None
    started_by: str
    started_at: datetime
    ended_at: datetime | None
    #: why the instance failed: {"type", "message", "element_id", "line"}
    error: dict[str, Any] | None
    lock_version: int
    light: str | None = None


@dataclass(frozen=True)
class HistoryEventView:
    element_id: str | None
    element_name: str | None
    element_type: str | None
    kind: str
    at: datetime
    by: str | None
    task_id: str | None
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class OrganisationView:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None


@dataclass(frozen=True)
class PersonView:
    id: int
    username: str
    name: str
    roles: tuple[tuple[str, str], ...]  # (role code, organisation code)


@dataclass(frozen=True)
class NotificationView:
    id: int
    recipient: str
    kind: str
    level: int | None
    title: str
    body: str
    instance_id: int | None
    task_id: str | None
    sent_by: str
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True)
class ItemView:
    id: int
    instance_id: int
    kind: str
    number: str
    title: str | None
    source: str | None
    category: str | None
    org_id: int | None
    responsible_unit: str | None
    responsible_person: str | None
    lead_leader: str | None
    measures: str | None
    due_date: Any
    state: str
    light: str | None
    returns: int
    created_at: datetime
    closed_at: datetime | None
