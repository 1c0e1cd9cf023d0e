"""The audit trail (纪实): append-only events chained by SHA-256.

Each event's hash covers its content and the previous event's hash, and the
single ``audit_head`` row holds the last link. Appending locks that row, so
concurrent commands chain one after another; editing or deleting any event,
or cutting the tail, breaks the chain where :func:`verify` will find it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterator

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from engine.models import AuditEvent, AuditHead

if TYPE_CHECKING:
    from engine.db.command import CommandContext

GENESIS = "0" * 64


def canonical(detail: Any) -> str:
    return json.dumps(detail, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def link_hash(prev: str, seq: int, at: datetime, actor: str, action: str,
              instance_id: int | None, task_id: str | None, detail: str) -> str:
    parts = [prev, str(seq), at.isoformat(), actor, action,
             "" if instance_id is None else str(instance_id), task_id or "", detail]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


# built once: these run in every command, and building a statement costs more than running it
_HEAD = AuditHead.__table__
_RESERVE = (update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + bindparam("n"))
            .returning(_HEAD.c.seq, _HEAD.c.hash))
_INSERT = insert(AuditEvent.__table__)
_SET_HASH = update(_HEAD).where(_HEAD.c.id == 1).values(hash=bindparam("new_hash"))


def append(ctx: "CommandContext") -> None:
    """Write the command's queued events to the chain (called just before commit)."""
    if not ctx.audit:
        return
    conn = ctx.session.connection()  # Core, not ORM: this runs on every command
    # take the head's lock and reserve our sequence numbers in one statement
    reserved = conn.execute(_RESERVE, {"n": len(ctx.audit)}).one_or_none()
    if reserved is None:
        raise RuntimeError("the audit chain has no head row; run `duban db upgrade`")
    at = ctx.now
    seq, prev = reserved.seq - len(ctx.audit), reserved.hash
    rows = []
    for pending in ctx.audit:
        seq += 1
        detail = canonical(pending.detail)
        digest = link_hash(prev, seq, at, pending.actor, pending.action,
                           pending.instance_id, pending.task_id, detail)
        rows.append({"seq": seq, "at": at, "actor": pending.actor, "action": pending.action,
                     "instance_id": pending.instance_id, "task_id": pending.task_id,
                     "detail": detail, "prev_hash": prev, "hash": digest})
        prev = digest
    conn.execute(_INSERT, rows)
    conn.execute(_SET_HASH, {"new_hash": prev})
    ctx.audit.clear()


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    checked: int
    #: the first broken link: seq and reason
    broken_seq: int | None = None
    reason: str | None = None


def _iter_events(session: Session, batch: int = 2000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = session.execute(select(AuditEvent).where(AuditEvent.seq > last)
                               .order_by(AuditEvent.seq).limit(batch)).scalars().all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify(session: Session) -> VerifyReport:
    """Walk the whole chain and report the first event that does not fit."""
    head = session.get(AuditHead, 1)
    expected_seq, prev, checked = 1, GENESIS, 0
    for event in _iter_events(session):
        if event.seq != expected_seq:
            return VerifyReport(False, checked, expected_seq,
                                f"event {expected_seq} is missing (next present is {event.seq})")
        if event.prev_hash != prev:
            return VerifyReport(False, checked, event.seq,
                                "its link to the previous event does not match "
                                "(the previous event was altered or removed)")
        digest = link_hash(prev, event.seq, event.at, event.actor, event.action,
                           event.instance_id, event.task_id, event.detail)
        if digest != event.hash:
            return VerifyReport(False, checked, event.seq, "its content does not match its hash "
                                "(the event was altered)")
        prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head_seq = head.seq if head is not None else 0
    head_hash = head.hash if head is not None else GENESIS
    if head_seq != checked or head_hash != prev:
        missing = checked + 1
        return VerifyReport(False, checked, missing,
                            f"the chain ends at event {checked} but the head says {head_seq} "
                            "(events at the end were removed)")
    return VerifyReport(True, checked)
