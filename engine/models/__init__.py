"""Database tables, by area. Alembic (``migrations/``) creates them; tests may too."""
from engine.models.base import Base, UTCDateTime
from engine.models.org import Membership, Organisation, Person, Role
from engine.models.definitions import Deployment, ProcessElement, ProcessVersion
from engine.models.runtime import (
    EventSubscription, HistoryEvent, HumanTask, ProcessInstance, TaskCandidate,
)
from engine.models.audit import AuditEvent, AuditHead
from engine.models.items import Item
from engine.models.collab import (
    Attachment, AttachmentBlob, Comment, ExtensionRequest, TaskCopy, TaskSigner,
)
from engine.models.reports import Circular
from engine.models.jobs import (
    CalendarDay, CalendarYear, ChannelConfig, Job, Notification,
)

__all__ = [
    "Base", "UTCDateTime", "Organisation", "Person", "Role", "Membership",
    "Deployment", "ProcessVersion", "ProcessElement", "ProcessInstance", "HumanTask", "TaskCandidate",
    "HistoryEvent", "EventSubscription", "AuditEvent", "AuditHead",
    "Job", "Notification", "ChannelConfig", "CalendarDay", "CalendarYear", "Item",
    "Comment", "Attachment", "AttachmentBlob", "TaskCopy", "TaskSigner", "ExtensionRequest",
    "Circular",
]
