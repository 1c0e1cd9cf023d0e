"""What the task page shows: the task, its item, its form, evidence, the verbs open to
the viewer, and the instance's history with its comments as one timeline.

Every read names the viewer; the engine decides what they may see and do
(``Engine.task_for`` and its ``actions``), the page only lays it out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.views import CommentView, HistoryEventView, TaskDetailView
from web.auth import engine, me
from web.inbox import bp
from web.inbox.forms import ACCEPT, as_list, hint, initial_values, max_length, shown
from web.wording import INSTANCE_STATES, ITEM_STATES

#: history kinds as the timeline names them
KINDS = {
    "started": _l("Step opened"), "completed": _l("Completed"), "cancelled": _l("Ended"),
    "claimed": _l("Signed for (签收)"), "unclaimed": _l("Gave back (退签)"),
    "transferred": _l("Transferred (转办)"), "delegated": _l("Delegated (委派)"),
    "resolved": _l("Handed back (委派归还)"), "signers_added": _l("Signers added (加签)"),
    "signed": _l("Signed (签署)"), "submitted": _l("Submitted for signatures"),
    "copied": _l("Copied (抄送)"), "sent_back": _l("Sent back (退回)"),
    "withdrawn": _l("Withdrawn (撤回)"), "attachment_added": _l("Evidence added"),
    "extension_requested": _l("Extension requested (延期申请)"),
    "extension_approved": _l("Extension approved"),
    "extension_rejected": _l("Extension rejected"),
    "extension_withdrawn": _l("Extension request withdrawn"),
    "failed": _l("Failed"), "suspended": _l("Suspended"), "resumed": _l("Resumed"),
    "retried": _l("Retried"), "comment": _l("Comment"),
    "instance_started": _l("Started"), "instance_ended": _l("Finished"),
}
TASK_STATES = {"open": _l("Open"), "completed": _l("Completed"), "cancelled": _l("Ended")}
#: element types whose plain state changes the timeline shows
PEOPLES_STEPS = {"UserTask", "ManualTask"}
#: verbs that hand the task to someone the viewer picks from a list
PICKS_PEOPLE = {"transfer", "delegate", "add_signer", "copy"}


@dataclass(frozen=True)
class Moment:
    """One line of the timeline: a history event or a comment."""

    at: datetime
    kind: str
    by: str | None
    step: str | None
    text: str | None


def _said(kind: str, detail: Mapping[str, Any] | None, names: Mapping[str, str]) -> str | None:
    """The words an event carries: a reason, an opinion, who it went to."""
    if not detail:
        return None
    parts = []
    for key in ("reason", "opinion", "comment", "note", "message"):
        if detail.get(key):
            parts.append(str(detail[key]))
    to = detail.get("to") or detail.get("signers")
    if to and kind in ("transferred", "delegated", "copied", "signers_added"):
        people = to if isinstance(to, list) else [to]
        parts.insert(0, "→ " + "、".join(names.get(p, p) for p in people))
    if detail.get("filename"):
        parts.append(str(detail["filename"]))
    return "；".join(parts) or None


def timeline(history: list[HistoryEventView], comments: list[CommentView],
             names: Mapping[str, str], started_by: str | None = None) -> list[Moment]:
    """The history people care about and the comments, oldest first. Automatic steps
    (gateways, scripts, events) are left out; an instance's start and end are kept."""
    moments: list[tuple[datetime, int, Moment]] = []
    for order, e in enumerate(history):
        structural = e.kind in ("started", "completed", "cancelled")
        if structural and e.element_type not in PEOPLES_STEPS and not (
                e.element_type in ("StartEvent", "EndEvent") and e.kind == "completed"):
            continue
        kind = e.kind
        if e.element_type == "StartEvent":
            kind = "instance_started"
        elif e.element_type == "EndEvent":
            kind = "instance_ended"
        step = None if kind.startswith("instance_") else e.element_name or e.element_id
        by = started_by if kind == "instance_started" and e.by is None else e.by
        moments.append((e.at, order, Moment(e.at, kind, by, step,
                                            _said(e.kind, e.detail, names))))
    signed = {(e.at, e.by) for e in history if e.kind == "signed"}
    for c in comments:
        if (c.created_at, c.author) in signed:
            continue  # a signer's opinion is a comment too; the signature already shows it
        moments.append((c.created_at, len(history) + c.id, Moment(c.created_at, "comment",
                                                                  c.author, None, c.body)))
    return [m for _, _, m in sorted(moments, key=lambda x: (x[0], x[1]))]


def _values_of(detail: TaskDetailView, data: Mapping[str, Any], kind: str) -> list[str]:
    """The instance data values of the process's fields of one type (people, units)."""
    found = []
    for name, f in detail.fields.items():
        if f["type"] == kind and isinstance(data.get(name), str) and data[name]:
            found.append(data[name])
    return found


