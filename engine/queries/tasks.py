"""Task reads from the human-task projection."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFound, ValidationError
from engine.models import HumanTask, ProcessInstance, TaskCandidate
from engine.queries.specs import form_of, forms_of
from engine.views import TaskView

MAX_PAGE = 500


def task_view(session: Session, task: HumanTask, *,
              candidates: tuple[str, ...] | None = None, process_key: str | None = None,
              form: list[dict[str, Any]] | None = None) -> TaskView:
    """A task's view; callers that already know a part pass it and save a query."""
    if candidates is None:
        candidates = tuple(session.execute(select(TaskCandidate.username).where(
            TaskCandidate.task_id == task.id).order_by(TaskCandidate.username)).scalars())
    if process_key is None:
        process_key = session.execute(select(ProcessInstance.process_key).where(
            ProcessInstance.id == task.instance_id)).scalar_one()
    if form is None:
        form = form_of(session, task.process_version_id, task.element_id)
    return TaskView(
        id=task.id, element_id=task.element_id, name=task.name, instance_id=task.instance_id,
        process_key=process_key, state=task.state, assignee=task.assignee,
        candidates=candidates, org_id=task.org_id, created_at=task.created_at,
        due_at=task.due_at, warn_at=task.warn_at, form=tuple(form),
        ended_at=task.ended_at, ended_by=task.ended_by, light=task.light,
        due_provisional=bool(task.due_provisional), escalation_level=task.escalation_level or 0,
        owner=task.owner, delegation=task.delegation)


def get_task(session: Session, task_id: str) -> TaskView:
    task = session.get(HumanTask, str(task_id))
    if task is None:
        raise NotFound(f"no task {task_id}")
    return task_view(session, task)


def open_tasks(session: Session, *, instance_id: int | None = None, assignee: str | None = None,
               candidate_of: str | None = None, limit: int = 100, offset: int = 0) -> list[TaskView]:
    """Open tasks, oldest first, filtered by instance, assignee or candidate."""
    if not 0 < limit <= MAX_PAGE or offset < 0:
        raise ValidationError({"limit": f"must be between 1 and {MAX_PAGE}"})
    query = select(HumanTask).where(HumanTask.state == "open")
    if instance_id is not None:
        query = query.where(HumanTask.instance_id == instance_id)
    if assignee is not None:
        query = query.where(HumanTask.assignee == assignee)
    if candidate_of is not None:
        query = query.where(HumanTask.assignee.is_(None), HumanTask.id.in_(
            select(TaskCandidate.task_id).where(TaskCandidate.username == candidate_of)))
    rows = session.execute(query.order_by(HumanTask.created_at, HumanTask.id)
                           .limit(limit).offset(offset)).scalars().all()
    if not rows:
        return []
    ids = [t.id for t in rows]
    candidates: dict[str, list[str]] = {}
    for task_id, username in session.execute(
            select(TaskCandidate.task_id, TaskCandidate.username)
            .where(TaskCandidate.task_id.in_(ids)).order_by(TaskCandidate.username)):
        candidates.setdefault(task_id, []).append(username)
    keys = dict(session.execute(select(ProcessInstance.id, ProcessInstance.process_key).where(
        ProcessInstance.id.in_({t.instance_id for t in rows}))).tuples().all())
    forms = forms_of(session, {(t.process_version_id, t.element_id) for t in rows})
    return [task_view(session, t, candidates=tuple(candidates.get(t.id, ())),
                      process_key=keys[t.instance_id],
                      form=forms.get((t.process_version_id, t.element_id), []))
            for t in rows]
