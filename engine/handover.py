"""A task away from its holder for a while: 委派 (delegation) and 加签 (added signers).

While a task is away, ``HumanTask.owner`` names its holder and ``assignee`` the
person who has it now; the owner stays recorded when the task comes back.

- Delegated (``delegation == "pending"``): the delegate works on it and hands it
  back (``resolve``). Data the delegate gives is checked against the form and kept
  as a draft (``pending_data``); the holder's completion starts from the draft and
  what the holder submits wins.
- Signers before the holder (前加签): each signs in turn, then the task is back with
  its holder.
- Signers after the holder (后加签): the holder's completion is checked and kept
  (``pending_data``) while each signs in turn; the last signature completes the
  task with the kept data, so the process moves on only then.

A task away from its holder cannot be completed, transferred, delegated or given
more signers; the person who has it resolves or signs instead.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import notices, runtime
from engine.errors import ConflictError
from engine.models import HumanTask, Person, ProcessVersion, TaskSigner

if TYPE_CHECKING:
    from engine.db.command import CommandContext

PENDING, RESOLVED = "pending", "resolved"
BEFORE, AFTER = "before", "after"
WAITING, SIGNED = "waiting", "signed"


def _pending(task: HumanTask) -> dict[str, Any]:
    return json.loads(task.pending_data) if task.pending_data else {}


def draft(task: HumanTask) -> dict[str, Any]:
    """What a delegate filled in (委派), to start the holder's completion from."""
    return dict(_pending(task).get("draft") or {})


def keep_draft(task: HumanTask, data: dict[str, Any]) -> None:
    task.pending_data = json.dumps({"draft": {**draft(task), **data}}, ensure_ascii=False)


def submitted(task: HumanTask) -> dict[str, Any] | None:
    """The holder's checked completion data while after-signers sign (后加签)."""
    kept = _pending(task).get("submitted")
    return dict(kept) if kept is not None else None


def waiting_signers(session: Session, task: HumanTask, position: str) -> list[TaskSigner]:
    return list(session.execute(select(TaskSigner).where(
        TaskSigner.task_id == task.id, TaskSigner.position == position,
        TaskSigner.state == WAITING).order_by(TaskSigner.seq, TaskSigner.id)).scalars())


def signing_phase(session: Session, task: HumanTask) -> str | None:
    """``before`` or ``after`` while added signers have the task, else None."""
    if submitted(task) is not None:
        return AFTER
    # signers before the holder start at once: while one waits, they have the task
    if waiting_signers(session, task, BEFORE):
        return BEFORE
    return None


def is_away(session: Session, task: HumanTask) -> bool:
    return task.delegation == PENDING or signing_phase(session, task) is not None


def waits_for_others(session: Session, task: HumanTask, username: str) -> bool:
    """Whether *username* owns the task while it is away (委派, 加签)."""
    return task.owner == username and is_away(session, task)


def holder(session: Session, task: HumanTask) -> str | None:
    """Who answers for the task: its owner while it is away, else its assignee."""
    return task.owner if is_away(session, task) else task.assignee


def refuse_while_away(session: Session, task: HumanTask, verb: str) -> None:
    """:raise ConflictError: the task is delegated or with its added signers."""
    if task.delegation == PENDING:
        raise ConflictError(
            f"task {task.id} is delegated to {task.assignee}; it cannot be {verb} until "
            f"{task.assignee} resolves it (hands it back to {task.owner})")
    phase = signing_phase(session, task)
    if phase is not None:
        raise ConflictError(
            f"task {task.id} is waiting for {task.assignee} to sign (加签, {phase} the "
            f"holder); it cannot be {verb} until every added signer has signed")


def hand_to_after_signers(ctx: "CommandContext", task: HumanTask, clean: dict[str, Any], *,
                          by: str) -> bool:
    """后加签: keep the holder's checked data and give the task to the first signer after
    the holder; False when nobody waits to sign after the holder."""
    waiting = waiting_signers(ctx.session, task, AFTER)
    if not waiting:
        return False
    task.pending_data = json.dumps({"submitted": clean}, ensure_ascii=False)
    task.owner, task.assignee = task.assignee, waiting[0].username
    signers = [s.username for s in waiting]
    runtime.add_history(ctx, task, "submitted", by=by, detail={"signers": signers})
    ctx.record("task.submitted", by=by, instance_id=task.instance_id, task_id=task.id,
               owner=task.owner, signers=signers, data=clean)
    tell(ctx, task, task.assignee, "加签",
         f"{name_of(ctx.session, task.owner or by)} 已办理「{label(ctx, task)[1]}」，请签署意见。", by=by)
    return True


def label(ctx: "CommandContext", task: HumanTask) -> tuple[str, str]:
    """(process name, task name) for notice texts."""
    name = ctx.session.execute(select(ProcessVersion.name).where(
        ProcessVersion.id == task.process_version_id)).scalar()
    return name or "", task.name or task.element_id


def name_of(session: Session, username: str) -> str:
    found = session.execute(select(Person.name).where(Person.username == username)).scalar()
    return found or username


def tell(ctx: "CommandContext", task: HumanTask, username: str | None, what: str, body: str, *,
         by: str) -> None:
    """An in-app notice that a task has come to *username* (转办, 委派, 加签)."""
    if not username or username == by:
        return
    process, name = label(ctx, task)
    notices.notify(ctx, [username], kind="assigned", title=f"【{what}】{process}：{name}",
                   body=body, event_key=f"assigned:{task.id}:{uuid4().hex}",
                   instance_id=task.instance_id, task_id=task.id, by=by)


__all__ = ["PENDING", "RESOLVED", "BEFORE", "AFTER", "WAITING", "SIGNED", "draft",
           "keep_draft", "submitted", "waiting_signers", "signing_phase", "is_away", "holder",
           "refuse_while_away", "waits_for_others", "hand_to_after_signers", "label",
           "name_of", "tell"]
