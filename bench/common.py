"""Shared bits of the benchmarks: databases, timing, percentiles, diagrams."""
from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import create_engine, text

from engine import Engine, FrozenClock

PG_ADMIN_URL = os.environ.get("DUBAN_BENCH_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
HEAD = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:duban="urn:duban:bpmn:1.0" id="d" targetNamespace="bench">')


def machine() -> str:
    return (f"{platform.node()} · {platform.machine()} · {os.cpu_count()} cores · "
            f"Python {platform.python_version()}")


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh, migrated, empty database URL of the given kind, removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    name = f"duban_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_engine(url: str) -> Engine:
    eng = Engine(url, clock=FrozenClock())
    eng.migrate()
    eng.add_organisation("b-town", "基准镇", "town")
    eng.add_organisation("b-v", "基准村", "branch", parent="b-town")
    eng.add_person("bench", "基准")
    eng.grant_role("bench", "书记", "b-v")
    return eng


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def median(values: list[float]) -> float:
    return statistics.median(values)


def chain_process(key: str, n: int) -> str:
    """start → n user tasks in a row → end."""
    parts = ['<bpmn:startEvent id="s"/>']
    prev = "s"
    for i in range(1, n + 1):
        parts.append(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{prev}" targetRef="t{i}"/>')
        parts.append(f'<bpmn:userTask id="t{i}" name="步骤{i}"/>')
        prev = f"t{i}"
    parts.append(f'<bpmn:sequenceFlow id="fe" sourceRef="{prev}" targetRef="e"/>'
                 '<bpmn:endEvent id="e"/>')
    return f'{HEAD}<bpmn:process id="{key}" isExecutable="true">{"".join(parts)}' \
           '</bpmn:process></bpmn:definitions>'


def loop_process(key: str) -> str:
    """merge → user task → split back to merge until done (the rectification loop)."""
    return (f'{HEAD}<bpmn:process id="{key}" isExecutable="true">'
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="m"/>'
            '<bpmn:exclusiveGateway id="m"/><bpmn:sequenceFlow id="f2" sourceRef="m" '
            'targetRef="work"/><bpmn:userTask id="work" name="整改"/>'
            '<bpmn:sequenceFlow id="f3" sourceRef="work" targetRef="x"/>'
            '<bpmn:exclusiveGateway id="x" default="back"/>'
            '<bpmn:sequenceFlow id="back" sourceRef="x" targetRef="m"/>'
            '<bpmn:sequenceFlow id="out" sourceRef="x" targetRef="e">'
            '<bpmn:conditionExpression>done == True</bpmn:conditionExpression>'
            '</bpmn:sequenceFlow><bpmn:endEvent id="e"/></bpmn:process></bpmn:definitions>')


def straight_process(key: str) -> str:
    """start → script → end."""
    return (f'{HEAD}<bpmn:process id="{key}" isExecutable="true">'
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="x"/>'
            '<bpmn:scriptTask id="x"><bpmn:script>total = a + b</bpmn:script></bpmn:scriptTask>'
            '<bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="e"/><bpmn:endEvent id="e"/>'
            '</bpmn:process></bpmn:definitions>')
