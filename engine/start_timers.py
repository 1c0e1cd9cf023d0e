"""Processes that start themselves on a calendar (timer start events).

Deploying a version with a timer start event schedules one ``start_timer``
job per such event, keyed by process and element, so a newer version takes
over the schedule of the older one. When the job runs it starts an instance
of the newest version and reschedules itself at the next occurrence; after
downtime a run of missed occurrences starts one instance, not one per miss
(``engine.timetext`` documents the rule).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from engine import jobs
from engine.jobs import handler
from engine.models import Job, Organisation, ProcessVersion
from engine.timetext import parse_timer

if TYPE_CHECKING:
    from engine.db.command import CommandContext


def schedule_for_version(ctx: "CommandContext", process_key: str,
                         timers: list[tuple[str, str, str | None]]) -> None:
    """Make the start timers of the newest version of a process the only ones scheduled."""
    prefix = f"start:{process_key}:"
    wanted = {f"{prefix}{element}" for element, _text, _kind in timers}
    stale = ctx.session.execute(select(Job.dedupe_key).where(
        Job.dedupe_key.startswith(prefix, autoescape=True))).scalars().all()
    jobs.unschedule(ctx, *[k for k in stale if k and k not in wanted])
    tz = ctx.engine.config.timezone
    for element, text, kind in timers:
        spec = parse_timer(text, tz)
        first = spec.first_due(ctx.now, tz)
        if first is None:
            continue
        if spec.kind == "cycle" and first < ctx.now:
            # a schedule anchored in the past begins with its next occurrence: nothing
            # was missed, since it did not exist before
            anchored = spec if spec.at is not None else replace(spec, at=first)
            upcoming, _skipped = anchored.next_due(first, ctx.now, 1, tz)
            if upcoming is None:
                continue
            first = upcoming
        jobs.schedule(ctx, "start_timer", first,
                      payload={"process_key": process_key, "element": element, "text": text,
                               "fired": 0, "anchor": first.isoformat(), "starts_for": kind},
                      dedupe_key=f"{prefix}{element}")


@handler("start_timer")
def on_start_timer(ctx: "CommandContext", job: Job, payload: dict[str, Any]) -> datetime | None:
    from engine.commands.runtime import start

    key = payload["process_key"]
    latest = ctx.session.execute(select(ProcessVersion.id).where(
        ProcessVersion.process_key == key).limit(1)).first()
    if latest is None:
        return None
    if payload.get("starts_for"):
        # one instance per organisation of the kind, each started by its own job (and
        # transaction), so one town's failure does not stop the others'
        codes = ctx.session.execute(select(Organisation.code).where(
            Organisation.kind == payload["starts_for"]).order_by(Organisation.code)).scalars()
        for code in codes:
            jobs.schedule(ctx, "start_instance", ctx.now,
                          payload={"process_key": key, "org": code},
                          dedupe_key=f"startinst:{key}:{job.due_at.isoformat()}:{code}")
    else:
        start(ctx, key, {}, by="system")
    tz = ctx.engine.config.timezone
    spec = parse_timer(payload["text"], tz)
    if spec.kind != "cycle":
        return None
    if spec.at is None:
        spec = replace(spec, at=datetime.fromisoformat(payload["anchor"]))
    fired = int(payload.get("fired", 0)) + 1
    following, _skipped = spec.next_due(job.due_at, ctx.now, fired, tz)
    if following is None:
        return None
    job.payload = jobs.dump_payload({**payload, "fired": fired})
    return following


@handler("start_instance")
def on_start_instance(ctx: "CommandContext", job: Job, payload: dict[str, Any]) -> None:
    from engine.commands.runtime import start

    start(ctx, payload["process_key"], {}, by="system", org=payload["org"])
    return None
