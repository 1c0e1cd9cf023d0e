"""The tick: APScheduler calls :meth:`Engine.fire_due_jobs` every second or so.

The scheduler keeps no engine timers of its own — the jobs table is the
truth — so any number of ticking processes on any number of hosts may share
one PostgreSQL database: leases keep them from firing a job twice.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

if TYPE_CHECKING:
    from engine.api import Engine

log = logging.getLogger("duban.scheduler")


def tick(engine: "Engine", batch: int = 50, lease_seconds: float = 60.0,
         interval: float = 0.0) -> None:
    """Fire what is due; then, until the next tick, wake up for each job as it falls due.

    Waking up at the due time (rather than at the next whole tick) keeps a timer's
    lag at the cost of firing it, not up to one tick interval more.
    """
    until = time.monotonic() + interval * 0.9
    while True:
        try:
            report = engine.fire_due_jobs(batch=batch, lease_seconds=lease_seconds)
            if report.acquired:
                log.info("tick: %s", report)
            upcoming = engine.next_job_due() if interval > 0 else None
        except Exception:  # a tick must never kill the scheduler; the next one tries again
            log.exception("tick failed")
            return
        if upcoming is None:
            return
        wait = (upcoming - engine.clock.now()).total_seconds()
        if time.monotonic() + max(wait, 0) >= until:
            return
        time.sleep(max(wait, 0) + 0.001)


def _add_tick(scheduler: BackgroundScheduler | BlockingScheduler, engine: "Engine",
              seconds: float, batch: int = 50, lease_seconds: float = 60.0) -> None:
    # one tick at a time per process, and a late tick is not made up for
    scheduler.add_job(tick, "interval", args=[engine, batch, lease_seconds, seconds],
                      seconds=seconds,
                      id="duban-tick",
                      max_instances=1, coalesce=True, misfire_grace_time=None,
                      replace_existing=True)


def start_in_background(engine: "Engine", seconds: float = 1.0) -> BackgroundScheduler:
    """Tick inside this process (``duban serve``); returns the running scheduler."""
    scheduler = BackgroundScheduler(daemon=True)
    _add_tick(scheduler, engine, seconds)
    scheduler.start()
    tick(engine)  # fire what fell due while nobody was running, now rather than in a second
    return scheduler


def run_worker(engine: "Engine", seconds: float = 1.0, *, batch: int = 50,
               lease_seconds: float = 60.0, stop: threading.Event | None = None) -> None:
    """Tick in the foreground until interrupted (``duban worker``)."""
    tick(engine, batch, lease_seconds)
    if stop is not None:  # tests and embedders: a loop they can end
        while not stop.wait(seconds):
            tick(engine, batch, lease_seconds, seconds)
        return
    scheduler = BlockingScheduler()
    _add_tick(scheduler, engine, seconds, batch, lease_seconds)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)
