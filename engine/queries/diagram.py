"""An instance's diagram: its version's BPMN XML and which elements to mark.

Completed elements come from the history rows; active ones are the elements
whose latest history row is ``started`` (open human tasks, waiting timers and
catches, a running call activity) together with the open tasks; overdue ones
are open tasks whose light is red or whose limit has passed; failed ones are
elements whose latest row is ``failed``. A called process's own steps are not
in the caller's diagram: its call activity shows as active while it runs.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import Deployment, HistoryEvent, HumanTask, ProcessVersion
from engine.queries.instances import visible_instance
from engine.views import DiagramView

#: history kinds that move an element's state (others: claimed, transferred, ...)
STATE_KINDS = ("started", "completed", "failed", "cancelled")
ENDED = ("completed", "cancelled")


def diagram(session: Session, username: str, instance_id: int, *,
            now: datetime) -> DiagramView:
    """The instance's BPMN XML and its completed, active, overdue and failed elements.

    :raise NotFound: no such instance, or not visible to *username*.
    """
    row = visible_instance(session, username, instance_id)
    xml = session.execute(select(Deployment.xml).join(
        ProcessVersion, ProcessVersion.deployment_id == Deployment.id).where(
        ProcessVersion.id == row.process_version_id)).scalar_one()
    h = HistoryEvent
    completed = set(session.execute(select(h.element_id).distinct().where(
        h.instance_id == row.id, h.kind == "completed", h.element_id.is_not(None))).scalars())
    latest = (select(func.max(h.id)).where(h.instance_id == row.id, h.kind.in_(STATE_KINDS),
                                           h.task_id.is_not(None))
              .group_by(h.task_id))
    last = session.execute(select(h.element_id, h.kind).where(h.id.in_(latest))).tuples().all()
    active = {e for e, kind in last if kind == "started" and e}
    failed = {e for e, kind in last if kind == "failed" and e}
    t = HumanTask
    open_tasks = session.execute(select(t.element_id, t.light, t.due_at).where(
        t.instance_id == row.id, t.state == "open")).tuples().all()
    active |= {e for e, _light, _due in open_tasks}
    overdue = {e for e, light, due in open_tasks
               if light == "red" or (due is not None and due <= now)}
    if row.state in ENDED:
        active, overdue = set(), set()
    return DiagramView(instance_id=row.id, process_key=row.process_key, version=row.version,
                       xml=xml, completed=tuple(sorted(completed)), active=tuple(sorted(active)),
                       overdue=tuple(sorted(overdue)), failed=tuple(sorted(failed)))

