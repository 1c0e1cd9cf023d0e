"""Routing commands: send back (退回) and withdraw (撤回).

Both move the instance's token back to an earlier user task of the same
(sub)process through :mod:`engine.bpmn.jump` (SpiffWorkflow's own reset needs
old tasks the compacted tree no longer holds), then run and save the instance
like any command, so the new task gets its candidates, deadline and light the
way every newly opened task does.

**Send back** (退回): the holder of an open task sends the work back to a step
done earlier in this instance, with a reason. The new task goes to the person
who completed that step last.

**Withdraw** (撤回): the person who completed a task takes it back while the
next step is *untouched*. Untouched means, reading the instance's history after
the row recording the completion:

- every row since was written by the completing command itself: same time, no
  actor, and only BPMN state changes (automatic steps started, completed or
  cancelled, and user tasks started) — so no claim, unclaim, transfer,
  delegation, comment, copy or other act of a person (each writes a history
  row), no timer or message moved the instance, and no user task was completed
  or cancelled since;
- every user task it started is still open, nobody was added to sign it, no
  extension was asked for it, it was not delegated, and no comment or evidence
  file was added to it — nor to the instance after the completion.

Then the tasks the completion opened are cancelled and the withdrawn step is
open again, assigned to the person who withdrew it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from engine import handover, permissions, runtime
from engine.bpmn import jump, workflows
from engine.commands.runtime import forward_thrown_signals, require_actor
from engine.db.command import CommandContext
from engine.errors import ConflictError, DubanError, NotFound, PermissionDenied, ValidationError
from engine.models import (
    Attachment, Comment, ExtensionRequest, HistoryEvent, HumanTask, Item, Person,
    ProcessInstance, TaskCopy, TaskSigner,
)
from engine.queries.tasks import task_view
from engine.runtime import RUNNING
from engine.views import SendBackTarget, TaskView

MAX_REASON = 2000
#: history kinds the engine writes for BPMN state changes; anything else is a person acting
ENGINE_KINDS = {"started", "completed", "cancelled"}


def _reason(reason: Any, *, required: bool) -> str | None:
    if reason is None or (isinstance(reason, str) and not reason.strip()):
        if required:
            raise ValidationError({"reason": "a reason is required to send work back"})
        return None
    if not isinstance(reason, str):
        raise ValidationError({"reason": "must be text"})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": f"must be at most {MAX_REASON} characters"})
    return reason.strip()


def _running(instance: ProcessInstance) -> None:
    if instance.state != RUNNING:
        raise ConflictError(f"instance {instance.id} is {instance.state}; its work cannot be "
                            "moved back")


def _open_task(ctx: CommandContext, task_id: str) -> tuple[HumanTask, ProcessInstance]:
    task = ctx.session.get(HumanTask, str(task_id))
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.state != "open":
        raise ConflictError(f"task {task_id} is already {task.state}")
    instance = runtime.get_row(ctx, task.instance_id)
    _running(instance)
    return task, instance


def _completions(ctx: CommandContext, instance_id: int) -> dict[str, tuple[str | None, datetime]]:
    """Element id → (who, when) of the last completion of each user task, newest first."""
    h = HistoryEvent
    rows = ctx.session.execute(
        select(h.element_id, h.by, h.at).join(HumanTask, HumanTask.id == h.task_id)
        .where(h.instance_id == instance_id, h.kind == "completed")
        .order_by(h.id.desc())).all()
    found: dict[str, tuple[str | None, datetime]] = {}
    for element_id, by, at in rows:
        found.setdefault(element_id, (by, at))
    return found


def _targets(current: Any, task: HumanTask,
             done: dict[str, tuple[str | None, datetime]]) -> list[SendBackTarget]:
    local = jump.human_elements(current)
    targets = []
    for element_id, (by, at) in done.items():
        if element_id == task.element_id or element_id not in local:
            continue
        try:
            jump.plan_move([current], element_id)
        except ConflictError:
            continue
        targets.append(SendBackTarget(element_id, local[element_id], by, at))
    return targets


def _item(ctx: CommandContext, instance_id: int) -> Item | None:
    return ctx.session.execute(select(Item).where(Item.instance_id == instance_id)
                               ).scalar_one_or_none()


def _refuse_reopening_a_closed_item(loaded: runtime.Loaded, item: Item | None,
                                    move: jump.Move) -> None:
    """A closed item (销号) stays closed; work that would pass its closing step again
    would run on an item that can never reopen."""
    if item is None or item.state != "closed":
        return
    for element_id in move.reachable:
        mark = (loaded.spec.extensions.get(element_id) or {}).get("itemState") or {}
        if mark.get("value") == "closed":
            raise ConflictError(f"item {item.number} is closed (销号); work cannot go back "
                                "before the step that closed it")


def _is_active(ctx: CommandContext, username: str | None) -> bool:
    return bool(username) and bool(ctx.session.execute(
        select(Person.active).where(Person.username == username)).scalar())


def _reopened(ctx: CommandContext, changes: Any, element_id: str) -> HumanTask:
    opened = [o for o in changes.opened if o.element_id == element_id]
    if len(opened) != 1:
        raise ConflictError(f"step {element_id} could not be opened again")
    ctx.session.flush()  # save() added the task's row
    task = ctx.session.get(HumanTask, opened[0].task_id)
    assert task is not None
    return task


def send_back(ctx: CommandContext, task_id: str, *, to_element: str | None = None,
              reason: str, by: str) -> TaskView:
    """Send an open task's work back to a step done earlier in the instance (退回).

    The current task is cancelled; the target step opens again with the instance
    data as it is now, assigned to the person who completed it last (candidates,
    deadline and light as for any new task). A tracked item counts one return.

    :param to_element: the element id of the step; by default the user task of the
        same (sub)process completed most recently (see :func:`send_back_targets`).
    :raise NotFound: no task has this id.
    :raise ValidationError: no reason; or the target was not done in this instance
        (the message names the steps it may go back to).
    :raise PermissionDenied: *by* may not act on the task.
    :raise ConflictError: the task is closed, the instance is not running, or the
        move would corrupt the instance (another (sub)process, a parallel branch, a
        multi-instance step; the message says which).
    """
    require_actor(ctx, by)
    text = _reason(reason, required=True)
    task, instance = _open_task(ctx, task_id)
    permissions.require_task_actor(ctx.session, task, by)
    handover.refuse_while_away(ctx.session, task, "sent back")
    loaded = runtime.load(ctx, instance.id)
    with loaded.spec.lock:
        current = runtime.spiff_task(loaded, task.id)
        if not workflows.is_ready(current):
            raise ConflictError(f"task {task_id} is not ready")
        done = _completions(ctx, instance.id)
        targets = _targets(current, task, done)
        if to_element is None:
            if not targets:
                raise ValidationError({"to_element": "no earlier step of this process can "
                                       "take the work back"})
            to_element = targets[0].element_id
        elif to_element == task.element_id or to_element not in done:
            allowed = ", ".join(f"{t.element_id} ({t.name or t.element_id})" for t in targets)
            raise ValidationError({"to_element": f"step {to_element!r} has not been done "
                                   "earlier in this instance; it may go back to: "
                                   + (allowed or "no step")})
        move = jump.plan_move([current], to_element)
        item = _item(ctx, instance.id)
        _refuse_reopening_a_closed_item(loaded, item, move)
        returns = item.returns if item is not None else 0
        runtime.add_history(ctx, task, "sent_back", by=by,
                            detail={"to_element": to_element, "reason": text})
        ctx.session.flush()  # the reason comes before the cancellation in the timeline
        jump.move_token(move)
        error = runtime.run_engine(loaded)
        changes = runtime.save(ctx, loaded, by=by, acted_task=task.id, error=error)
    new = _reopened(ctx, changes, to_element)
    last_by = done[to_element][0]
    if _is_active(ctx, last_by):
        new.assignee = last_by
    if item is not None and item.returns == returns:
        item.returns += 1  # unless the move itself counted it (reviewing → rectifying)
    ctx.record("task.sent_back", by=by, instance_id=instance.id, task_id=task.id,
               from_element=task.element_id, to_element=to_element, reason=text,
               new_task=new.id, assignee=new.assignee)
    forward_thrown_signals(ctx, instance.id, changes, by=by)
    return task_view(ctx.session, new, process_key=instance.process_key)


def send_back_targets(ctx: CommandContext, task_id: str) -> list[SendBackTarget]:
    """The earlier steps an open task may be sent back to, newest first, each with who
    completed it last; empty when the task is closed or its instance is not running.

    :raise NotFound: no task has this id.
    """
    try:
        task, instance = _open_task(ctx, task_id)
    except ConflictError:
        return []
    loaded = runtime.load(ctx, instance.id)
    with loaded.spec.lock:
        current = runtime.spiff_task(loaded, task.id)
        return _targets(current, task, _completions(ctx, instance.id))


# -- withdraw ------------------------------------------------------------------


def _first_task(ctx: CommandContext, task: HumanTask) -> bool:
    """Whether *task* was opened before any user task of its instance was completed."""
    h = HistoryEvent
    started = ctx.session.execute(select(func.min(h.id)).where(
        h.task_id == task.id, h.kind == "started")).scalar()
    earlier = ctx.session.execute(
        select(h.id).join(HumanTask, HumanTask.id == h.task_id)
        .where(h.instance_id == task.instance_id, h.kind == "completed",
               h.id < (started or 0)).limit(1)).first()
    return started is not None and earlier is None


def _untouched_next(ctx: CommandContext, task: HumanTask) -> tuple[set[str], list[str]]:
    """The ids of every task the completion of *task* started, and of the user tasks
    among them (see the module docstring for what untouched means).

    :raise ConflictError: the next step has already been acted on.
    """
    h = HistoryEvent
    done_row = ctx.session.execute(select(func.max(h.id)).where(
        h.task_id == task.id, h.kind == "completed")).scalar()
    if done_row is None:
        raise ConflictError(f"task {task.id} was not completed by a person")
    rows = ctx.session.execute(select(h).where(h.instance_id == task.instance_id,
                                               h.id > done_row).order_by(h.id)).scalars().all()
    humans = {t.id: t for t in ctx.session.execute(select(HumanTask).where(
        HumanTask.id.in_({r.task_id for r in rows if r.task_id}))).scalars()}
    acted = ConflictError("the next step has already been acted on")
    started: set[str] = set()
    opened: list[str] = []
    for row in rows:
        if row.kind not in ENGINE_KINDS or row.by is not None or row.at != task.ended_at:
            raise acted
        human = humans.get(row.task_id or "")
        if human is None:
            if row.kind == "started" and row.task_id:
                started.add(row.task_id)
            continue
        if row.kind != "started" or human.state != "open":
            raise acted
        if human.owner or human.delegation or human.pending_data:
            raise acted
        started.add(human.id)
        opened.append(human.id)
    if opened and _anything_added(ctx, task, opened):
        raise acted
    return started, opened


def _anything_added(ctx: CommandContext, task: HumanTask, opened: list[str]) -> bool:
    """Whether a comment, file, copy, added signer or extension request was added to the
    next tasks, or a comment or file to the instance after the completion."""
    for on_task in (Comment.task_id, Attachment.task_id, TaskCopy.task_id, TaskSigner.task_id,
                    ExtensionRequest.task_id):
        if ctx.session.execute(select(on_task).where(on_task.in_(opened)).limit(1)).first():
            return True
    for on_instance, at in ((Comment.instance_id, Comment.created_at),
                            (Attachment.instance_id, Attachment.uploaded_at)):
        if ctx.session.execute(select(on_instance).where(
                on_instance == task.instance_id, at > task.ended_at).limit(1)).first():
            return True
    return False


def _check_withdraw(ctx: CommandContext, task_id: str, by: str
                    ) -> tuple[HumanTask, ProcessInstance, set[str], list[str]]:
    task = ctx.session.get(HumanTask, str(task_id))
    if task is None:
        raise NotFound(f"no task {task_id}")
    instance = runtime.get_row(ctx, task.instance_id)
    _running(instance)
    if task.state != "completed":
        raise ConflictError(f"task {task_id} is {task.state}; only a completed task can be "
                            "withdrawn")
    if task.ended_by != by and not (instance.started_by == by and _first_task(ctx, task)):
        raise PermissionDenied(f"only {task.ended_by} (who completed it) may withdraw task "
                               f"{task_id}")
    started, opened = _untouched_next(ctx, task)
    return task, instance, started, opened


def withdraw(ctx: CommandContext, task_id: str, *, by: str,
             reason: str | None = None) -> TaskView:
    """Take back a completed task while its next step is untouched (撤回).

    The tasks its completion opened are cancelled, and the step is open again,
    assigned to *by*, with the instance data as it is now.

    :param task_id: the completed task.
    :raise NotFound: no task has this id.
    :raise PermissionDenied: *by* did not complete the task (the starter of the
        instance may also withdraw its first task).
    :raise ConflictError: "the next step has already been acted on"; or the task is
        not completed, the instance is not running, or the move would corrupt the
        instance (the next step is in another (sub)process, a parallel branch ...).
    """
    require_actor(ctx, by)
    text = _reason(reason, required=False)
    task, instance, started, opened = _check_withdraw(ctx, task_id, by)
    loaded = runtime.load(ctx, instance.id)
    with loaded.spec.lock:
        move = jump.plan_move(jump.tokens(loaded.workflow, started, task.element_id),
                              task.element_id)
        item = _item(ctx, instance.id)
        _refuse_reopening_a_closed_item(loaded, item, move)
        runtime.add_history(ctx, task, "withdrawn", by=by,
                            detail={"reason": text, "cancelled": opened} if text
                            else {"cancelled": opened})
        ctx.session.flush()
        jump.move_token(move)
        error = runtime.run_engine(loaded)
        changes = runtime.save(ctx, loaded, by=by, error=error)
    new = _reopened(ctx, changes, task.element_id)
    new.assignee = by
    ctx.record("task.withdrawn", by=by, instance_id=instance.id, task_id=task.id,
               element_id=task.element_id, new_task=new.id, cancelled=opened, reason=text)
    forward_thrown_signals(ctx, instance.id, changes, by=by)
    return task_view(ctx.session, new, process_key=instance.process_key)


def withdrawable(ctx: CommandContext, instance_id: int, *, by: str) -> TaskView | None:
    """The completed task of an instance *by* could withdraw right now, or None.

    Only the instance's latest completion can qualify: any later one acted on the
    next step. Nothing is changed.
    """
    runtime.get_row(ctx, instance_id)
    h = HistoryEvent
    last = ctx.session.execute(
        select(h.task_id).join(HumanTask, HumanTask.id == h.task_id)
        .where(h.instance_id == instance_id, h.kind == "completed")
        .order_by(h.id.desc()).limit(1)).scalar()
    if last is None:
        return None
    try:
        task, instance, started, _ = _check_withdraw(ctx, last, by)
        loaded = runtime.load(ctx, instance.id)
        with loaded.spec.lock:
            move = jump.plan_move(jump.tokens(loaded.workflow, started, task.element_id),
                                  task.element_id)
            _refuse_reopening_a_closed_item(loaded, _item(ctx, instance.id), move)
    except DubanError:
        return None
    return task_view(ctx.session, task, process_key=instance.process_key)
