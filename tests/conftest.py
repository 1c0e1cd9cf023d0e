"""Fixtures shared by the whole suite.

``db_url`` runs a test on SQLite and on the PostgreSQL server of this machine
(one throwaway database per run, emptied between tests). Under ``CI=true`` an
unreachable PostgreSQL fails the run instead of skipping.
"""
from __future__ import annotations

import os
import shutil
import socket
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from engine import Engine, FrozenClock
from migrations import upgrade

PG_ADMIN_URL = os.environ.get("DUBAN_TEST_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
pytest_plugins = ["tests.fixtures.org"]


def pytest_sessionstart(session: pytest.Session) -> None:
    """The pages need their compiled catalogues (the set-up scripts build them too)."""
    from web import i18n

    i18n.compile_all()


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            pass
        eng = create_engine(PG_ADMIN_URL)
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    eng = create_engine(f"sqlite:///{path}")
    upgrade(eng)
    eng.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    if not _pg_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL at 127.0.0.1:5432 is unreachable and CI=true")
        pytest.skip("PostgreSQL is not reachable")
    name = f"duban_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    eng = create_engine(url)
    upgrade(eng)
    eng.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_pg(url: str) -> None:
    from engine.models import Base
    from engine.organisations import DEFAULT_ROLES

    eng = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with eng.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"),
                     {"h": "0" * 64})
        for code, name in DEFAULT_ROLES.items():
            conn.execute(text("INSERT INTO roles (code, name) VALUES (:c, :n)"),
                         {"c": code, "n": name})
    eng.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "duban.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    _empty_pg(url)
    return url


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """An emptied PostgreSQL database, for tests of many concurrent workers."""
    _empty_pg(pg_database)
    return pg_database


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock("2026-03-02T01:00:00+00:00")


@pytest.fixture
def eng(db_url: str, clock: FrozenClock) -> Iterator[Engine]:
    engine = Engine(db_url, clock=clock)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _no_network_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may send real e-mail: SMTP is allowed only to a fake server on loopback."""
    import smtplib

    connect = smtplib.SMTP.connect

    def loopback_only(self: smtplib.SMTP, host: str = "localhost", port: int = 0,
                      source_address: object = None) -> object:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise AssertionError(f"a test tried to send e-mail to {host}")
        return connect(self, host, port, source_address)  # type: ignore[arg-type]

    monkeypatch.setattr(smtplib.SMTP, "connect", loopback_only)
