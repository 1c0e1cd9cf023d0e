"""Engine settings, read once from arguments or ``DUBAN_*`` environment variables."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

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
    #: the largest evidence file (佐证材料) accepted, in bytes
    attachment_max_bytes: int = 10 * 1024 * 1024
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.sqlite_synchronous.upper() not in ("NORMAL", "FULL", "EXTRA"):
            raise ValueError("DUBAN_SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA")
        if not isinstance(self.attachment_max_bytes, int) or self.attachment_max_bytes < 1:
            raise ValueError("DUBAN_ATTACHMENT_MAX_BYTES must be a whole number of bytes")

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
            "attachment_max_bytes": _whole(env, "DUBAN_ATTACHMENT_MAX_BYTES",
                                           cls.attachment_max_bytes),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {text!r}") from None