def _people_named(detail: TaskDetailView, *groups: Any) -> set[str]:
    found = {u for u in detail.names}
    for group in groups:
        for thing in group:
            if isinstance(thing, str):
                found.add(thing)
                continue
            for attr in ("by", "author", "uploaded_by", "username", "added_by",
                         "completed_by", "requested_by"):
                value = getattr(thing, attr, None)
                if value:
                    found.add(value)
    return found


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"accept": ACCEPT, "hint": hint, "shown": shown, "as_list": as_list,
            "max_length": max_length, "kinds": KINDS, "task_states": TASK_STATES,
            "instance_states": INSTANCE_STATES, "item_states": ITEM_STATES,
            "filesize": filesize}


def filled_in(detail: TaskDetailView, data: Mapping[str, Any], *, skip: set[str],
              files: list[Any], names: Mapping[str, str],
              units: Mapping[str, str]) -> list[tuple[str, str]]:
    """(label, value) of what earlier steps filled in, in the order it was entered: the
    instance data under the names of the process's form fields, shown as the forms
    offered them (option labels, yes/no, people's and units' names, file names)."""
    file_names = {str(f.id): f.filename for f in files}
    out = []
    for name, value in data.items():
        f = detail.fields.get(name)
        if f is None or name in skip or value in (None, "", []):
            continue
        options = {o["value"]: o["label"] for o in f.get("options") or []}
        values = value if isinstance(value, list) else [value]
        lookup = {"enum": options, "multienum": options, "person": names,
                  "organisation": units, "attachments": file_names}.get(f["type"], {})
        if f["type"] == "boolean":
            shown_values = [_("Yes") if v else _("No") for v in values]
        else:
            shown_values = [lookup.get(str(v), str(v)) for v in values]
        out.append((f.get("label") or name, "、".join(shown_values)))
    return out


def _names(detail: TaskDetailView, *groups: Any) -> dict[str, str]:
    """Display names of everyone the page mentions."""
    wanted = _people_named(detail, *groups)
    if detail.item is not None:
        wanted |= {u for u in (detail.item.responsible_person, detail.item.lead_leader) if u}
    return {**engine().display_names(sorted(wanted)), **detail.names}


def task_page(detail: TaskDetailView, *, status: int = 200, errors: Mapping[str, Any] | None = None,
              verb: str | None = None, values: Mapping[str, Any] | None = None) -> Any:
    """Render a task's page for the signed-in person.

    :param errors: field → problem, shown beside the fields of *verb*'s form (the
        form to complete the task when *verb* is ``complete``).
    :param values: what was typed, shown again after a refusal.
    """
    eng, who, task, item = engine(), me(), detail.task, detail.item
    acts = set(detail.actions)
    instance = eng.get_instance(task.instance_id)
    history = eng.history(task.instance_id)
    comments = eng.comments(task.instance_id, by=who, limit=500)
    files = eng.attachments(instance_id=task.instance_id, by=who, limit=500)
    signers = eng.signers(task.id, by=who)
    kinds = {f["type"] for f in task.form}
    fields = {f["name"] for f in task.form}
    people = eng.task_people(who, task.id) if acts & PICKS_PEOPLE or "person" in kinds else []
    targets = eng.send_back_targets(task.id) if "send_back" in acts else []
    if not targets:
        acts.discard("send_back")  # nothing earlier to go back to
    names = _names(detail, history, comments, files, signers, targets,
                   _values_of(detail, instance.data, "person"))
    units = eng.organisation_names(
        [*_values_of(detail, instance.data, "organisation"),
         *([item.responsible_unit] if item and item.responsible_unit else [])])
    form_values = initial_values(task.form, draft=detail.draft, data=instance.data)
    if verb == "complete" and values is not None:
        form_values.update(values)
    return render_template(
        "inbox/task.html", d=detail, acts=acts, task=task, instance=instance, item=item,
        files=files, task_files=[f for f in files if f.task_id == task.id], signers=signers,
        people=people, targets=targets, names=names, form_values=form_values,
        withdrawable=(task.state == "completed" and task.ended_by == who
                      and _withdrawable(eng, task.instance_id, task.id, who)),
        orgs=eng.organisations(who) if "complete" in acts and "organisation" in kinds else [],
        units=units, filled=filled_in(
            detail, instance.data, skip=fields if "complete" in acts else set(), files=files,
            names=names, units=units),
        moments=timeline(history, comments, names, detail.started_by),
        errors=dict(errors or {}), verb=verb, typed=dict(values or {}),
        other_errors={k: v for k, v in (errors or {}).items() if k not in fields | {"file"}},
    ), status


def filesize(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _withdrawable(eng: Any, instance_id: int, task_id: str, who: str) -> bool:
    found = eng.withdrawable(instance_id, by=who)
    return found is not None and found.id == task_id
