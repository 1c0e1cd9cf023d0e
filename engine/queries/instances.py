"""Instance and history reads, from the instance row and history rows."""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.models import HistoryEvent, ProcessInstance
from engine.views import HistoryEventView, InstanceView


def get_instance(session: Session, instance_id: int) -> InstanceView:
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFound(f"no process instance {instance_id}")
    return InstanceView(
        id=row.id, process_key=row.process_key, version=row.version,
        business_key=row.business_key, state=row.state, data=json.loads(row.data_json),
        org_id=row.org_id, started_by=row.started_by, started_at=row.started_at,
        ended_at=row.ended_at, error=json.loads(row.error_json) if row.error_json else None,
        lock_version=row.lock_version, light=row.light)


def history(session: Session, instance_id: int) -> list[HistoryEventView]:
    if session.get(ProcessInstance, instance_id) is None:
        raise NotFound(f"no process instance {instance_id}")
    rows = session.execute(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id)
                           .order_by(HistoryEvent.id)).scalars()
    return [HistoryEventView(r.element_id, r.element_name, r.element_type, r.kind, r.at, r.by,
                             r.task_id, json.loads(r.detail) if r.detail else None) for r in rows]
