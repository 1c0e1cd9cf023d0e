"""The job executor: due rows in, effects out, each exactly once.

Jobs are rows (``engine.models.Job``); nothing about them lives in memory or
in APScheduler, whose tick only calls :func:`fire_due_jobs`. One round:

1. *Acquire* (one short transaction): pick up to ``batch`` due, unleased
   jobs — ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so workers never wait on
   each other — and lease them: owner, expiry, and ``fence + 1``.
2. *Run* each job in its own transaction, which first locks the job row and
   checks it still carries this worker's owner and fence. A worker that died
   loses its lease when it expires and another takes the job over; a worker
   that was only paused past its lease finds the fence moved on and its
   transaction refused, so the effect never commits twice. The handler's
   effect and the job's deletion (or rescheduling) commit together.
3. A handler that raises has its transaction rolled back; a second one
   records the failure and retries the job with back-off; after ``max_attempts`` it becomes an incident (state
   ``failed``) until a person retries it. Losing an optimistic-lock race is
   not the handler's fault: the job is retried at once without using up an
   attempt.

Handlers are small functions registered by kind in :data:`HANDLERS`; a
handler returns ``None`` (done: delete the job) or a new due time
(repeating: keep the job, rescheduled).
"""
from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy import delete, or_, select, text, update

from engine.errors import ConflictError, DubanError, NotFound
from engine.models import Job

if TYPE_CHECKING:
    from engine.api import Engine
    from engine.db.command import CommandContext

log = logging.getLogger("duban.jobs")

#: handler(ctx, job, payload) -> None when done, or the next due time to repeat
Handler = Callable[["CommandContext", Job, dict[str, Any]], "datetime | None"]
HANDLERS: dict[str, Handler] = {}
#: kinds whose effects stay inside the database (a delivery talks to the outside)
INTERNAL_KINDS = {"timer", "start_timer", "task_warn", "task_due", "task_escalate"}
#: seconds to wait before attempt 2, 3, ... of a failing job
BACKOFF = (10, 60, 300, 900)


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of *kind*."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def dump_payload(payload: dict[str, Any] | None) -> str:
    return json.dumps(payload or {}, ensure_ascii=False, sort_keys=True, default=str)


def schedule(ctx: "CommandContext", kind: str, due_at: datetime, *,
             instance_id: int | None = None, task_id: str | None = None,
             payload: dict[str, Any] | None = None, dedupe_key: str | None = None,
             max_attempts: int = 3) -> None:
    """Add a job in the caller's transaction; a job with the same key is moved instead."""
    text = dump_payload(payload)
    if dedupe_key is not None:
        existing = ctx.session.execute(select(Job).where(Job.dedupe_key == dedupe_key)
                                       ).scalar_one_or_none()
        if existing is not None:
            existing.due_at, existing.payload, existing.kind = due_at, text, kind
            existing.state, existing.attempts, existing.last_error = "pending", 0, None
            existing.lease_owner = existing.lease_expires_at = None
            return
    ctx.session.add(Job(kind=kind, instance_id=instance_id, task_id=task_id, due_at=due_at,
                        payload=text, state="pending", fence=0, attempts=0,
                        max_attempts=max_attempts, created_at=ctx.now, dedupe_key=dedupe_key))


def unschedule(ctx: "CommandContext", *keys: str) -> None:
    if keys:
        ctx.session.execute(delete(Job).where(Job.dedupe_key.in_(keys)))


@dataclass(frozen=True)
class FireReport:
    acquired: int
    done: int
    retried: int
    failed: int
    lost: int


def _acquire(ctx: "CommandContext", now: datetime, worker: str, batch: int,
             lease: timedelta) -> list[tuple[int, int]]:
    query = (select(Job.id).where(Job.state == "pending", Job.due_at <= now,
                                  or_(Job.lease_expires_at.is_(None), Job.lease_expires_at < now))
             .order_by(Job.due_at, Job.id).limit(batch))
    if ctx.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(ctx.session.execute(query).scalars())
    if not ids:
        return []
    ctx.session.execute(update(Job).where(Job.id.in_(ids)).values(
        lease_owner=worker, lease_expires_at=now + lease, fence=Job.fence + 1))
    rows = ctx.session.execute(select(Job.id, Job.fence).where(Job.id.in_(ids))).all()
    return [(r[0], r[1]) for r in sorted(rows, key=lambda r: ids.index(r[0]))]


