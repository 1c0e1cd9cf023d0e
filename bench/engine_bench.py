"""Engine benchmark: deploy, step latency, and whether a step's cost grows with
history length or with the number of instances, on SQLite and PostgreSQL.

    .venv/bin/python bench/engine_bench.py [--db sqlite|postgresql|both] [--quick]

A "step" is one persisted engine command: complete a user task, run the
engine to the next wait, write state, projections, history and audit, commit.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text  # noqa: E402

from bench.common import (  # noqa: E402
    chain_process, database, loop_process, machine, make_engine, median, ms, pct,
    straight_process, timed,
)
from engine import Engine  # noqa: E402
from engine.models import HistoryEvent, HumanTask, ProcessInstance  # noqa: E402

TARGETS = {
    "sqlite": {"step_p50": 0.003},
    "postgresql": {"step_p50": 0.005},
}


def deploy_time(eng: Engine, rounds: int) -> list[float]:
    return [timed(lambda i=i: eng.deploy(chain_process(f"deploy_{i}", 10), by="bench"))
            for i in range(rounds)]


def step_times(eng: Engine, key: str, instances: int) -> list[float]:
    ids = [eng.start(key, by="bench", org="b-v") for _ in range(instances)]
    times = []
    for _ in range(10):
        for iid in ids:
            task = eng.open_tasks(instance_id=iid, limit=1)[0]
            times.append(timed(lambda t=task: eng.complete(t.id, by="bench")))
    return times


def loop_steps(eng: Engine, iid: int, count: int) -> list[float]:
    times = []
    for _ in range(count):
        task = eng.open_tasks(instance_id=iid, limit=1)[0]
        times.append(timed(lambda t=task: eng.complete(t.id, {"done": False}, by="bench")))
    return times


def history_ratio(eng: Engine, quick: bool) -> dict[str, float]:
    eng.deploy(loop_process("loop"), by="bench")
    iid = eng.start("loop", by="bench", org="b-v")
    sample = 40
    loop_steps(eng, iid, 5)
    at5 = median(loop_steps(eng, iid, sample))
    marks = (500, 2000) if not quick else (200, 500)
    result = {"after_5": at5}
    done = 5 + sample
    for mark in marks:
        loop_steps(eng, iid, mark - done)
        result[f"after_{mark}"] = median(loop_steps(eng, iid, sample))
        done = mark + sample
    target = 10_000 if not quick else 1_000
    start = time.perf_counter()
    loop_steps(eng, iid, target - done)
    task = eng.open_tasks(instance_id=iid, limit=1)[0]
    eng.complete(task.id, {"done": True}, by="bench")
    result["long_loop_seconds"] = time.perf_counter() - start
    result["long_loop_iterations"] = target
    result["long_loop_state"] = eng.get_instance(iid).state  # type: ignore[assignment]
    with eng.sessions() as s:
        result["state_bytes"] = s.execute(select(func.length(ProcessInstance.state_json)).where(
            ProcessInstance.id == iid)).scalar()
    return result


def clone_instances(eng: Engine, template_id: int, count: int) -> None:
    """Fill the database with *count* copies of a waiting instance (rows only)."""
    with eng.sessions() as s:
        inst = s.get(ProcessInstance, template_id)
        task = s.execute(select(HumanTask).where(HumanTask.instance_id == template_id,
                                                 HumanTask.state == "open")).scalar_one()
        hist = s.execute(select(HistoryEvent).where(HistoryEvent.instance_id == template_id)
                         ).scalars().all()
        first = (s.execute(select(func.max(ProcessInstance.id))).scalar() or 0) + 1
        cols = [c.name for c in ProcessInstance.__table__.columns if c.name != "id"]
        base = {c: getattr(inst, c) for c in cols}
        tcols = [c.name for c in HumanTask.__table__.columns if c.name not in ("id", "instance_id")]
        tbase = {c: getattr(task, c) for c in tcols}
        hcols = [c.name for c in HistoryEvent.__table__.columns
                 if c.name not in ("id", "instance_id", "task_id")]
        batch = 5_000
        for offset in range(0, count, batch):
            ids = range(first + offset, first + min(count, offset + batch))
            conn = s.connection()
            conn.execute(insert(ProcessInstance.__table__),
                         [{**base, "id": i, "business_key": f"clone-{i}"} for i in ids])
            conn.execute(insert(HumanTask.__table__),
                         [{**tbase, "id": str(uuid.uuid4()), "instance_id": i} for i in ids])
            conn.execute(insert(HistoryEvent.__table__),
                         [{**{c: getattr(h, c) for c in hcols}, "instance_id": i, "task_id": None}
                          for i in ids for h in hist])
            s.commit()
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SELECT setval(pg_get_serial_sequence('process_instances', 'id'), "
                           "(SELECT max(id) FROM process_instances))"))
            s.execute(text("ANALYZE"))
            s.commit()


def instance_ratio(eng: Engine, quick: bool) -> dict[str, float]:
    eng.deploy(chain_process("chain_n", 10), by="bench")
    ids = [eng.start("chain_n", by="bench", org="b-v") for _ in range(100)]
    small = median(step_times(eng, "chain_n", 20))
    big = 10_000 if quick else 100_000
    clone_instances(eng, ids[0], big - 100)
    large = median(step_times(eng, "chain_n", 20))
    return {"others_100": small, f"others_{big}": large, "ratio": large / small, "n": big}


def straight_through(eng: Engine, count: int) -> float:
    eng.deploy(straight_process("straight"), by="bench")
    eng.start("straight", {"a": 1, "b": 2}, by="bench", org="b-v")
    start = time.perf_counter()
    for i in range(count):
        eng.start("straight", {"a": i, "b": 2}, by="bench", org="b-v")
    return count / (time.perf_counter() - start)


def run(kind: str, quick: bool) -> dict[str, object]:
    with database(kind) as url:
        eng = make_engine(url)
        deploys = deploy_time(eng, 10 if quick else 30)
        eng.deploy(chain_process("chain10", 10), by="bench")
        steps = step_times(eng, "chain10", 20 if quick else 50)
        hist = history_ratio(eng, quick)
        inst = instance_ratio(eng, quick)
        rate = straight_through(eng, 500 if quick else 3000)
        eng.dispose()
    return {"deploy_p50": median(deploys), "step_p50": pct(steps, 50), "step_p95": pct(steps, 95),
            "history": hist, "instances": inst, "straight_per_s": rate}


def report(kind: str, r: dict) -> None:  # type: ignore[type-arg]
    h, i = r["history"], r["instances"]
    marks = [k for k in h if k.startswith("after_") and k != "after_5"]
    print(f"\n== {kind} ==")
    print(f"deploy (10-task process)        p50 {ms(r['deploy_p50'])}")
    print(f"step (10-task process)          p50 {ms(r['step_p50'])}   p95 {ms(r['step_p95'])}"
          f"   target p50 ≤ {ms(TARGETS[kind]['step_p50'])}")
    for mark in marks:
        print(f"step after {mark[6:]:>5} loop rounds     {ms(h[mark])}  ratio to 5 rounds "
              f"{h[mark] / h['after_5']:.2f}   target ≤ 1.5")
    print(f"{h['long_loop_iterations']}-round loop              {h['long_loop_state']} in "
          f"{h['long_loop_seconds']:.1f} s; stored state {h['state_bytes']} bytes")
    print(f"step with {i['n']:,} other instances  {ms(i['others_' + str(i['n'])])} vs "
          f"{ms(i['others_100'])} with 100: ratio {i['ratio']:.2f}   target ≤ 1.3")
    print(f"straight-through start→script→end  {r['straight_per_s']:.0f} instances/s"
          + ("   target ≥ 500 on SQLite" if kind == "sqlite" else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="smaller counts, for a smoke run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(f"machine: {machine()}")
    results = {}
    for kind in kinds:
        results[kind] = run(kind, args.quick)
        report(kind, results[kind])
    if args.json:
        print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
