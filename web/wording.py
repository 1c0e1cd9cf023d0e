"""Names of engine states the pages show, translated; one place for every blueprint."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

INSTANCE_STATES = {"running": _l("Running"), "suspended": _l("Suspended"),
                   "failed": _l("Failed"), "completed": _l("Finished"),
                   "cancelled": _l("Cancelled")}
ITEM_STATES = {"registered": _l("Registered"), "assigned": _l("Being assigned"),
               "rectifying": _l("Rectifying"), "reviewing": _l("Under review"),
               "closed": _l("Closed (销号)"), "cancelled": _l("Cancelled")}
