"""The one place where a transaction begins and commits.

``run_command`` opens a session, gives the command a :class:`CommandContext`,
commits what it did (with its audit events, appended to the chain last so the
chain's lock is held briefly), or rolls everything back. A stale version or a
unique-key race becomes :class:`ConflictError`. Work that must not happen
unless the commit did (sending messages, metrics) runs after the commit.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import ConflictError, DubanError

if TYPE_CHECKING:
    from engine.api import Engine

log = logging.getLogger("duban.command")
T = TypeVar("T")


@dataclass
class PendingAudit:
    action: str
    actor: str
    instance_id: int | None
    task_id: str | None
    detail: dict[str, Any]


@dataclass
class CommandContext:
    engine: "Engine"
    session: Session
    now: datetime
    audit: list[PendingAudit] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    #: the job this transaction runs, if any (its handler must not unschedule it twice)
    running_job: int | None = None

    def record(self, action: str, *, by: str, instance_id: int | None = None,
               task_id: str | None = None, **detail: Any) -> None:
        """Queue an audit event; it is chained and written just before commit."""
        self.audit.append(PendingAudit(action, by, instance_id, task_id, detail))


def run_command(engine: "Engine", fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    from engine import audit  # the chain writer needs the models; import late

    with engine.sessions() as session:
        ctx = CommandContext(engine, session, engine.clock.now())
        try:
            result = fn(ctx, *args, **kwargs)
            session.flush()
            audit.append(ctx)
            session.commit()
        except DubanError as err:
            session.rollback()
            log.info("%s refused: %s", getattr(fn, "__name__", fn), err)
            raise
        except StaleDataError:
            session.rollback()
            raise ConflictError("someone else changed this instance first; reload and try again") \
                from None
        except IntegrityError as err:
            session.rollback()
            if _is_unique_violation(err):
                raise ConflictError("someone else created the same record first; "
                                    "reload and try again") from None
            raise
        except OperationalError as err:
            session.rollback()
            if _is_lock_conflict(err):
                raise ConflictError("the database was busy with a conflicting change; "
                                    "try again") from None
            raise
        except BaseException as exc:
            session.rollback()
            if type(exc).__name__ != "_JobFailed":  # a job's failure is recorded, not a fault
                log.exception("%s failed", getattr(fn, "__name__", fn))
            raise
    for hook in ctx.after_commit:
        try:
            hook()
        except Exception:  # an after-commit hook must never undo a commit
            log.exception("after-commit hook failed")
    return result


def _is_unique_violation(err: IntegrityError) -> bool:
    text = str(err.orig).lower()
    code = getattr(err.orig, "sqlstate", None)
    return code == "23505" or "unique constraint" in text or "duplicate key" in text


def _is_lock_conflict(err: OperationalError) -> bool:
    code = getattr(err.orig, "sqlstate", None)
    return code in ("40001", "40P01", "55P03") or "database is locked" in str(err.orig)
