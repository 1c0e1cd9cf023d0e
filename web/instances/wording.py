"""How the instance pages word what they show: states, lights and timeline lines.

The engine returns each timeline entry as data (an audit action, who, which task,
which people, what was written); this module turns it into one sentence in the
reader's language.
"""
from __future__ import annotations

from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.views import TimelineEntry
from web.wording import ITEM_STATES

ITEM_KINDS = {"problem": _l("Problem"), "matter": _l("Assigned matter"),
              "petition": _l("Petition case")}
LIGHTS = {"green": _l("green"), "yellow": _l("yellow"), "red": _l("red")}
SIGNER_POSITIONS = {"before": _l("before the holder"), "after": _l("after the holder")}

#: audit action → its sentence; placeholders: who, task, people, step, when, light,
#: state, level, position
SENTENCES = {
    "instance.started": _l("%(who)s started the procedure"),
    "instance.completed": _l("The procedure was finished"),
    "instance.cancelled": _l("%(who)s cancelled the procedure"),
    "instance.suspended": _l("%(who)s suspended the procedure"),
    "instance.resumed": _l("%(who)s resumed the procedure"),
    "instance.failed": _l("The procedure stopped with an error at %(step)s"),
    "instance.retried": _l("%(who)s ran the failed step again"),
    "instance.copied": _l("%(who)s copied the procedure to %(people)s (抄送)"),
    "task.created": _l("Step %(task)s opened for %(people)s"),
    "task.claimed": _l("%(who)s signed for %(task)s (签收)"),
    "task.unclaimed": _l("%(who)s gave %(task)s back (退签)"),
    "task.completed": _l("%(who)s completed %(task)s (办理)"),
    "task.cancelled": _l("Step %(task)s ended without being completed"),
    "task.transferred": _l("%(who)s transferred %(task)s to %(people)s (转办)"),
    "task.delegated": _l("%(who)s delegated %(task)s to %(people)s (委派)"),
    "task.resolved": _l("%(who)s handed %(task)s back to %(people)s"),
    "task.signers_added": _l("%(who)s asked %(people)s to sign %(task)s %(position)s (加签)"),
    "task.signed": _l("%(who)s signed %(task)s"),
    "task.submitted": _l("%(who)s completed %(task)s and sent it for signing"),
    "task.sent_back": _l("%(who)s sent %(task)s back to %(step)s (退回)"),
    "task.withdrawn": _l("%(who)s withdrew %(task)s (撤回)"),
    "task.copied": _l("%(who)s copied %(task)s to %(people)s (抄送)"),
    "task.urged": _l("%(who)s urged %(people)s on %(task)s (催办)"),
    "task.escalated": _l("Level %(level)s supervision of %(task)s went to %(people)s (督办)"),
    "task.deadline_extended": _l("%(who)s extended the limit of %(task)s to %(when)s (延期)"),
    "task.deadline_recomputed": _l("The limit of %(task)s was recomputed: %(when)s"),
    "task.light_changed": _l("%(task)s turned %(light)s"),
    "item.changed": _l("The item is now: %(state)s"),
    "comment.added": _l("%(who)s wrote a comment"),
    "attachment.added": _l("%(who)s added evidence"),
    "extension.requested": _l("%(who)s asked for more time on %(task)s (延期申请)"),
    "extension.approved": _l("%(who)s approved more time on %(task)s"),
    "extension.rejected": _l("%(who)s refused more time on %(task)s"),
    "extension.withdrawn": _l("%(who)s withdrew the request for more time on %(task)s"),
    "job.failed": _l("A background job failed"),
    "job.retried": _l("%(who)s retried a background job"),
    "message.correlated": _l("A message reached the procedure"),
}


def _name(entry: TimelineEntry) -> str:
    return _("the system") if entry.actor == "system" else entry.actor_name


def sentence(entry: TimelineEntry) -> str:
    """The entry as one sentence in the reader's language."""
    template = SENTENCES.get(entry.action)
    if template is None:
        return _("%(who)s: %(action)s", who=_name(entry), action=entry.action)
    values: dict[str, Any] = {
        "who": _name(entry),
        "task": f"「{entry.task_name}」" if entry.task_name else _("a step"),
        "people": "、".join(entry.people) if entry.people else _("nobody yet"),
        "step": f"「{entry.value}」" if entry.value else _("a step"),
        "when": format_datetime(entry.when, "yyyy-MM-dd HH:mm") if entry.when else "—",
        "light": str(LIGHTS.get(entry.value or "", entry.value or "")),
        "state": str(ITEM_STATES.get(entry.value or "", entry.value or "")),
        "level": entry.value or "",
        "position": str(SIGNER_POSITIONS.get(entry.value or "", "")),
    }
    return str(template) % values
