"""Frozen views the engine returns to its callers (never ORM objects)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class VersionView:
    id: int
    process_key: str
    version: int
    name: str | None
    deployment_id: int
    deployed_by: str
    deployed_at: datetime
    #: False when identical XML was deployed before and nothing new was stored
    created: bool = True
    #: every process version the deployed file holds (this one included)
    all_in_file: tuple["VersionView", ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True)
class TaskView:
    id: str
    element_id: str
    name: str | None
    instance_id: int
    process_key: str
    state: str
    assignee: str | None
    candidates: tuple[str, ...]
    org_id: int | None
    created_at: datetime
    due_at: datetime | None
    warn_at: datetime | None
    form: tuple[dict[str, Any], ...]
    ended_at: datetime | None = None
    ended_by: str | None = None
    #: green, yellow, red; None when the task has no limit
    light: str | None = None
    #: the due date counts weekends only: its year's holiday calendar is not loaded yet
    due_provisional: bool = False
    escalation_level: int = 0
    #: 委派 and 加签: the holder of record while someone else has the task
    owner: str | None = None
    #: 委派: pending (with the delegate) or resolved (handed back); None: never delegated
    delegation: str | None = None


@dataclass(frozen=True)
class InstanceView:
    id: int
    process_key: str
    version: int
    business_key: str | None
    state: str
    data: dict[str, Any]
    org_id: int | None
    started_by: str
    started_at: datetime
    ended_at: datetime | None
    #: why the instance failed: {"type", "message", "element_id", "line"}
    error: dict[str, Any] | None
    lock_version: int
    light: str | None = None


@dataclass(frozen=True)
class HistoryEventView:
    element_id: str | None
    element_name: str | None
    element_type: str | None
    kind: str
    at: datetime
    by: str | None
    task_id: str | None
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class OrganisationView:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    #: materialised path of ids, "/1/4/17/": its depth is the tree level
    path: str = ""

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)


@dataclass(frozen=True)
class PersonView:
    id: int
    username: str
    name: str
    roles: tuple[tuple[str, str], ...]  # (role code, organisation code)
    active: bool = True
    email: str | None = None
    mobile: str | None = None
    #: a password is set
    can_sign_in: bool = False


@dataclass(frozen=True)
class NotificationView:
    id: int
    recipient: str
    kind: str
    level: int | None
    title: str
    body: str
    instance_id: int | None
    task_id: str | None
    sent_by: str
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True)
class ItemView:
    id: int
    instance_id: int
    kind: str
    number: str
    title: str | None
    source: str | None
    category: str | None
    org_id: int | None
    responsible_unit: str | None
    responsible_person: str | None
    lead_leader: str | None
    measures: str | None
    due_date: Any
    state: str
    light: str | None
    returns: int
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class CommentView:
    id: int
    instance_id: int
    task_id: str | None
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class AttachmentView:
    id: int
    instance_id: int
    task_id: str | None
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


@dataclass(frozen=True)
class CopyView:
    """A task or instance copied to a person for information (抄送)."""

    id: int
    instance_id: int
    task_id: str | None
    recipient: str
    sent_by: str
    note: str | None
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True)
class SignerView:
    """A person added to sign a task (加签): position before or after its holder."""

    id: int
    task_id: str
    username: str
    position: str
    seq: int
    #: waiting, signed
    state: str
    opinion: str | None
    added_by: str
    added_at: datetime
    signed_at: datetime | None


@dataclass(frozen=True)
class ExtensionRequestView:
    """A holder's request to move a task's limit later (延期申请) and its decision."""

    id: int
    task_id: str
    instance_id: int
    requested_by: str
    reason: str
    requested_due: datetime | None
    working_days: int | None
    #: pending, approved, rejected, withdrawn
    state: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    created_at: datetime
    task_name: str | None = None
    #: the task's current limit
    due_at: datetime | None = None
    org_id: int | None = None


# -- supervision reports: dashboard, ledger (台账), monthly circular (通报) ----------

@dataclass(frozen=True)
class LightCounts:
    """Open things by light: red (overdue), yellow (near due), green, none (no limit)."""

    green: int = 0
    yellow: int = 0
    red: int = 0
    none: int = 0

    @property
    def total(self) -> int:
        return self.green + self.yellow + self.red + self.none


@dataclass(frozen=True)
class UnitLights:
    """A unit's open tasks and open items by light (a branch, or the town with its offices)."""

    code: str
    name: str
    kind: str
    tasks: LightCounts
    items: LightCounts


@dataclass(frozen=True)
class ProcedureLights:
    process_key: str
    process_name: str | None
    tasks: LightCounts
    items: LightCounts


@dataclass(frozen=True)
class DashboardView:
    """The supervisor's dashboard of one organisation and the units under it."""

    org_code: str
    org_name: str
    units: tuple[UnitLights, ...]
    procedures: tuple[ProcedureLights, ...]
    tasks: LightCounts
    items: LightCounts
    #: open tasks past their due time now (whatever their stored light says)
    overdue_tasks: int
    as_of: datetime


