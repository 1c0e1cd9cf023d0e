"""Reading what a browser sends to the inbox: the list's filters and a task's form.

A browser can send anything, and nothing here raises on a bad value. A filter
that makes no sense is dropped (the list shows everything); a page number is
clamped. Task form values go to the engine as text, which checks them against
the task's form (``engine/forms.py``) and names each bad field.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from engine.evidence import TYPES
from web.form_fields import clean

TABS = ("todo", "done", "started", "copied")
LIGHTS = ("red", "yellow", "green", "none")
SORTS = ("light", "due", "created")
MAX_PAGE_NUMBER = 100_000
#: what the file inputs offer to pick (the engine checks names and content again)
ACCEPT = ",".join(f".{ext}" for ext in sorted(TYPES))
#: the longest text a filter value may be
MAX_ARG = 200


def page_number(args: Mapping[str, str]) -> int:
    """``?page=``: 1 for anything that is not a positive number."""
    try:
        page = int(clean(args.get("page", "1"), 12) or "1")
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE_NUMBER)


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass
class Filters:
    """The inbox list's filters, as the form shows them and the engine takes them."""

    process: str | None = None
    org: str | None = None
    light: str | None = None
    due_from: date | None = None
    due_to: date | None = None
    sort: str | None = None
    dropped: list[str] = field(default_factory=list)

    def for_engine(self, zone: ZoneInfo) -> dict[str, Any]:
        def start_of(day: date) -> datetime:
            return datetime.combine(day, time.min, tzinfo=zone)

        return {"process_key": self.process, "org": self.org, "light": self.light,
                "due_after": start_of(self.due_from) if self.due_from else None,
                "due_before": start_of(self.due_to + timedelta(days=1)) if self.due_to else None,
                "sort": self.sort}

    def args(self) -> dict[str, str]:
        """The set filters as query arguments (for links: tabs, pager)."""
        values = {"process": self.process, "org": self.org, "light": self.light,
                  "due_from": self.due_from.isoformat() if self.due_from else None,
                  "due_to": self.due_to.isoformat() if self.due_to else None,
                  "sort": self.sort}
        return {k: v for k, v in values.items() if v}


def read_filters(args: Mapping[str, str], *, processes: Iterable[str],
                 orgs: Iterable[str]) -> Filters:
    """The filters from the query string; values the lists do not offer are dropped."""
    found = Filters()
    for name, allowed in (("process", set(processes)), ("org", set(orgs)),
                          ("light", set(LIGHTS)), ("sort", set(SORTS))):
        value = clean(args.get(name), MAX_ARG)
        if value and value in allowed:
            setattr(found, name, value)
        elif value:
            found.dropped.append(name)
    for name in ("due_from", "due_to"):
        value = clean(args.get(name), MAX_ARG)
        day = _day(value)
        if day is not None and 2000 <= day.year <= 2200:
            setattr(found, name, day)
        elif value:
            found.dropped.append(name)
    return found


# -- a task's form ---------------------------------------------------------------------

def uploads_for(fields: Iterable[dict[str, Any]], files: Any) -> dict[str, list[Any]]:
    """The files chosen in each ``attachments`` field of the form (empty inputs left out)."""
    return {f["name"]: [u for u in files.getlist(f["name"]) if u and u.filename]
            for f in fields if f["type"] == "attachments" and not f.get("readonly")}


def read_task_form(fields: Iterable[dict[str, Any]], form: MultiDict[str, str],
                   uploaded: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
    """The data a task's form sent, by field: text as typed (the engine converts and
    checks it), lists for multiple choices and evidence (the ids of files chosen
    from those already attached, then of the files just uploaded)."""
    data: dict[str, Any] = {}
    for f in fields:
        name, kind = f["name"], f["type"]
        if f.get("readonly"):
            continue
        if kind == "multienum":
            data[name] = [clean(v) for v in form.getlist(name) if clean(v)]
        elif kind == "attachments":
            chosen = [clean(v) for v in form.getlist(name) if clean(v)]
            data[name] = list(dict.fromkeys([*chosen, *(uploaded or {}).get(name, [])]))
        elif name in form:
            data[name] = clean(form.get(name))
    return data


def initial_values(fields: Iterable[dict[str, Any]], *, draft: Mapping[str, Any],
                   data: Mapping[str, Any]) -> dict[str, Any]:
    """What a task's form shows before anything is typed: a read-only field the
    instance's value, another the delegate's draft (委派) or the field's default."""
    values: dict[str, Any] = {}
    for f in fields:
        name = f["name"]
        if f.get("readonly"):
            values[name] = data.get(name)
        elif name in draft:
            values[name] = draft[name]
        elif f.get("default") is not None:
            values[name] = f["default"]
    return values


def shown(value: Any) -> str:
    """A value as an input shows it: booleans as true/false, lists joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return str(value)


def as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def _number(value: float) -> str:
    return f"{value:g}"


def hint(f: dict[str, Any]) -> str | None:
    """A short help line under a field: its range or length, or what to pick."""
    if f["type"] in ("integer", "number"):
        if "min" in f and "max" in f:
            return _("From %(min)s to %(max)s", min=_number(f["min"]), max=_number(f["max"]))
        if "min" in f:
            return _("At least %(min)s", min=_number(f["min"]))
        if "max" in f:
            return _("At most %(max)s", max=_number(f["max"]))
        return _("A whole number") if f["type"] == "integer" else None
    if f["type"] in ("string", "text") and f.get("max_length"):
        return _("At most %(count)s characters", count=f["max_length"])
    if f["type"] == "multienum":
        return _("Choose any that apply")
    if f["type"] == "attachments":
        return _("Choose files already attached, or add new ones (PDF, pictures, Office "
                 "documents, text; at most 10 MB each)")
    if f["type"] == "person":
        return _("Pick a person from the list, or type a username")
    return None


def max_length(f: dict[str, Any]) -> int:
    return int(f.get("max_length") or (20_000 if f["type"] == "text" else 2_000))
