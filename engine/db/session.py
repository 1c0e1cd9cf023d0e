"""SQLAlchemy engine and session factory for SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.orm import Session, sessionmaker

from engine.config import EngineConfig


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(config: EngineConfig, *, for_reads: bool = False) -> SAEngine:
    """The database engine; *for_reads* on SQLite gives one whose transactions do not
    take the write lock, so queries never queue behind (or block) commands."""
    url = normalise_url(config.database_url)
    kwargs: dict[str, Any] = {"echo": config.echo, "future": True}
    if is_sqlite(url):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs.update(pool_size=config.pool_size, max_overflow=config.pool_size * 2,
                      pool_pre_ping=True)
    engine = create_engine(url, **kwargs)
    if is_sqlite(url):
        _configure_sqlite(engine, config.sqlite_synchronous, immediate=not for_reads)
    return engine


def _configure_sqlite(engine: SAEngine, synchronous: str, *, immediate: bool = True) -> None:
    """WAL, foreign keys, and writers that queue instead of failing.

    ``synchronous=NORMAL`` (the default) keeps every commit across a crash of
    the process; only a power cut or OS crash may lose the last commits. FULL
    also survives those, at about 0.8 ms per commit on this project's machine.

    pysqlite begins transactions lazily and upgrades a reader to a writer
    mid-transaction, which fails under concurrency ("database is locked").
    Taking the write lock at BEGIN (IMMEDIATE) makes concurrent commands on
    one SQLite file queue up, each seeing the previous one's commit.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_sessionmaker(engine: SAEngine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
