"""Time benchmark: timer lag, burst throughput, idle tick, and exactly-once firing
with several `duban worker` processes (one of them killed with SIGKILL).

    .venv/bin/python bench/time_bench.py [--db sqlite|postgresql|both] [--quick]

Timers here are real BPMN timers (an intermediate timer catch event reading
its date from the instance data), fired by workers ticking on the real clock.
"""
from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.synchronize
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.common import HEAD, database, machine, make_engine, pct  # noqa: E402
from engine import Engine  # noqa: E402
from engine.clock import SystemClock  # noqa: E402
from engine.db.command import run_command  # noqa: E402
from engine.jobs import schedule  # noqa: E402
from engine.models import HistoryEvent, Job, ProcessInstance  # noqa: E402

TIMER = (f'{HEAD}<bpmn:process id="bench_timer" isExecutable="true"><bpmn:startEvent id="s"/>'
         '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait"/>'
         '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition id="wd">'
         '<bpmn:timeDate>fire_at</bpmn:timeDate></bpmn:timerEventDefinition>'
         '</bpmn:intermediateCatchEvent><bpmn:sequenceFlow id="f2" sourceRef="wait" '
         'targetRef="e"/><bpmn:endEvent id="e"/></bpmn:process></bpmn:definitions>')
DUBAN = str(Path(sys.executable).parent / "duban")


def real_engine(url: str) -> Engine:
    eng = make_engine(url)
    eng.clock = SystemClock()
    eng.deploy(TIMER, by="bench")
    return eng


def start_timers(eng: Engine, count: int, due: datetime) -> list[int]:
    return [eng.start("bench_timer", {"fire_at": due.isoformat()}, by="bench", org="b-v")
            for _ in range(count)]


