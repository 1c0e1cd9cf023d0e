"""duban's BPM engine: deploy, run and persist BPMN processes.

The public API is :class:`Engine`, the errors it raises and the views it
returns. Nothing here imports Flask; see ``engine/README.md`` for the layering.
"""
from engine.api import Engine
from engine.clock import Clock, FrozenClock, SystemClock
from engine.config import EngineConfig
from engine.errors import (
    ConflictError, DefinitionError, DubanError, JobError, NotFound, PermissionDenied, Problem,
    ScriptError, ValidationError,
)
from engine.views import (
    HistoryEventView, InstanceView, ItemView, NotificationView, OrganisationView, PersonView,
    TaskView, VersionView,
)
from engine.views import (
    AttachmentView, CommentView, CopyView, ExtensionRequestView, SignerView,
)
from engine.views import SendBackTarget
from engine.views import InboxPage, InboxRow, TaskDetailView  # -- inbox --
from engine.views import (  # -- instance pages --
    DiagramView, IncidentView, InstanceListView, InstancePageView, InstanceRow, StartableView,
    StartFormView, TimelineEntry,
)

__all__ = [
    "Engine", "EngineConfig", "Clock", "SystemClock", "FrozenClock",
    "DubanError", "NotFound", "DefinitionError", "ValidationError", "ConflictError",
    "PermissionDenied", "ScriptError", "JobError", "Problem",
    "VersionView", "TaskView", "InstanceView", "HistoryEventView", "OrganisationView",
    "PersonView", "ItemView", "NotificationView",
    "CommentView", "AttachmentView", "CopyView", "SignerView", "ExtensionRequestView",
    "SendBackTarget",
    # inbox
    "InboxPage", "InboxRow", "TaskDetailView",
    # instance pages
    "DiagramView", "IncidentView", "InstanceListView", "InstancePageView", "InstanceRow",
    "StartableView", "StartFormView", "TimelineEntry",
]