@dataclass(frozen=True)
class SupervisedTaskView:
    """One open task on the dashboard's lists, with what a 催办 needs."""

    task_id: str
    task_name: str | None
    instance_id: int
    process_key: str
    process_name: str | None
    #: the organisation holding the task, and the dashboard unit it counts for
    org_code: str | None
    org_name: str | None
    unit_code: str | None
    unit_name: str | None
    assignee: str | None
    candidates: tuple[str, ...]
    #: display names of the assignee, or else of the candidates
    holder_names: tuple[str, ...]
    item_number: str | None
    item_title: str | None
    lead_leader: str | None
    lead_leader_name: str | None
    light: str | None
    escalation_level: int
    created_at: datetime
    due_at: datetime | None
    #: working days past due (what the 督办 notices say), 0 when not overdue
    overdue_working_days: int
    #: calendar days between the due date and today (local dates), 0 when not overdue
    overdue_calendar_days: int


@dataclass(frozen=True)
class TaskPage:
    rows: tuple[SupervisedTaskView, ...]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class LedgerRow:
    """One line of the ledger (台账), every column the documents name."""

    id: int
    instance_id: int
    process_key: str
    kind: str
    number: str
    title: str | None
    source: str | None
    category: str | None
    #: the organisation the item concerns
    org_code: str | None
    org_name: str | None
    responsible_unit: str | None
    responsible_unit_name: str | None
    responsible_person: str | None
    responsible_person_name: str | None
    lead_leader: str | None
    lead_leader_name: str | None
    measures: str | None
    due_date: date | None
    state: str
    light: str | None
    returns: int
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class LedgerPage:
    rows: tuple[LedgerRow, ...]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class ImportReport:
    """A problem list imported: one 问题整改销号 instance per row, in row order."""

    rows: int
    instance_ids: tuple[int, ...]
    numbers: tuple[str, ...]


@dataclass(frozen=True)
class CircularCounts:
    """On-time figures of one unit (or the total) for one month; see engine/circulars.py."""

    due: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    pending: int = 0
    carried_over: int = 0
    #: on_time / (due - pending): over the items already decided; None when none are
    on_time_rate: float | None = None


@dataclass(frozen=True)
class CircularUnitRow:
    code: str
    name: str
    kind: str
    counts: CircularCounts
    #: 1 = best; equal rates share a rank (1, 1, 3); None without a rate
    rank: int | None


@dataclass(frozen=True)
class OverdueItem:
    number: str
    title: str | None
    kind: str
    unit_code: str
    unit_name: str
    due_date: date
    overdue_working_days: int


@dataclass(frozen=True)
class TrendPoint:
    month: str
    counts: CircularCounts


@dataclass(frozen=True)
class CircularSummaryView:
    id: int
    org_code: str
    org_name: str
    month: str
    generated_at: datetime
    generated_by: str


@dataclass(frozen=True)
class CircularView:
    """One stored generation of an organisation's monthly circular (一月一通报)."""

    id: int
    org_code: str
    org_name: str
    month: str
    generated_at: datetime
    generated_by: str
    #: the moment the figures are taken at: the month's end, or the generation if earlier
    as_of: datetime
    units: tuple[CircularUnitRow, ...]
    totals: CircularCounts
    #: the same figures per item kind (problem, matter, petition)
    by_kind: dict[str, CircularCounts]
    overdue_items: tuple[OverdueItem, ...]
    trend: tuple[TrendPoint, ...]


@dataclass(frozen=True)
class SendBackTarget:
    """An earlier step an open task may be sent back to (退回), newest first."""

    element_id: str
    name: str | None
    #: who completed it last: the task sent back goes to them
    completed_by: str | None
    completed_at: datetime


# -- inbox ---------------------------------------------------------------------------

@dataclass(frozen=True)
class InboxRow:
    """One line of an inbox tab: a task (待办, 已办), an instance one started (我发起的)
    or something copied to one (抄送我的), with what the list shows."""

    #: task, instance or copy
    kind: str
    instance_id: int
    instance_state: str
    business_key: str | None
    process_key: str
    process_name: str | None
    created_at: datetime
    task_id: str | None = None
    task_name: str | None = None
    task_state: str | None = None
    item_number: str | None = None
    item_title: str | None = None
    org_code: str | None = None
    org_name: str | None = None
    assignee: str | None = None
    assignee_name: str | None = None
    due_at: datetime | None = None
    light: str | None = None
    due_provisional: bool = False
    escalation_level: int = 0
    ended_at: datetime | None = None
    started_by: str | None = None
    #: 已办: this completion is the latest of a running instance, so it may be withdrawable
    #: (撤回; ``Engine.withdrawable`` decides)
    maybe_withdrawable: bool = False
    copy_id: int | None = None
    copy_sent_by: str | None = None
    copy_sent_by_name: str | None = None
    copy_note: str | None = None
    copy_read_at: datetime | None = None


@dataclass(frozen=True)
class InboxPage:
    rows: tuple[InboxRow, ...]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


