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
from typing import Any, BinaryIO, Callable, Iterator, TypeVar

from sqlalchemy.orm import Session

from engine import audit, holidays, jobs, notices, scripting, supervision
from engine import start_timers, timers  # noqa: F401  (they register job handlers)
from engine import circulars, ledger_excel
from engine.commands import ledger as ledger_commands
from engine.bpmn.script_engine import ServiceHandler
from engine.clock import Clock, SystemClock
from engine.commands import organisations as org_commands
from engine.commands import repository, runtime, tasks
from engine.commands import routing
from engine.views import SendBackTarget
from engine.commands import approvals, collab, extension_requests
from engine.directory import BUILTIN_HANDLERS
from engine.config import EngineConfig
from engine.db.command import run_command
from engine.db.session import is_sqlite, make_engine, make_sessionmaker
from engine.queries import instances as instance_queries
from engine.queries import items as item_queries
from engine.queries import collab as collab_queries
from engine.queries import extension_requests as extension_queries
from engine.queries import notices as notice_queries
from engine.queries import people as people_queries
from engine.queries import tasks as task_queries
from engine.queries import dashboard as dashboard_queries
from engine.queries import ledger as ledger_queries
from engine.queries import circulars as circular_queries
from engine.queries import supervision_pages
from engine.views import ReportScopeView
from engine.runtime import SpecCache
from engine.commands import incidents as incident_commands  # -- instance pages --
from engine.queries import diagram as diagram_queries  # -- instance pages --
from engine.queries import startable as startable_queries  # -- instance pages --
from engine.views import (  # -- instance pages --
    DiagramView, IncidentView, InstanceListView, InstancePageView, StartableView, StartFormView,
    TimelineEntry,
)
from engine.queries import inbox as inbox_queries  # -- inbox --
from engine.queries import task_detail as task_detail_queries  # -- inbox --
from engine.views import InboxPage, TaskDetailView  # -- inbox --
from engine.views import (
    AttachmentView, CommentView, CopyView, ExtensionRequestView, SignerView,
)
from engine.views import (
    CircularSummaryView, CircularView, DashboardView, ImportReport, LedgerPage, TaskPage,
    TrendPoint,
)
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
        self._run(circulars.ensure_schedule)  # the monthly circular job (一月一通报)

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

    # -- approvals -----------------------------------------------------------
    def transfer(self, task_id: str, to: str, *, by: str,
                 comment: str | None = None) -> TaskView:
        """转办: hand a task to *to*, who becomes its assignee."""
        return self._run(approvals.transfer, task_id, to, by=by, comment=comment)

    def delegate(self, task_id: str, to: str, *, by: str,
                 comment: str | None = None) -> TaskView:
        """委派: *to* works on the task and hands it back; *by* stays its owner."""
        return self._run(approvals.delegate, task_id, to, by=by, comment=comment)

    def resolve(self, task_id: str, *, by: str, comment: str | None = None,
                data: dict[str, Any] | None = None) -> TaskView:
        """委派 交回: the delegate hands the task back, *data* kept as the owner's draft."""
        return self._run(approvals.resolve, task_id, by=by, comment=comment, data=data)

    def add_signer(self, task_id: str, usernames: list[str] | str, *, by: str,
                   position: str = "before", comment: str | None = None) -> TaskView:
        """加签: people who sign the task before or after its holder, in turn."""
        return self._run(approvals.add_signer, task_id, usernames, by=by, position=position,
                         comment=comment)

    def sign(self, task_id: str, *, by: str, opinion: str) -> TaskView:
        """加签: sign with an opinion; the last signer after the holder completes the task."""
        return self._run(approvals.sign, task_id, by=by, opinion=opinion)

    def copy_to(self, recipients: list[str] | str, *, by: str, instance_id: int | None = None,
                task_id: str | None = None, note: str | None = None) -> list[CopyView]:
        """抄送: copy an instance or one of its open tasks to people, for information."""
        return self._run(approvals.copy_to, recipients, by=by, instance_id=instance_id,
                         task_id=task_id, note=note)

    def mark_copy_read(self, copy_id: int, *, by: str) -> CopyView:
        return self._run(approvals.mark_copy_read, copy_id, by=by)

    def add_comment(self, instance_id: int, body: str, *, by: str,
                    task_id: str | None = None) -> CommentView:
        return self._run(collab.add_comment, instance_id, body, by=by, task_id=task_id)

    def add_attachment(self, task_id: str, filename: str, content: bytes, *, by: str,
                       content_type: str | None = None) -> AttachmentView:
        """Attach an evidence file (佐证材料), checked by name and content."""
        return self._run(collab.add_attachment, task_id, filename, content, by=by,
                         content_type=content_type)

    def attachment_content(self, attachment_id: int, *,
                           by: str) -> tuple[AttachmentView, bytes]:
        """An evidence file and its bytes, for someone who may see its instance (audited)."""
        return self._run(collab.attachment_content, attachment_id, by=by)

    def request_extension(self, task_id: str, *, by: str, reason: str,
                          working_days: int | None = None,
                          due: datetime | None = None) -> ExtensionRequestView:
        """延期申请: the holder asks its organisation's supervisors for more time."""
        return self._run(extension_requests.request_extension, task_id, by=by, reason=reason,
                         working_days=working_days, due=due)

    def decide_extension(self, request_id: int, *, approve: bool, by: str,
                         note: str | None = None) -> ExtensionRequestView:
        """A supervisor approves (the limit moves as with extend_deadline) or rejects."""
        return self._run(extension_requests.decide_extension, request_id, approve=approve,
                         by=by, note=note)

    def withdraw_extension_request(self, request_id: int, *, by: str) -> ExtensionRequestView:
        return self._run(extension_requests.withdraw_extension_request, request_id, by=by)

    def comments(self, instance_id: int, *, by: str, limit: int = 100,
                 offset: int = 0) -> list[CommentView]:
        return self._read(collab_queries.comments, instance_id, by=by, limit=limit,
                          offset=offset)

    def attachments(self, *, by: str, instance_id: int | None = None, task_id: str | None = None,
                    limit: int = 100, offset: int = 0) -> list[AttachmentView]:
        return self._read(collab_queries.attachments, by=by, instance_id=instance_id,
                          task_id=task_id, limit=limit, offset=offset)

    def copies(self, username: str, *, unread_only: bool = False, limit: int = 100,
               offset: int = 0) -> list[CopyView]:
        """抄送我的: what was copied to *username*, newest first."""
        return self._read(collab_queries.copies, username, unread_only=unread_only,
                          limit=limit, offset=offset)

    def signers(self, task_id: str, *, by: str) -> list[SignerView]:
        return self._read(collab_queries.signers, task_id, by=by)

    def pending_extension_requests(self, *, by: str, limit: int = 100,
                                   offset: int = 0) -> list[ExtensionRequestView]:
        """Pending extension requests *by* may decide, oldest first."""
        return self._read(extension_queries.pending_extension_requests, by=by, limit=limit,
                          offset=offset)

    # -- routing -------------------------------------------------------------
    def send_back(self, task_id: str, *, to_element: str | None = None, reason: str,
                  by: str) -> TaskView:
        """退回: send an open task's work back to a step done earlier, with a reason."""
        return self._run(routing.send_back, task_id, to_element=to_element, reason=reason, by=by)

    def send_back_targets(self, task_id: str) -> list[SendBackTarget]:
        """The steps an open task may be sent back to, newest first, with who did them."""
        return self._run(routing.send_back_targets, task_id)

    def withdraw(self, task_id: str, *, by: str, reason: str | None = None) -> TaskView:
        """撤回: take back a completed task while the next step is untouched."""
        return self._run(routing.withdraw, task_id, by=by, reason=reason)

    def withdrawable(self, instance_id: int, *, by: str) -> TaskView | None:
        """The completed task of an instance *by* could withdraw now, or None."""
        return self._run(routing.withdrawable, instance_id, by=by)

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

    # -- people and sign-in ---------------------------------------------------
    def set_password(self, username: str, password: str, *, by: str,
                     current: str | None = None) -> None:
        return self._run(org_commands.set_password, username, password, by=by, current=current)

    def set_active(self, username: str, active: bool, *, by: str) -> None:
        return self._run(org_commands.set_active, username, active, by=by)

    def revoke_role(self, username: str, role: str, org: str, *, by: str) -> None:
        return self._run(org_commands.revoke_role, username, role, org, by=by)

    def authenticate(self, username: str, password: str) -> PersonView | None:
        """The active person with this password, or None."""
        return self._read(people_queries.authenticate, username, password)

    def person(self, username: str) -> PersonView | None:
        return self._read(people_queries.person, username)

    def people(self, *, org: str | None = None, search: str | None = None, limit: int = 100,
               offset: int = 0) -> list[PersonView]:
        return self._read(people_queries.people, org=org, search=search, limit=limit,
                          offset=offset)

    def organisations(self, username: str) -> list[OrganisationView]:
        """The organisations *username* may see, in tree order."""
        return self._read(people_queries.visible_organisations, username)

    def roles(self) -> list[tuple[str, str]]:
        """(code, Chinese name) of every role."""
        return self._read(people_queries.roles)

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

    def unread_count(self, username: str) -> int:
        """How many in-app notices *username* has not read."""
        return self._read(notice_queries.unread_count, username)

    def mark_read(self, notification_id: int, by: str) -> None:
        return self._run(notices.mark_read, notification_id, by=by)

    # -- supervision reports ---------------------------------------------------
    def dashboard(self, username: str, *, org: str | None = None) -> DashboardView:
        """Open tasks and items under *org* by light, per unit and per procedure.

        :raise NotFound: no such organisation. :raise PermissionDenied: not visible.
        """
        return self._read(dashboard_queries.dashboard, username, org=org, now=self.clock.now())

    def supervised_tasks(self, username: str, *, org: str | None = None, unit: str | None = None,
                         process_key: str | None = None, light: str | None = None,
                         overdue: bool = False, limit: int = 100, offset: int = 0) -> TaskPage:
        """The dashboard's drill-down: open tasks under *org*, filtered (light: green,
        yellow, red or none), with days overdue and what a 催办 needs."""
        return self._read(dashboard_queries.task_list, username, now=self.clock.now(),
                          tz=self.config.timezone, org=org, unit=unit, process_key=process_key,
                          light=light, overdue=overdue, limit=limit, offset=offset)

    def overdue_tasks(self, username: str, *, org: str | None = None, unit: str | None = None,
                      process_key: str | None = None, limit: int = 100,
                      offset: int = 0) -> TaskPage:
        """Open tasks past their due time under *org*, most overdue first."""
        return self.supervised_tasks(username, org=org, unit=unit, process_key=process_key,
                                     overdue=True, limit=limit, offset=offset)

    def ledger(self, username: str, *, limit: int = 100, offset: int = 0,
               **filters: Any) -> LedgerPage:
        """台账: one page of items and the total; filters and sort keys as in
        :mod:`engine.queries.ledger` (org, unit, kind, state, light, source, category,
        due_month, created_month, search, sort)."""
        return self._read(ledger_queries.ledger, username, ledger_queries.make_filter(**filters),
                          tz=self.config.timezone, limit=limit, offset=offset)

    def export_ledger(self, username: str, out: BinaryIO | None = None,
                      **filters: Any) -> bytes | None:
        """The ledger rows these filters match as an .xlsx, written to *out* or returned."""
        return self._read(ledger_excel.export_ledger, username,
                          ledger_queries.make_filter(**filters), out, tz=self.config.timezone,
                          now=self.clock.now())

    def import_problem_list(self, content: bytes | BinaryIO, *, by: str) -> ImportReport:
        """Start one 问题整改销号 per row of an Excel problem list, or none (one transaction).

        :raise ValidationError: ``fields`` maps ``"<row>:<column>"`` (or ``"file"``) to reasons.
        """
        return self._run(ledger_commands.import_problem_list, content, by=by)

    def generate_circular(self, org: str, month: str, *, by: str,
                          trend_months: int = 6) -> CircularView:
        """Compute and store *org*'s monthly circular (一月一通报) for *month* ("2026-09")."""
        return self._run(circulars.generate_circular, org, month, by=by,
                         trend_months=trend_months)

    def list_circulars(self, username: str, *, org: str | None = None, month: str | None = None,
                       limit: int = 50, offset: int = 0) -> list[CircularSummaryView]:
        return self._read(circular_queries.list_circulars, username, org=org, month=month,
                          limit=limit, offset=offset)

    def get_circular(self, circular_id: int, *, username: str) -> CircularView:
        return self._read(circular_queries.get_circular, circular_id, username=username)

    def circular_trend(self, username: str, *, org: str | None = None, months: int = 12,
                       until: str | None = None) -> tuple[TrendPoint, ...]:
        """On-time figures per month for charts, computed now, ending with *until*."""
        return self._read(circular_queries.trend, username, org=org, months=months,
                          until=until, now=self.clock.now(), tz=self.config.timezone)

    def export_circular(self, circular_id: int, *, username: str,
                        out: BinaryIO | None = None) -> bytes | None:
        """One stored circular as an .xlsx, written to *out* or returned."""
        return ledger_excel.write_circular(self.get_circular(circular_id, username=username),
                                           out, tz=self.config.timezone)

    # -- inbox ---------------------------------------------------------------
    def inbox(self, username: str, tab: str, *, process_key: str | None = None,
              org: str | None = None, light: str | None = None,
              due_before: datetime | None = None, due_after: datetime | None = None,
              sort: str | None = None, page: int = 1, size: int = 20) -> InboxPage:
        """One page of *username*'s inbox tab: ``todo`` 待办, ``done`` 已办, ``started``
        我发起的, ``copied`` 抄送我的; filtered by process, organisation (its subtree),
        light and due range, sorted by ``due``, ``created`` or ``light``.

        :raise ValidationError: an unknown tab, sort or light, a bad page or size (at
            most 100 rows), or an unknown organisation.
        """
        return self._read(inbox_queries.inbox, username, tab, process_key=process_key,
                          org=org, light=light, due_before=due_before, due_after=due_after,
                          sort=sort, page=page, size=size)

    def inbox_counts(self, username: str) -> dict[str, int]:
        """How many rows each inbox tab holds: ``{"todo", "done", "started", "copied"}``."""
        return self._read(inbox_queries.inbox_counts, username)

    def task_for(self, username: str, task_id: str) -> TaskDetailView:
        """A task as its page shows it to *username*, with the verbs open to them.

        :raise NotFound: no such task, or *username* may not see it.
        """
        return self._read(task_detail_queries.task_for, username, task_id)

    def task_people(self, username: str, task_id: str) -> list[tuple[str, str]]:
        """(username, name) of those a task may be transferred, delegated or copied to.

        :raise NotFound: no such task, or *username* may not see it.
        """
        return self._read(task_detail_queries.task_people, username, task_id)

    def display_names(self, usernames: list[str]) -> dict[str, str]:
        """Display names by username (unknown usernames are left out)."""
        return self._read(inbox_queries.names_of, usernames)

    def organisation_names(self, codes: list[str]) -> dict[str, str]:
        """Organisation names by code (unknown codes are left out)."""
        return self._read(inbox_queries.org_names_of, codes)

    def process_choices(self) -> list[tuple[str, str | None]]:
        """(process key, name) of every deployed process, newest version's name."""
        return self._read(inbox_queries.process_choices)

    # -- supervision pages -----------------------------------------------------
    def report_scope(self, username: str, *, org: str | None = None) -> ReportScopeView:
        """The organisation a report page shows (default: the one *username* sees from
        the top), its units, and the organisations they may choose instead.

        :raise NotFound: no such organisation. :raise PermissionDenied: not visible.
        """
        return self._read(supervision_pages.report_scope, username, org=org,
                          now=self.clock.now(), tz=self.config.timezone)

    def problem_list_template(self) -> bytes:
        """An empty problem list (问题清单) as .xlsx: the header row the import reads."""
        return supervision_pages.problem_list_template()

    # -- instance pages ------------------------------------------------------
    def instance_for(self, username: str, instance_id: int) -> InstanceView:
        """An instance as *username* may see it (:func:`engine.permissions.can_see_instance`).

        :raise NotFound: no such instance, or one *username* may not see.
        """
        return self._read(instance_queries.instance_for, username, instance_id)

    def instance_page(self, username: str, instance_id: int) -> InstancePageView:
        """The instance page: the instance, its open tasks, item, timeline and, for those
        who may manage it, its incidents. :raise NotFound: none, or not visible."""
        return self._read(instance_queries.instance_page, username, instance_id)

    def instances(self, username: str, *, process_key: str | None = None,
                  state: str | None = None, org: str | None = None, limit: int = 20,
                  offset: int = 0) -> InstanceListView:
        """A page of the instances *username* may see, newest first, with the total.

        :raise ValidationError: an unknown state or a bad page. :raise NotFound: no *org*.
        """
        return self._read(instance_queries.instance_list, username, process_key=process_key,
                          state=state, org=org, limit=limit, offset=offset)

    def diagram(self, username: str, instance_id: int) -> DiagramView:
        """The instance's BPMN XML with its completed, active, overdue and failed elements.

        :raise NotFound: no such instance, or not visible to *username*.
        """
        return self._read(diagram_queries.diagram, username, instance_id, now=self.clock.now())

    def timeline(self, username: str, instance_id: int, *,
                 limit: int = 500) -> list[TimelineEntry]:
        """Who did what when in an instance (纪实), oldest first, with the comments and
        evidence files added. :raise NotFound: no such instance, or not visible."""
        return self._read(instance_queries.timeline, username, instance_id, limit=limit)

    def incidents(self, username: str, instance_id: int) -> tuple[IncidentView, ...]:
        """The instance's failure and failed jobs.

        :raise NotFound: not visible. :raise PermissionDenied: may not manage it.
        """
        return self._read(instance_queries.incidents, username, instance_id)

    def retry_instance_job(self, instance_id: int, job_id: int, *, by: str) -> jobs.JobView:
        """Retry one of an instance's failed jobs, for someone who may manage it."""
        return self._run(incident_commands.retry_instance_job, instance_id, job_id, by=by)

    def startable(self, username: str) -> list[StartableView]:
        """The processes *username* may start by hand (发起), newest versions, by name."""
        return self._read(startable_queries.startable, username)

    def start_form(self, username: str, process_key: str) -> StartFormView:
        """A process's start form and the organisations *username* may start it for.

        :raise NotFound: no such process, or not one started by hand.
        """
        return self._read(startable_queries.start_form, username, process_key)

    # -- audit ---------------------------------------------------------------
    def verify_audit(self) -> audit.VerifyReport:
        return self._read(audit.verify)
