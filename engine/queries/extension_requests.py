"""Reads of deadline extension requests (延期申请)."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine import permissions
from engine.errors import ValidationError
from engine.models import ExtensionRequest, HumanTask, Organisation
from engine.views import ExtensionRequestView

MAX_PAGE = 500


def extension_request_view(row: ExtensionRequest, task: HumanTask | None) -> ExtensionRequestView:
    return ExtensionRequestView(
        id=row.id, task_id=row.task_id, instance_id=row.instance_id,
        requested_by=row.requested_by, reason=row.reason, requested_due=row.requested_due,
        working_days=row.working_days, state=row.state, decided_by=row.decided_by,
        decided_at=row.decided_at, decision_note=row.decision_note, created_at=row.created_at,
        task_name=task.name if task else None, due_at=task.due_at if task else None,
        org_id=task.org_id if task else None)


def pending_extension_requests(session: Session, *, by: str, limit: int = 100,
                               offset: int = 0) -> list[ExtensionRequestView]:
    """Pending requests on open tasks that *by* may decide, oldest first: those in the
    organisations *by* supervises, except *by*'s own."""
    if not 0 < limit <= MAX_PAGE or offset < 0:
        raise ValidationError({"limit": f"must be between 1 and {MAX_PAGE}"})
    paths = permissions.supervised_paths(session, by)
    if not paths:
        return []
    query = (select(ExtensionRequest, HumanTask)
             .join(HumanTask, HumanTask.id == ExtensionRequest.task_id)
             .where(ExtensionRequest.state == "pending", HumanTask.state == "open",
                    ExtensionRequest.requested_by != by))
    if paths != ["/"]:
        query = query.join(Organisation, Organisation.id == HumanTask.org_id).where(
            or_(*[Organisation.path.startswith(p) for p in paths]))
    rows = session.execute(query.order_by(ExtensionRequest.created_at, ExtensionRequest.id)
                           .limit(limit).offset(offset)).all()
    return [extension_request_view(r, t) for r, t in rows]
