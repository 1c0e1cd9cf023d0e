"""The job executor: leases, fencing, back-off, incidents, and many workers at once."""
from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from engine import ConflictError, Engine, NotFound
from engine import jobs
from engine.db.command import run_command
from engine.models import AuditEvent, Job
from web.cli import cli

CALLS: dict[str, int] = {}


@jobs.handler("test_effect")
def _effect(ctx: Any, job: Job, payload: dict[str, Any]) -> None:
    ctx.record("test.effect", by="system", job=payload["n"])
    mode = payload.get("mode")
    CALLS[mode or "ok"] = CALLS.get(mode or "ok", 0) + 1
    if mode == "boom":
        raise RuntimeError("the service is down")
    if mode == "conflict" and CALLS["conflict"] == 1:
        raise ConflictError("raced")
    return None


def add(eng: Engine, n: int, *, mode: str | None = None, delay: float = 0) -> None:
    def _add(ctx: Any) -> None:
        jobs.schedule(ctx, "test_effect", ctx.now + timedelta(seconds=delay),
                      payload={"n": n, "mode": mode})

    run_command(eng, _add)


def effects(eng: Engine) -> int:
    with eng.sessions() as s:
        return s.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "test.effect")).scalar_one()


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    CALLS.clear()


def test_due_jobs_run_once_and_disappear(eng, clock):
    add(eng, 1)
    add(eng, 2, delay=60)
    assert eng.fire_due_jobs().done == 1
    assert eng.fire_due_jobs().acquired == 0
    clock.advance(seconds=61)
    assert eng.fire_due_jobs().done == 1
    assert effects(eng) == 2 and eng.list_jobs() == []


def test_a_failing_job_backs_off_then_becomes_an_incident(eng, clock, db_url):
    add(eng, 1, mode="boom")
    assert eng.fire_due_jobs().retried == 1
    job = eng.list_jobs()[0]
    assert (job.attempts, job.state) == (1, "pending") and "service is down" in job.last_error
    assert eng.fire_due_jobs().acquired == 0  # backing off
    clock.advance(seconds=11)
    eng.fire_due_jobs()
    clock.advance(seconds=61)
    report = eng.fire_due_jobs()
    assert report.failed == 1
    assert [j.id for j in eng.list_jobs(failed=True)] == [job.id]
    assert effects(eng) == 0  # every failed attempt was rolled back
    result = CliRunner().invoke(cli, ["--database-url", db_url, "jobs", "--failed"])
    assert result.exit_code == 0 and "service is down" in result.output
    result = CliRunner().invoke(cli, ["--database-url", db_url, "jobs", "retry", str(job.id)])
    assert result.exit_code == 0
    assert eng.list_jobs()[0].state == "pending"
    with pytest.raises(ConflictError):
        eng.retry_job(job.id)
    with pytest.raises(NotFound):
        eng.retry_job(99999)


def test_a_lost_race_retries_without_using_an_attempt(eng, clock):
    add(eng, 1, mode="conflict")
    [(job_id, fence)] = run_command(eng, jobs._acquire, clock.now(), "A", 10,
                                    timedelta(seconds=30))
    with pytest.raises(ConflictError):
        run_command(eng, jobs._run_one, job_id, fence, "A")
    assert run_command(eng, jobs._release, job_id, fence, "A", None) == "conflict"
    job = eng.list_jobs()[0]
    assert (job.attempts, job.state, job.due_at) == (0, "pending", clock.now())
    # the next round runs it again at once
    report = eng.fire_due_jobs()
    assert (report.done, report.retried) == (1, 0)
    assert effects(eng) == 1


def test_a_worker_paused_past_its_lease_cannot_commit(eng, clock):
    add(eng, 1)
    # worker A leases the job, then stalls before running it
    leased = run_command(eng, jobs._acquire, clock.now(), "A", 10, timedelta(seconds=30))
    assert len(leased) == 1
    # the lease expires; worker B takes the job over and runs it
    clock.advance(seconds=31)
    assert jobs.fire_due_jobs(eng, worker="B").done == 1
    # A wakes up: its fence is stale, so its transaction is refused
    job_id, fence = leased[0]
    assert run_command(eng, jobs._run_one, job_id, fence, "A") == "lost"
    assert effects(eng) == 1


def test_a_leased_job_is_not_taken_before_its_lease_expires(eng, clock):
    add(eng, 1)
    run_command(eng, jobs._acquire, clock.now(), "A", 10, timedelta(seconds=30))
    assert jobs.fire_due_jobs(eng, worker="B").acquired == 0


def test_two_workers_fire_every_job_exactly_once(pg_url, clock):
    # PostgreSQL only: SQLite has one writer, so its workers simply take turns
    eng = Engine(pg_url, clock=clock)
    for n in range(200):
        add(eng, n)
    other = Engine(pg_url, clock=clock)
    reports = []

    def work(engine: Engine, name: str) -> None:
        reports.append(jobs.fire_due_jobs(engine, worker=name, batch=10))

    threads = [threading.Thread(target=work, args=(e, n)) for e, n in ((eng, "A"), (other, "B"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    other.dispose()
    assert sum(r.done for r in reports) == 200
    assert effects(eng) == 200 and eng.list_jobs() == []
    eng.dispose()


def test_the_worker_loop_fires_due_jobs_until_stopped(eng):
    from engine.scheduler import run_worker

    add(eng, 1)
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(eng, 0.05), kwargs={"stop": stop})
    thread.start()
    try:
        for _ in range(100):
            if effects(eng) == 1:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert effects(eng) == 1 and eng.list_jobs() == []