@dataclass(frozen=True)
class TaskDetailView:
    """A task as its page shows it to one viewer, with the verbs open to that viewer."""

    task: TaskView
    process_name: str | None
    org_code: str | None
    org_name: str | None
    instance_state: str
    business_key: str | None
    started_by: str
    item: ItemView | None
    #: who answers for the task: its owner while it is delegated or with added signers
    holder: str | None
    owner: str | None
    #: 委派: pending or resolved; None: never delegated
    delegation: str | None
    #: 加签: before or after while added signers have the task, else None
    signing: str | None
    #: what a delegate filled in (委派), the starting point of the holder's form
    draft: dict[str, Any]
    #: the pending extension request on the task (延期申请), if any
    extension_request: ExtensionRequestView | None
    #: verbs the viewer may use now: claim, unclaim, complete, transfer, delegate, resolve,
    #: add_signer, sign, send_back, copy, comment, attach, urge, request_extension,
    #: decide_extension, withdraw_extension (withdraw is asked of ``Engine.withdrawable``)
    actions: frozenset[str]
    #: display names of the people the task names (assignee, candidates, owner, starter)
    names: dict[str, str] = field(default_factory=dict)
    #: the fields of every form of the task's process version, by name (first one wins):
    #: how to label and show the instance data earlier steps filled in
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)


# -- supervision pages: the scope a report page is about ----------------------------

@dataclass(frozen=True)
class ReportScopeView:
    """The organisation a report page shows, its units (its own row first, as the
    reports count them) and the organisations the person may choose instead."""

    org: OrganisationView
    units: tuple[OrganisationView, ...]
    choices: tuple[OrganisationView, ...]
    #: today in the engine's zone (pages default to "last month" from it)
    today: date


# -- instance pages: the instance page, its diagram and timeline, starting a process -----

@dataclass(frozen=True)
class TimelineEntry:
    """One line of an instance's timeline (纪实): who did what when, from the audit trail."""

    seq: int
    at: datetime
    #: the audit action, e.g. task.completed, instance.cancelled, comment.added
    action: str
    actor: str
    actor_name: str
    task_id: str | None = None
    task_name: str | None = None
    #: display names of the people the action concerns: a new holder, recipients, signers
    people: tuple[str, ...] = ()
    #: what was written with it: a reason, a comment, a message, an error
    text: str | None = None
    #: a moment it names: the new limit, the due time of a new task
    when: datetime | None = None
    #: a short value it names: a light, a 督办 level, an item state, a step's name
    value: str | None = None
    #: comments and evidence files added with this action (or, alone, the one it adds)
    comments: tuple[CommentView, ...] = ()
    attachments: tuple[AttachmentView, ...] = ()


@dataclass(frozen=True)
class IncidentView:
    """Something that stopped: the instance's failure, or one of its failed jobs."""

    #: "instance" for the instance's error, else the failed job's kind (timer, deliver, ...)
    kind: str
    message: str | None
    job_id: int | None = None
    element_id: str | None = None
    element_name: str | None = None
    task_id: str | None = None
    attempts: int = 0
    due_at: datetime | None = None


@dataclass(frozen=True)
class DiagramView:
    """A version's BPMN XML and the states of its elements in one instance, for marking."""

    instance_id: int
    process_key: str
    version: int
    xml: str
    completed: tuple[str, ...]
    active: tuple[str, ...]
    overdue: tuple[str, ...]
    failed: tuple[str, ...]


@dataclass(frozen=True)
class InstanceRow:
    """One line of the instance list."""

    id: int
    process_key: str
    process_name: str | None
    version: int
    business_key: str | None
    state: str
    light: str | None
    org_code: str | None
    org_name: str | None
    started_by: str
    started_by_name: str
    started_at: datetime
    ended_at: datetime | None
    item_number: str | None = None
    item_title: str | None = None


@dataclass(frozen=True)
class InstanceListView:
    """A page of the instances a person may see, and the choices its filters offer."""

    rows: tuple[InstanceRow, ...]
    total: int
    limit: int
    offset: int
    #: (process key, name) of every deployed process
    processes: tuple[tuple[str, str | None], ...] = ()
    orgs: tuple[OrganisationView, ...] = ()


@dataclass(frozen=True)
class InstancePageView:
    """Everything the instance page shows, read in one go."""

    instance: InstanceView
    process_name: str | None
    org_code: str | None
    org_name: str | None
    started_by_name: str
    tasks: tuple[TaskView, ...]
    #: username → display name of everyone the page names
    names: dict[str, str]
    item: ItemView | None
    timeline: tuple[TimelineEntry, ...]
    #: the instance may be suspended, resumed, cancelled, retried by the reader
    can_manage: bool
    #: shown to those who may manage the instance, else empty
    incidents: tuple[IncidentView, ...] = ()
    #: data name → the label its form gives it
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StartableView:
    """A process someone may start by hand (发起), with its start form."""

    process_key: str
    version: int
    version_id: int
    name: str | None
    start_event_id: str
    start_event_name: str | None
    form: tuple[dict[str, Any], ...]
    #: the kind of item it tracks (problem, matter, petition), if any
    item_kind: str | None = None


@dataclass(frozen=True)
class StartFormView:
    process: StartableView
    #: the organisations the instance may concern, and the one chosen by default
    orgs: tuple[OrganisationView, ...]
    default_org: str | None
