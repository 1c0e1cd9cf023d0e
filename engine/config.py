"""Engine settings, read once from arguments or ``DUBAN_*`` environment variables."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite:///duban.db"


@dataclass(frozen=True)
class EngineConfig:
    database_url: str = DEFAULT_DATABASE_URL
    #: IANA zone in which dates without an offset are read and shown
    timezone: str = "Asia/Shanghai"
    #: role that receives a task whose assignment rule resolves to nobody
    fallback_role: str = "书记"
    #: username that receives a task when no fallback holder exists anywhere up the tree
    fallback_person: str = "admin"
    #: wall-clock bound for one script or condition run
    script_seconds: float = 2.0
    #: SQLite's synchronous pragma: NORMAL (survives process crashes) or FULL (power cuts too)
    sqlite_synchronous: str = "NORMAL"
    #: on PostgreSQL, commit jobs whose effects stay in the database asynchronously
    #: (a crash may lose the last ~0.2 s of them; they then simply run again)
    async_job_commit: bool = True
    #: SQLAlchemy pool size on PostgreSQL
    pool_size: int = 5
    #: echo SQL (debugging)
    echo: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.sqlite_synchronous.upper() not in ("NORMAL", "FULL", "EXTRA"):
            raise ValueError("DUBAN_SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA")

    @classmethod
    def from_env(cls, database_url: str | None = None, **overrides: object) -> "EngineConfig":
        env = os.environ
        values: dict[str, object] = {
            "database_url": database_url or env.get("DUBAN_DATABASE_URL", DEFAULT_DATABASE_URL),
            "timezone": env.get("DUBAN_TIMEZONE", cls.timezone),
            "fallback_role": env.get("DUBAN_FALLBACK_ROLE", cls.fallback_role),
            "fallback_person": env.get("DUBAN_FALLBACK_PERSON", cls.fallback_person),
            "sqlite_synchronous": env.get("DUBAN_SQLITE_SYNCHRONOUS", cls.sqlite_synchronous),
            "async_job_commit": env.get("DUBAN_ASYNC_JOB_COMMIT", "true").lower()
            not in ("0", "false", "no", "off"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
