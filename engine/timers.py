"""BPMN timers fired by jobs: the job loads the instance when its timer is due.

The runner writes one ``timer`` job per waiting timer (intermediate catch,
boundary, event-based gateway), due when the timer is. When the job runs, the
engine clock is at or past that time, so the timer finds itself due, and the
instance moves on in the job's transaction.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engine import runtime
from engine.commands.runtime import forward_thrown_signals
from engine.db.command import CommandContext
from engine.jobs import handler
from engine.models import Job, ProcessInstance
from engine.runtime import FAILED, RUNNING, SUSPENDED

#: how often a timer of a suspended or failed instance looks again
HOLD = timedelta(minutes=5)


@handler("timer")
def fire_timer(ctx: CommandContext, job: Job, payload: dict[str, Any]) -> datetime | None:
    row = ctx.session.get(ProcessInstance, job.instance_id)
    if row is None or row.state not in (RUNNING, SUSPENDED, FAILED):
        return None  # the instance ended: the timer is moot
    if row.state != RUNNING:
        return ctx.now + HOLD  # timers wait while an instance is held
    loaded = runtime.load(ctx, row.id)
    if job.task_id not in loaded.run.timers_before:
        return None  # its task ended (the user finished first): nothing to fire
    with loaded.spec.lock:
        error = runtime.run_engine(loaded)
        changes = runtime.save(ctx, loaded, by="system", error=error)
    forward_thrown_signals(ctx, row.id, changes, by="system")
    # a repeating timer keeps this job, due at its next occurrence
    return changes.timers.get(job.task_id)
