"""Reading a form defined in a process (``duban:form``, see ``engine/forms.py``) from
what a browser sent; ``templates/form_fields.html`` draws the same fields.

Values go to the engine as text (it converts and checks them and names each bad
field); nothing here raises on a bad value. Evidence files (``attachments``)
are not read here: they belong to a task, and its page uploads them.
"""
from __future__ import annotations

from typing import Any, Iterable

from werkzeug.datastructures import MultiDict


def clean(value: Any, limit: int | None = None) -> str:
    """Text from a browser: NUL characters (which no database column keeps) dropped,
    surrounding blanks stripped, optionally cut to *limit* characters."""
    text = str(value or "").replace("\x00", "").strip()
    return text[:limit] if limit else text


def fillable(fields: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fields a person fills in here: not read-only, not evidence files."""
    return [f for f in fields if not f.get("readonly") and f["type"] != "attachments"]


def read_fields(fields: Iterable[dict[str, Any]], form: MultiDict[str, str]) -> dict[str, Any]:
    """The data sent for each fillable field: text as typed, a list for a multiple
    choice; a field the browser left out is left out."""
    data: dict[str, Any] = {}
    for f in fillable(fields):
        name = f["name"]
        if f["type"] == "multienum":
            data[name] = [clean(v) for v in form.getlist(name) if clean(v)]
        elif name in form:
            data[name] = clean(form.get(name))
    return data


def initial(fields: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """What an empty form shows: each field's default."""
    return {f["name"]: f["default"] for f in fields if f.get("default") is not None}
