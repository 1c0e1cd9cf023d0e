"""Reading the supervisor's query strings and answering with downloads.

A browser can send anything: these helpers never raise on a bad value. Page
numbers are clamped; filter values are passed on as text and the engine says
what is wrong with them (a ``ValidationError`` the pages show beside the filters).
"""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping
from urllib.parse import quote, urlsplit

from flask import Response, request, url_for
from flask_babel import gettext as _

#: the ledger's filters, as query-string names (the engine's names)
LEDGER_FILTERS = ("unit", "kind", "state", "light", "source", "category", "due_month",
                  "created_month", "search", "sort")
#: the drill-down list's filters: query-string name → the engine's keyword
TASK_FILTERS = {"unit": "unit", "process": "process_key", "light": "light"}
MAX_PAGE_NUMBER = 100_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


#: control characters never belong in a filter; PostgreSQL refuses NUL in any text
_CONTROL = dict.fromkeys(range(32))


def arg(name: str, source: Mapping[str, str] | None = None) -> str | None:
    """A query (or form) value, stripped of control characters; None when absent or blank."""
    value = (request.args if source is None else source).get(name, "")
    value = value.translate(_CONTROL).strip()[:500]
    return value or None


def text(value: str | None) -> str:
    """Free text from a form (a message): without NUL characters, which no database keeps."""
    return (value or "").replace("\x00", "").strip()


def page_number() -> int:
    """``?page=``: 1 for anything that is not a positive number."""
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE_NUMBER)


def ledger_filters(org: str) -> dict[str, Any]:
    """The ledger's filters from the query string, for ``Engine.ledger`` and the export."""
    found: dict[str, Any] = {"org": org}
    for name in LEDGER_FILTERS:
        found[name] = arg(name)
    return found


def task_filters() -> dict[str, Any]:
    found: dict[str, Any] = {key: arg(name) for name, key in TASK_FILTERS.items()}
    found["overdue"] = request.args.get("overdue") in ("1", "true", "on")
    return found


def link_args(values: Mapping[str, Any]) -> dict[str, Any]:
    """Query arguments for url_for: the set ones only."""
    return {k: v for k, v in values.items() if v not in (None, "", False)}


def last_month(today: date) -> str:
    index = today.year * 12 + today.month - 2
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_label(month: str) -> str:
    """"2026-09" as the reader's language writes a month (2026年9月)."""
    try:
        year, number = int(month[:4]), int(month[5:7])
    except (TypeError, ValueError):
        return month
    return _("%(month)s/%(year)s", year=year, month=number)


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def back_to(default: str) -> str:
    """The form's ``next`` if it is a path on this site, else *default*."""
    target = request.form.get("next", "")
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.scheme \
            and not parts.netloc and "\\" not in target:
        return target
    return default


def xlsx_response(content: bytes, filename: str) -> Response:
    """An .xlsx download named *filename* (Chinese allowed: RFC 6266 ``filename*``)."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_"
                       for c in filename)
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    response = Response(content, mimetype=XLSX)
    response.headers["Content-Disposition"] = disposition
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def here(**overrides: Any) -> str:
    """This page's URL with some query arguments replaced (None drops one)."""
    values = {**request.args.to_dict(), **overrides}
    return url_for(request.endpoint or "supervision.dashboard",
                   **(request.view_args or {}), **link_args(values))