class _JobFailed(Exception):
    """Carries a handler's failure out of its (rolled back) transaction."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _run_one(ctx: "CommandContext", job_id: int, fence: int, worker: str) -> str:
    job = ctx.session.execute(select(Job).where(Job.id == job_id).with_for_update()
                              ).scalar_one_or_none()
    if job is None or job.fence != fence or job.lease_owner != worker:
        return "lost"  # another worker took it over after our lease expired
    fn = HANDLERS.get(job.kind)
    if fn is None:
        raise _JobFailed(DubanError(f"no handler for job kind {job.kind!r}"))
    if job.kind in INTERNAL_KINDS and ctx.engine.config.async_job_commit and \
            ctx.session.get_bind().dialect.name == "postgresql":
        # Effects only in this database: if a crash loses this commit, it loses the
        # job's completion with it and the job runs again - never twice, never lost.
        # A later synchronous commit that read our effect flushes it too (WAL order).
        ctx.session.execute(text("SET LOCAL synchronous_commit TO off"))
    ctx.running_job = job_id
    try:
        next_due = fn(ctx, job, json.loads(job.payload or "{}"))
        ctx.session.flush()
    except ConflictError:
        raise
    except DubanError as exc:
        raise _JobFailed(exc) from None
    except Exception as exc:  # the job failed, not the worker: its effect is rolled back
        if _is_conflict(exc):
            raise ConflictError("the instance changed under the job") from None
        raise _JobFailed(exc) from None
    if next_due is None:
        # Core delete matching the lease: on SQLite a job scheduled by the handler
        # may have taken over a deleted row's id
        ctx.session.expunge(job)
        ctx.session.execute(delete(Job).where(Job.id == job_id, Job.fence == fence,
                                              Job.lease_owner == worker))
    else:
        job.due_at, job.attempts, job.last_error = next_due, 0, None
        job.lease_owner = job.lease_expires_at = None
    return "done"


def _release(ctx: "CommandContext", job_id: int, fence: int, worker: str,
             error: Exception | None) -> str:
    """After a failed or conflicting run: record the failure, or just free the job."""
    job = ctx.session.execute(select(Job).where(Job.id == job_id).with_for_update()
                              ).scalar_one_or_none()
    if job is None or job.fence != fence or job.lease_owner != worker:
        return "lost"
    if error is None:  # lost an optimistic-lock race: not the job's fault, no attempt used
        job.lease_owner = job.lease_expires_at = None
        return "conflict"
    return _record_failure(ctx, job, error)


def _is_conflict(exc: Exception) -> bool:
    from sqlalchemy.orm.exc import StaleDataError

    return isinstance(exc, StaleDataError)


def _record_failure(ctx: "CommandContext", job: Job, exc: Exception) -> str:
    job.attempts += 1
    job.last_error = f"{type(exc).__name__}: {exc}"[:4000]
    job.lease_owner = job.lease_expires_at = None
    if job.attempts >= job.max_attempts:
        job.state = "failed"
        log.warning("job %s (%s) failed for good: %s", job.id, job.kind, job.last_error)
        ctx.record("job.failed", by="system", instance_id=job.instance_id, job_id=job.id,
                   kind=job.kind, error=job.last_error, attempts=job.attempts)
        return "failed"
    delay = BACKOFF[min(job.attempts - 1, len(BACKOFF) - 1)]
    job.due_at = ctx.now + timedelta(seconds=delay)
    log.info("job %s (%s) failed, retry %d in %ss: %s", job.id, job.kind, job.attempts,
             delay, job.last_error)
    return "retried"


def fire_due_jobs(engine: "Engine", now: datetime | None = None, *, worker: str | None = None,
                  batch: int = 50, lease_seconds: float = 60.0,
                  max_rounds: int = 100) -> FireReport:
    """Run every job due at *now* (default: the engine clock), in batches.

    :return: counts of what happened, for the tick's log and the metrics.
    """
    from engine.db.command import run_command

    worker = worker or engine.worker_id
    counts = {"done": 0, "retried": 0, "failed": 0, "lost": 0, "conflict": 0}
    acquired = 0
    for _round in range(max_rounds):
        moment = now or engine.clock.now()
        leased = run_command(engine, _acquire, moment, worker, batch,
                             timedelta(seconds=lease_seconds))
        if not leased:
            break
        acquired += len(leased)
        for job_id, fence in leased:
            try:
                outcome = run_command(engine, _run_one, job_id, fence, worker)
            except ConflictError:
                outcome = run_command(engine, _release, job_id, fence, worker, None)
            except _JobFailed as failed:
                outcome = run_command(engine, _release, job_id, fence, worker, failed.error)
            counts[outcome] += 1
        # go round again: the jobs just run may have scheduled more that are due now
    return FireReport(acquired, counts["done"], counts["retried"] + counts["conflict"],
                      counts["failed"], counts["lost"])


def next_due(ctx: "CommandContext") -> datetime | None:
    """When the earliest pending job falls due (one indexed look-up)."""
    return ctx.session.execute(select(Job.due_at).where(Job.state == "pending")
                               .order_by(Job.due_at).limit(1)).scalar()


# -- incidents --------------------------------------------------------------------


@dataclass(frozen=True)
class JobView:
    id: int
    kind: str
    state: str
    due_at: datetime
    instance_id: int | None
    task_id: str | None
    attempts: int
    last_error: str | None


def _view(job: Job) -> JobView:
    return JobView(job.id, job.kind, job.state, job.due_at, job.instance_id, job.task_id,
                   job.attempts, job.last_error)


def list_jobs(ctx: "CommandContext", *, failed: bool = False, limit: int = 200) -> list[JobView]:
    query = select(Job).order_by(Job.due_at, Job.id).limit(limit)
    if failed:
        query = query.where(Job.state == "failed")
    return [_view(j) for j in ctx.session.execute(query).scalars()]


def retry_job(ctx: "CommandContext", job_id: int, *, by: str) -> JobView:
    """Give a failed job (an incident) new attempts, due now.

    :raise NotFound: no such job.
    :raise ConflictError: the job has not failed.
    """
    job = ctx.session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    if job.state != "failed":
        raise ConflictError(f"job {job_id} has not failed; it is {job.state}")
    job.state, job.attempts, job.due_at = "pending", 0, ctx.now
    job.lease_owner = job.lease_expires_at = None
    ctx.record("job.retried", by=by, instance_id=job.instance_id, job_id=job.id, kind=job.kind)
    return _view(job)
