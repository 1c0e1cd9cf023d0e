"""A person's in-app notices, newest first."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import ValidationError
from engine.models import Notification
from engine.views import NotificationView

MAX_PAGE = 500


def notifications(session: Session, username: str, *, unread_only: bool = False,
                  limit: int = 100) -> list[NotificationView]:
    if not 0 < limit <= MAX_PAGE:
        raise ValidationError({"limit": f"must be between 1 and {MAX_PAGE}"})
    query = select(Notification).where(Notification.recipient == username)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    rows = session.execute(query.order_by(Notification.id.desc()).limit(limit)).scalars()
    return [NotificationView(n.id, n.recipient, n.kind, n.level, n.title, n.body, n.instance_id,
                             n.task_id, n.sent_by, n.created_at, n.read_at) for n in rows]


def unread_count(session: Session, username: str) -> int:
    return session.execute(select(func.count()).select_from(Notification).where(
        Notification.recipient == username, Notification.read_at.is_(None))).scalar_one()
