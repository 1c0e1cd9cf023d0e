"""The Engine facade: one short method per verb, each one transaction.

>>> eng = Engine("sqlite:///duban.db")
>>> eng.migrate()
>>> v = eng.deploy(open("p.bpmn").read(), by="admin")
>>> iid = eng.start(v.process_key, {"title": "..."}, by="zhang")
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from datetime import datetime
from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy.orm import Session

from engine import audit, holidays, jobs, notices, scripting, supervision
from engine import start_timers, timers  # noqa: F401  (they register job handlers)
from engine.bpmn.script_engine import ServiceHandler
from engine.clock import Clock, SystemClock
from engine.commands import organisations as org_commands
from engine.commands import repository, runtime, tasks
from engine.directory import BUILTIN_HANDLERS
from engine.config import EngineConfig
from engine.db.command import run_command
from engine.db.session import is_sqlite, make_engine, make_sessionmaker
from engine.queries import instances as instance_queries
from engine.queries import items as item_queries
from engine.queries import notices as notice_queries
from engine.queries import tasks as task_queries
from engine.runtime import SpecCache
from engine.views import (
    HistoryEventView, InstanceView, ItemView, NotificationView, OrganisationView, PersonView,
    TaskView, VersionView,
)

T = TypeVar("T")


class _Reader:
    """Lets a read-only query written for commands run on a plain session."""

    def __init__(self, session: Session) -> None:
        self.session = session


class Engine:
    """duban's BPM engine over one database (SQLite or PostgreSQL).

    :param database_url: SQLAlchemy URL; defaults to ``DUBAN_DATABASE_URL``
        or ``sqlite:///duban.db``.
    :param clock: where time comes from (tests pass a ``FrozenClock``).
    """

    def __init__(self, database_url: str | None = None, clock: Clock | None = None, *,
                 config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig.from_env(database_url)
        self.clock: Clock = clock or SystemClock()
        self._db = make_engine(self.config)
        self._sessions = make_sessionmaker(self._db)
        if is_sqlite(self.config.database_url):
            self._read_db = make_engine(self.config, for_reads=True)
            self._read_sessions = make_sessionmaker(self._read_db)
        else:
            self._read_db, self._read_sessions = self._db, self._sessions
        self.specs = SpecCache()
        self.service_handlers: dict[str, ServiceHandler] = dict(BUILTIN_HANDLERS)
        self.script_limits = scripting.Limits(max_seconds=self.config.script_seconds)
        #: this process's name in job leases
        self.worker_id = jobs.default_worker_id()

    # -- plumbing ------------------------------------------------------------
    @property
    def database_url(self) -> str:
        return self.config.database_url

    @contextmanager
    def sessions(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return run_command(self, fn, *args, **kwargs)

    def _read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._read_sessions() as session:
            try:
                return fn(session, *args, **kwargs)
            finally:
                session.rollback()

    def migrate(self) -> None:
        """Bring the database schema to the newest revision (Alembic ``upgrade head``)."""
        from migrations import upgrade

        upgrade(self._db)
        self._run(holidays.seed_official)

    def dispose(self) -> None:
        self._db.dispose()
        self._read_db.dispose()

    def register_service(self, name: str, handler: ServiceHandler) -> None:
        """Make *handler* callable from ``<duban:service handler="name"/>``.

        The handler gets the task data (a copy) and keyword arguments
        ``element_id``, ``instance_id``, ``business_key`` and ``directory`` (read
        access to the organisation tree, :class:`engine.directory.Directory`); a
        dict it returns is merged into the task data (or stored under
        ``resultVariable``). Built in: ``org.branches``.
        """
        self.service_handlers[name] = handler

    # -- repository ----------------------------------------------------------
    def deploy(self, bpmn_xml: str | bytes, *, by: str, filename: str | None = None) -> VersionView:
        return self._run(repository.deploy, bpmn_xml, by=by, filename=filename)

    def deploy_file(self, path: str | Path, *, by: str) -> VersionView:
        data = Path(path).read_bytes()
        return self.deploy(data, by=by, filename=Path(path).name)

    # -- runtime -------------------------------------------------------------
    def start(self, process_key: str, data: dict[str, Any] | None = None, *, by: str,
              business_key: str | None = None, org: str | int | None = None) -> int:
        return self._run(runtime.start, process_key, data, by=by, business_key=business_key,
                         org=org)

    def cancel(self, instance_id: int, by: str, reason: str) -> None:
        return self._run(runtime.cancel, instance_id, by=by, reason=reason)

    def suspend(self, instance_id: int, by: str) -> None:
        return self._run(runtime.suspend, instance_id, by=by)

    def resume(self, instance_id: int, by: str) -> None:
        return self._run(runtime.resume, instance_id, by=by)

    def retry(self, instance_id: int, by: str, data: dict[str, Any] | None = None) -> str:
        return self._run(runtime.retry, instance_id, by=by, data=data)

    def correlate_message(self, name: str, data: dict[str, Any] | None = None, *,
                          correlation: str | dict[str, Any] | None = None,
                          by: str = "system") -> int:
        return self._run(runtime.correlate_message, name, data, correlation=correlation, by=by)

    def send_signal(self, name: str, data: dict[str, Any] | None = None, *,
                    by: str = "system") -> list[int]:
        return self._run(runtime.send_signal, name, data, by=by)

    # -- tasks ---------------------------------------------------------------
    def claim(self, task_id: str, by: str) -> TaskView:
        return self._run(tasks.claim, task_id, by=by)

    def unclaim(self, task_id: str, by: str) -> TaskView:
        return self._run(tasks.unclaim, task_id, by=by)

    def complete(self, task_id: str, data: dict[str, Any] | None = None, *, by: str) -> TaskView:
        return self._run(tasks.complete, task_id, data, by=by)

    # -- queries -------------------------------------------------------------
    def open_tasks(self, instance_id: int | None = None, assignee: str | None = None,
                   candidate_of: str | None = None, *, limit: int = 100,
                   offset: int = 0) -> list[TaskView]:
        return self._read(task_queries.open_tasks, instance_id=instance_id, assignee=assignee,
                          candidate_of=candidate_of, limit=limit, offset=offset)

    def get_task(self, task_id: str) -> TaskView:
        return self._read(task_queries.get_task, task_id)

    def get_item(self, *, instance_id: int | None = None, number: str | None = None) -> ItemView:
        """The item an instance tracks (by instance id or item number)."""
        return self._read(item_queries.get_item, instance_id=instance_id, number=number)

    def items(self, *, org: str | None = None, kind: str | None = None, state: str | None = None,
              light: str | None = None, limit: int = 100, offset: int = 0) -> list[ItemView]:
        """Tracked items under an organisation, filtered by kind, state and light."""
        return self._read(item_queries.list_items, org=org, kind=kind, state=state, light=light,
                          limit=limit, offset=offset)

    def get_instance(self, instance_id: int) -> InstanceView:
        return self._read(instance_queries.get_instance, instance_id)

    def history(self, instance_id: int) -> list[HistoryEventView]:
        return self._read(instance_queries.history, instance_id)

    # -- organisations -------------------------------------------------------
    def add_organisation(self, code: str, name: str, kind: str, *, parent: str | None = None,
                         by: str = "system") -> OrganisationView:
        return self._run(org_commands.add_organisation, code, name, kind, parent=parent, by=by)

    def add_person(self, username: str, name: str, *, by: str = "system") -> PersonView:
        return self._run(org_commands.add_person, username, name, by=by)

    def grant_role(self, username: str, role: str, org: str, *, by: str = "system") -> None:
        return self._run(org_commands.grant_role, username, role, org, by=by)

    # -- time ----------------------------------------------------------------
    def fire_due_jobs(self, now: datetime | None = None, *, batch: int = 50,
                      lease_seconds: float = 60.0) -> jobs.FireReport:
        """Run every job due by *now* (default: the engine clock), each in its own
        transaction; what one scheduler tick does."""
        return jobs.fire_due_jobs(self, now, batch=batch, lease_seconds=lease_seconds)

    def next_job_due(self) -> datetime | None:
        """When the earliest pending job falls due, or None."""
        return self._read(lambda session: jobs.next_due(_Reader(session)))

    def list_jobs(self, *, failed: bool = False, limit: int = 200) -> list[jobs.JobView]:
        """Pending jobs in due order, or only the failed ones (incidents)."""
        return self._run(jobs.list_jobs, failed=failed, limit=limit)

    def retry_job(self, job_id: int, by: str = "system") -> jobs.JobView:
        return self._run(jobs.retry_job, job_id, by=by)

    # -- supervision -----------------------------------------------------------
    def urge(self, task_id: str, by: str, message: str) -> int:
        """催办: notify the holders of an open task; return how many were notified."""
        return self._run(supervision.urge, task_id, by=by, message=message)

    def extend_deadline(self, task_id: str, by: str, reason: str, *,
                        due: datetime | None = None, working_days: int | None = None,
                        duration: str | None = None) -> datetime:
        """延期: move an open task's limit later, with a reason; return the new due time."""
        return self._run(supervision.extend_deadline, task_id, by=by, reason=reason, due=due,
                         working_days=working_days, duration=duration)

    def load_calendar(self, year: int, notice: str, *, by: str) -> dict[str, Any]:
        """Enter a year's holidays and 调休 days; provisional deadlines are recomputed."""
        return self._run(holidays.load_year, year, notice, by=by)

    def configure_channel(self, org: str, kind: str, settings: dict[str, Any], *,
                          enabled: bool = True, by: str = "system") -> int:
        """Add or replace an organisation's e-mail, 企业微信 or 钉钉 channel."""
        return self._run(notices.configure_channel, org, kind, settings, enabled=enabled, by=by)

    def notifications(self, username: str, *, unread_only: bool = False,
                      limit: int = 100) -> list[NotificationView]:
        return self._read(notice_queries.notifications, username, unread_only=unread_only,
                          limit=limit)

    def mark_read(self, notification_id: int, by: str) -> None:
        return self._run(notices.mark_read, notification_id, by=by)

    # -- audit ---------------------------------------------------------------
    def verify_audit(self) -> audit.VerifyReport:
        return self._read(audit.verify)