def far_jobs(eng: Engine, count: int) -> None:
    """Pending jobs due next year: the load every tick must ignore cheaply."""
    later = datetime.now(timezone.utc) + timedelta(days=365)

    batches = [5000] * (count // 5000) + ([count % 5000] if count % 5000 else [])
    for size in batches:
        run_command(eng, lambda ctx, n=size: [schedule(ctx, "timer", later) for _ in range(n)])


def fired_lags(eng: Engine, ids: list[int], due: datetime) -> list[float]:
    with eng.sessions() as s:
        rows = s.execute(select(HistoryEvent.at).where(
            HistoryEvent.instance_id.in_(ids), HistoryEvent.element_id == "wait",
            HistoryEvent.kind == "completed")).scalars().all()
    return [(at - due).total_seconds() for at in rows]


def workers(url: str, count: int, lease: float = 60.0) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "DUBAN_DATABASE_URL": url}
    return [subprocess.Popen([DUBAN, "worker", "--tick", "1", "--lease", str(lease)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(count)]


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def wait_done(eng: Engine, ids: list[int], timeout: float) -> float:
    """Seconds until every instance completed (its timer fired)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        with eng.sessions() as s:
            left = s.execute(select(func.count()).select_from(ProcessInstance).where(
                ProcessInstance.id.in_(ids), ProcessInstance.state != "completed")).scalar_one()
        if left == 0:
            return time.perf_counter() - start
        time.sleep(0.2)
    raise TimeoutError(f"timers still pending after {timeout} s")


def lag(url: str, quick: bool) -> dict[str, float]:
    eng = real_engine(url)
    far_jobs(eng, 1_000 if quick else 9_900)
    due = datetime.now(timezone.utc) + timedelta(seconds=20 if quick else 60)
    ids = start_timers(eng, 100, due)
    procs = workers(url, 1)
    try:
        wait_done(eng, ids, 180)
    finally:
        stop(procs)
    lags = fired_lags(eng, ids, due)
    eng.dispose()
    return {"p50": pct(lags, 50), "p99": pct(lags, 99), "max": max(lags)}


def _burst_worker(url: str, name: str, go: "multiprocessing.synchronize.Event") -> None:
    from engine.jobs import fire_due_jobs

    engine = Engine(url, clock=_Shifted(timedelta(days=1, seconds=1)))  # every timer is due
    go.wait()
    while fire_due_jobs(engine, worker=name).acquired:
        pass
    engine.dispose()


def burst(url: str, n_workers: int, count: int) -> float:
    """Firings per second when *count* timers are all due at once (one process per worker)."""
    eng = real_engine(url)
    start_timers(eng, count, datetime.now(timezone.utc) + timedelta(days=1))
    eng.dispose()
    go = multiprocessing.Event()
    procs = [multiprocessing.Process(target=_burst_worker, args=(url, f"w{i}", go))
             for i in range(n_workers)]
    for p in procs:
        p.start()
    time.sleep(2)  # let them import and connect before the clock starts
    began = time.perf_counter()
    go.set()
    for p in procs:
        p.join()
    return count / (time.perf_counter() - began)


class _Shifted:
    def __init__(self, shift: timedelta) -> None:
        self.shift = shift

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.shift


def idle_tick(url: str, pending: int) -> float:
    eng = make_engine(url)
    far_jobs(eng, pending)
    times = []
    for _ in range(300):
        start = time.perf_counter()
        eng.fire_due_jobs()
        times.append(time.perf_counter() - start)
    eng.dispose()
    return statistics.median(times)


def exactly_once(url: str, count: int, kill: bool) -> dict[str, int]:
    eng = real_engine(url)
    due = datetime.now(timezone.utc) + timedelta(seconds=5)
    ids = start_timers(eng, count, due)
    lease = 5.0
    procs = workers(url, 2, lease=lease)
    try:
        if kill:
            # let them start on the batch, then kill one without warning
            while True:
                done = _fired(eng, ids)
                if done >= count // 4 or done == count:
                    break
                time.sleep(0.05)
            procs[0].send_signal(signal.SIGKILL)
            procs[0].wait()
        wait_done(eng, ids, 600)
    finally:
        stop(procs)
    with eng.sessions() as s:
        per_instance = s.execute(select(HistoryEvent.instance_id, func.count()).where(
            HistoryEvent.instance_id.in_(ids), HistoryEvent.element_id == "wait",
            HistoryEvent.kind == "completed").group_by(HistoryEvent.instance_id)).all()
        left = s.execute(select(func.count()).select_from(Job).where(
            Job.instance_id.in_(ids))).scalar_one()
    eng.dispose()
    fired = [n for _i, n in per_instance]
    return {"timers": count, "fired_once": sum(1 for n in fired if n == 1),
            "fired_twice_or_more": sum(1 for n in fired if n > 1),
            "never_fired": count - len(fired), "jobs_left": left}


def _fired(eng: Engine, ids: list[int]) -> int:
    with eng.sessions() as s:
        return s.execute(select(func.count()).select_from(HistoryEvent).where(
            HistoryEvent.instance_id.in_(ids), HistoryEvent.element_id == "wait",
            HistoryEvent.kind == "completed")).scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for kind in kinds:
        print(f"\n== {kind} ==")
        with database(kind) as url:
            r = lag(url, args.quick)
        print(f"timer lag, 100 due in one second among {'1,100' if args.quick else '10,000'} "
              f"pending, 1 s tick: p50 {r['p50']:.3f} s  p99 {r['p99']:.3f} s  "
              f"max {r['max']:.3f} s   target p99 ≤ 1 s")
        for n in (1, 2) if kind == "postgresql" else (1,):
            with database(kind) as url:
                rate = burst(url, n, 300 if args.quick else 1_000)
            print(f"burst of {300 if args.quick else 1000} timers due at once, {n} worker(s): "
                  f"{rate:.0f} firings/s ({rate / n:.0f} per worker)   target ≥ 300 per worker")
        with database(kind) as url:
            pending = 10_000 if args.quick else 100_000
            tick = idle_tick(url, pending)
        print(f"idle tick with {pending:,} pending jobs: {tick * 1000:.3f} ms   target ≤ 2 ms")
        if kind == "postgresql":
            count = 1_000 if args.quick else 10_000
            for kill in (False, True):
                with database(kind) as url:
                    r2 = exactly_once(url, count, kill)
                label = "one worker SIGKILLed mid-batch" if kill else "two workers"
                print(f"exactly once, {label}: {r2}")


if __name__ == "__main__":
    main()
