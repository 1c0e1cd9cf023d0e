"""The tick: APScheduler calls :meth:`Engine.fire_due_jobs` every second or so.

The scheduler keeps no engine timers of its own — the jobs table is the
truth — so any number of ticking processes on any number of hosts may share
one PostgreSQL database: leases keep them from firing a job twice.
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

if TYPE_CHECKING:
    from engine.api import Engine

log = logging.getLogger("duban.scheduler")


def tick(engine: "Engine") -> None:
    try:
        report = engine.fire_due_jobs()
    except Exception:  # a tick must never kill the scheduler; the next one tries again
        log.exception("tick failed")
        return
    if report.acquired:
        log.info("tick: %s", report)


def _add_tick(scheduler: BackgroundScheduler | BlockingScheduler, engine: "Engine",
              seconds: float) -> None:
    # one tick at a time per process, and a late tick is not made up for
    scheduler.add_job(tick, "interval", args=[engine], seconds=seconds, id="duban-tick",
                      max_instances=1, coalesce=True, misfire_grace_time=None,
                      replace_existing=True)


def start_in_background(engine: "Engine", seconds: float = 1.0) -> BackgroundScheduler:
    """Tick inside this process (``duban serve``); returns the running scheduler."""
    scheduler = BackgroundScheduler(daemon=True)
    _add_tick(scheduler, engine, seconds)
    scheduler.start()
    tick(engine)  # fire what fell due while nobody was running, now rather than in a second
    return scheduler


def run_worker(engine: "Engine", seconds: float = 1.0,
               stop: threading.Event | None = None) -> None:
    """Tick in the foreground until interrupted (``duban worker``)."""
    tick(engine)
    if stop is not None:  # tests and embedders: a loop they can end
        while not stop.wait(seconds):
            tick(engine)
        return
    scheduler = BlockingScheduler()
    _add_tick(scheduler, engine, seconds)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)
