"""Task commands: claim (签收), unclaim (退签), complete (办理)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from engine import forms, handover, permissions, runtime, votes
from engine.bpmn import workflows
from engine.commands.runtime import check_data, forward_thrown_signals, require_actor
from engine.db.command import CommandContext
from engine.errors import ConflictError, NotFound, PermissionDenied
from engine.models import HumanTask, ProcessInstance, TaskCandidate
from engine.queries.tasks import task_view
from engine.runtime import RUNNING
from engine.views import TaskView


def _open_task(ctx: CommandContext, task_id: str) -> tuple[HumanTask, ProcessInstance]:
    found = ctx.session.execute(
        select(HumanTask, ProcessInstance).join(ProcessInstance,
                                                ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.id == str(task_id))).first()
    if found is None:
        raise NotFound(f"no task {task_id}")
    task, instance = found
    if task.state != "open":
        raise ConflictError(f"task {task_id} is already {task.state}"
                            + (f" (by {task.ended_by})" if task.ended_by else ""))
    if instance.state != RUNNING:
        raise ConflictError(f"instance {instance.id} is {instance.state}; its tasks are on hold")
    return task, instance


def _touch(ctx: CommandContext, instance: ProcessInstance) -> None:
    """Bump the instance's version, so two commands on its tasks cannot both win."""
    instance.updated_at = ctx.now
    # an unchanged value writes nothing (a frozen clock, or two commands in one tick)
    flag_modified(instance, "updated_at")
    ctx.session.add(instance)
    ctx.session.flush()


def claim(ctx: CommandContext, task_id: str, *, by: str) -> TaskView:
    """Make *by* the assignee of an open task (签收).

    :raise NotFound: no task has this id.
    :raise PermissionDenied: *by* is not a candidate of the task.
    :raise ConflictError: the task is closed or another person holds it.
    """
    require_actor(ctx, by)
    task, instance = _open_task(ctx, task_id)
    if task.assignee == by:
        return task_view(ctx.session, task)
    if task.assignee is not None:
        raise ConflictError(f"task {task_id} is already held by {task.assignee}")
    if not (permissions.is_candidate(ctx.session, task, by) or
            permissions.is_admin(ctx.session, by)):
        raise PermissionDenied(f"{by} is not a candidate of task {task_id}")
    task.assignee = by
    _touch(ctx, instance)
    runtime.add_history(ctx, task, "claimed", by=by)
    ctx.record("task.claimed", by=by, instance_id=task.instance_id, task_id=task.id)
    return task_view(ctx.session, task)


def unclaim(ctx: CommandContext, task_id: str, *, by: str) -> TaskView:
    """Give a claimed task back to its candidates (退签).

    :raise PermissionDenied: *by* neither holds the task nor is an admin.
    """
    require_actor(ctx, by)
    task, instance = _open_task(ctx, task_id)
    if task.assignee is None:
        raise ConflictError(f"task {task_id} is not claimed")
    if task.assignee != by and not permissions.is_admin(ctx.session, by):
        raise PermissionDenied(f"task {task_id} is held by {task.assignee}, not {by}")
    has_candidates = ctx.session.execute(select(TaskCandidate.username).where(
        TaskCandidate.task_id == task.id).limit(1)).first() is not None
    if not has_candidates:
        raise ConflictError(f"task {task_id} has no candidates to give it back to")
    previous, task.assignee = task.assignee, None
    _touch(ctx, instance)
    runtime.add_history(ctx, task, "unclaimed", by=by)
    ctx.record("task.unclaimed", by=by, instance_id=task.instance_id, task_id=task.id,
               previous=previous)
    return task_view(ctx.session, task)


def complete(ctx: CommandContext, task_id: str, data: dict[str, Any] | None = None, *,
             by: str) -> TaskView:
    """Complete a task with form data, then run the instance until it waits (办理).

    A candidate of an unclaimed task may complete it directly (it is claimed
    on the way). The data is checked against the task's form first. What a
    delegate left as a draft (委派) is the starting point; the data given wins.
    While signers after the holder wait (后加签), the checked data is kept and
    the task goes to the first of them instead: the returned view is still open.

    :raise NotFound: no task has this id.
    :raise ValidationError: listing each bad field; the task stays open.
    :raise PermissionDenied: *by* may not act on the task.
    :raise ConflictError: the task was completed or changed by someone else first,
        or it is delegated or with its added signers (they resolve or sign instead).
    """
    require_actor(ctx, by)
    payload = check_data(data)
    task, instance = _open_task(ctx, task_id)
    # an owner waiting for a delegate or signers is told why below
    if not handover.waits_for_others(ctx.session, task, by):
        permissions.require_task_actor(ctx.session, task, by)
    handover.refuse_while_away(ctx.session, task, "completed")
    return finish(ctx, task, instance, {**handover.draft(task), **payload}, by=by)


def finish(ctx: CommandContext, task: HumanTask, instance: ProcessInstance,
           payload: dict[str, Any], *, by: str, checked: bool = False) -> TaskView:
    """Complete an open task's workflow step with *payload* and run the instance on.

    :param checked: the payload was validated before (后加签: the holder's kept data).
    """
    loaded = runtime.load(ctx, instance.id)
    with loaded.spec.lock:
        spiff = runtime.spiff_task(loaded, task.id)
        if not workflows.is_ready(spiff):
            raise ConflictError(f"task {task.id} is not ready")
        form = workflows.human_form(spiff.task_spec)
        clean = payload if checked else _clean(spiff, form, payload)
        if task.assignee is None:
            task.assignee = by
        if not checked and handover.hand_to_after_signers(ctx, task, clean, by=by):
            _touch(ctx, instance)
            return task_view(ctx.session, task, process_key=instance.process_key, form=form)
        task.pending_data = None
        workflows.complete_human_task(spiff, clean)
        ctx.record("task.completed", by=by, instance_id=instance.id, task_id=task.id,
                   element_id=task.element_id, data=clean)
        error = runtime.run_engine(loaded)
        changes = runtime.save(ctx, loaded, by=by, acted_task=task.id, error=error)
    forward_thrown_signals(ctx, instance.id, changes, by=by)
    return task_view(ctx.session, task, candidates=(), process_key=instance.process_key,
                     form=form)


def _clean(spiff: Any, form: list[dict[str, Any]], payload: dict[str, Any]) -> dict[str, Any]:
    """The payload checked against the task's form, with its vote decided."""
    clean = forms.validate(form, payload)
    # a field the person left empty is still there (as None) for later conditions
    for field in form:
        if field["name"] not in clean and field["name"] not in spiff.data:
            clean[field["name"]] = None
    vote = workflows.vote_rule(spiff.task_spec)
    if vote is not None:
        clean.update(votes.decide(vote, clean))
    return clean
