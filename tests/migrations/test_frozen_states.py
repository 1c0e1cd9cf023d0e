"""Instances saved by earlier versions of duban resume after `alembic upgrade head`.

Each file in tests/data/states/ is a real instance frozen in one state format
(named after it). When the format or the schema changes, the old files stay
and must keep resuming; add a new file for the new format.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import DateTime, insert

from engine import Engine
from engine.models import Base

STATES = sorted((Path(__file__).resolve().parent.parent / "data" / "states").glob("*.json"))


def load_rows(eng: Engine, frozen: dict) -> None:
    with eng.sessions() as session:
        for name, rows in frozen["tables"].items():
            table = Base.metadata.tables[name]
            for row in rows:
                for column in table.columns:
                    if isinstance(column.type, DateTime) or "DateTime" in type(column.type).__name__:
                        if row.get(column.key):
                            row[column.key] = datetime.fromisoformat(row[column.key])
            if rows:
                session.execute(insert(table), rows)
        session.commit()


@pytest.mark.parametrize("path", STATES, ids=[p.stem for p in STATES])
def test_a_frozen_instance_resumes(path, eng):
    frozen = json.loads(path.read_text(encoding="utf-8"))
    eng.add_organisation("c1", "县", "county")
    eng.add_organisation("t1", "镇", "town", parent="c1")
    eng.add_organisation("v1", "村", "branch", parent="t1")
    for username, role, org in (("zhang", "书记", "v1"), ("zhao", "组织委员", "t1")):
        eng.add_person(username, username)
        eng.grant_role(username, role, org)
    load_rows(eng, frozen)
    [task] = eng.open_tasks()
    assert (task.element_id, task.candidates) == ("check", ("zhao",))
    eng.complete(task.id, by="zhao")
    inst = eng.get_instance(task.instance_id)
    assert inst.state == "completed" and inst.data["ratio"] == 25
    assert [e.element_id for e in eng.history(inst.id) if e.kind == "completed"][-3:] == [
        "check", "calc", "end"]
