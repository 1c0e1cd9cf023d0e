"""An instance's timeline (纪实) in human terms, from its audit events.

Each audit event of the instance becomes a :class:`~engine.views.TimelineEntry`
naming who did what, to which task and person, with what reason or comment.
Events nobody reads as a step (notices delivered, evidence opened, data diffs)
are left out. A comment or evidence file added to a task goes with the entry of
the action its author then took on that task (办理, 转办, 退回 …); one with no such
action stands as an entry of its own.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import (
    Attachment, AuditEvent, Comment, HumanTask, Person, ProcessElement, ProcessInstance,
)
from engine.queries.collab import attachment_view, comment_view
from engine.views import AttachmentView, CommentView, TimelineEntry

#: audit actions the timeline leaves out: no one reads them as a step of the work
HIDDEN = {"notice.sent", "notice.delivered", "attachment.read", "instance.data_changed",
          "signal.thrown"}
#: actions a person takes on a task that the comments and files they added before go with
ACTS = {"task.completed", "task.submitted", "task.resolved", "task.signed", "task.sent_back",
        "task.transferred", "task.delegated", "task.withdrawn", "extension.requested"}
#: detail keys naming the people an action concerns, by action
PEOPLE_KEYS = {"task.transferred": ("to",), "task.delegated": ("to",),
               "task.resolved": ("owner",), "task.signers_added": ("signers",),
               "task.copied": ("recipients",), "instance.copied": ("recipients",),
               "task.urged": ("to",), "task.escalated": ("to",),
               "task.unclaimed": ("previous",), "task.sent_back": ("assignee",),
               "task.created": ("assignee", "candidates")}
#: detail keys holding what was written with the action, first found wins
TEXT_KEYS = ("reason", "comment", "opinion", "message", "note", "body", "error")


def _people(action: str, detail: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for key in PEOPLE_KEYS.get(action, ()):
        value = detail.get(key)
        if action == "task.created" and key == "candidates" and detail.get("assignee"):
            continue  # a task handed to one person: the candidates do not matter
        found.extend(value if isinstance(value, list) else [value] if value else [])
    return [p for p in found if isinstance(p, str)]


def _moment(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _value(action: str, detail: dict[str, Any], elements: dict[str, str]) -> str | None:
    if action == "task.light_changed":
        return detail.get("after")
    if action == "task.escalated":
        return str(detail.get("level", ""))
    if action == "item.changed":
        states = detail.get("state") or [None, None]
        return states[1] if isinstance(states, list) and len(states) == 2 else None
    if action == "task.sent_back":
        target = detail.get("to_element")
        return elements.get(target, target) if target else None
    if action == "instance.failed":
        element = detail.get("element_id")
        return elements.get(element, element) if element else None
    if action == "task.signers_added":
        return detail.get("position")
    return None


def _when(action: str, detail: dict[str, Any]) -> datetime | None:
    key = {"task.created": "due_at", "task.deadline_extended": "after",
           "task.deadline_recomputed": "after", "extension.requested": "due",
           "extension.approved": "due"}.get(action)
    return _moment(detail.get(key)) if key else None


def _shown(action: str, detail: dict[str, Any]) -> bool:
    if action in HIDDEN:
        return False
    if action == "item.changed":  # a light moving is told by its task; a state change is not
        states = detail.get("state")
        return isinstance(states, list) and len(states) == 2 and states[0] != states[1]
    return True


def timeline_entries(session: Session, instance: ProcessInstance, *,
                     limit: int = 500) -> list[TimelineEntry]:
    """The newest *limit* audit events of an instance in human terms, oldest first.

    Reads the audit trail by its instance index, then the instance's comments, files,
    task names, element names and the people named, one query each.
    """
    events = list(reversed(session.execute(
        select(AuditEvent).where(AuditEvent.instance_id == instance.id)
        .order_by(AuditEvent.seq.desc()).limit(limit)).scalars().all()))
    details = [json.loads(e.detail) if e.detail else {} for e in events]
    comments = {c.id: comment_view(c) for c in session.execute(
        select(Comment).where(Comment.instance_id == instance.id)).scalars()}
    files = {a.id: attachment_view(a) for a in session.execute(
        select(Attachment).where(Attachment.instance_id == instance.id)).scalars()}
    tasks = dict(session.execute(select(HumanTask.id, HumanTask.name).where(
        HumanTask.instance_id == instance.id)).tuples().all())
    elements = {e: n for e, n in session.execute(
        select(ProcessElement.element_id, ProcessElement.name)
        .where(ProcessElement.version_id == instance.process_version_id)).tuples() if n}
    usernames = {e.actor for e in events}
    for event, detail in zip(events, details):
        usernames.update(_people(event.action, detail))
    names = dict(session.execute(select(Person.username, Person.name).where(
        Person.username.in_(sorted(usernames)))).tuples().all()) if usernames else {}
    folded = _fold(events, details, comments, files)
    entries = []
    for event, detail in zip(events, details):
        if not _shown(event.action, detail) or event.seq in folded.hidden:
            continue
        text = next((detail[k] for k in TEXT_KEYS if isinstance(detail.get(k), str)
                     and detail[k].strip()), None)
        if event.action in ("comment.added",):
            text = None  # the comment itself is shown
        element = detail.get("element_id")
        task_name = tasks.get(event.task_id or "") or (elements.get(element) if element else None)
        entries.append(TimelineEntry(
            seq=event.seq, at=event.at, action=event.action, actor=event.actor,
            actor_name=names.get(event.actor, event.actor), task_id=event.task_id,
            task_name=task_name,
            people=tuple(names.get(p, p) for p in _people(event.action, detail)),
            text=text, when=_when(event.action, detail),
            value=_value(event.action, detail, elements),
            comments=tuple(folded.comments.get(event.seq, ())),
            attachments=tuple(folded.files.get(event.seq, ()))))
    return entries


class _Folded:
    def __init__(self) -> None:
        #: entry seq → the comments and files that go with it
        self.comments: dict[int, list[CommentView]] = {}
        self.files: dict[int, list[AttachmentView]] = {}
        #: seqs of comment and file events shown inside another entry
        self.hidden: set[int] = set()


def _fold(events: list[AuditEvent], details: list[dict[str, Any]],
          comments: dict[int, CommentView], files: dict[int, AttachmentView]) -> _Folded:
    """Put each comment and file with the next action its author took on its task, or
    with its own event when there is none."""
    out = _Folded()
    for index, (event, detail) in enumerate(zip(events, details)):
        if event.action == "comment.added":
            found: Any = comments.get(detail.get("comment_id") or -1)
            bucket: Any = out.comments
        elif event.action == "attachment.added":
            found, bucket = files.get(detail.get("attachment_id") or -1), out.files
        else:
            continue
        if found is None:
            continue
        target = event.seq
        if event.task_id:
            for later in events[index + 1:]:
                if later.task_id == event.task_id and later.actor == event.actor \
                        and later.action in ACTS:
                    target = later.seq
                    out.hidden.add(event.seq)
                    break
        bucket.setdefault(target, []).append(found)
    return out
