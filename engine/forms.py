"""Form fields from the ``duban:form`` extension, and validating what is submitted."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.errors import ValidationError

MAX_STRING = 2_000
MAX_TEXT = 20_000


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _coerce(field: dict[str, Any], value: Any) -> Any:
    """Return the value in its stored type, or raise ValueError with the reason."""
    ftype = field["type"]
    if ftype in ("string", "text", "person", "organisation"):
        if not isinstance(value, str):
            raise ValueError("must be text")
        limit = field.get("max_length") or (MAX_TEXT if ftype == "text" else MAX_STRING)
        if len(value) > limit:
            raise ValueError(f"must be at most {limit} characters")
        return value
    if ftype == "integer":
        if isinstance(value, bool):
            raise ValueError("must be a whole number")
        if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 19:
            value = int(value)
        if not isinstance(value, int):
            raise ValueError("must be a whole number")
        return _bounded(field, value)
    if ftype == "number":
        if isinstance(value, bool):
            raise ValueError("must be a number")
        if isinstance(value, str):
            try:
                value = float(Decimal(value.strip()))
            except InvalidOperation:
                raise ValueError("must be a number") from None
        if not isinstance(value, (int, float)) or value != value or value in (float("inf"),
                                                                                float("-inf")):
            raise ValueError("must be a number")
        return _bounded(field, value)
    if ftype == "boolean":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise ValueError("must be true or false")
    if ftype == "date":
        if isinstance(value, date) and not isinstance(value, datetime):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError("must be a date like 2026-12-01") from None
    if ftype == "datetime":
        try:
            parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        except ValueError:
            raise ValueError("must be a date and time like 2026-12-01T09:00") from None
        return parsed.isoformat()
    if ftype == "enum":
        allowed = [o["value"] for o in field.get("options", [])]
        if value not in allowed:
            raise ValueError(f"must be one of: {', '.join(allowed)}")
        return value
    if ftype == "multienum":
        allowed = [o["value"] for o in field.get("options", [])]
        if not isinstance(value, list) or any(v not in allowed for v in value):
            raise ValueError(f"must be a list of: {', '.join(allowed)}")
        return list(dict.fromkeys(value))
    if ftype == "attachments":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("must be a list of attachment ids")
        return value
    raise ValueError(f"has an unknown type {ftype}")


def _bounded(field: dict[str, Any], value: float) -> Any:
    if "min" in field and value < field["min"]:
        raise ValueError(f"must be at least {field['min']:g}")
    if "max" in field and value > field["max"]:
        raise ValueError(f"must be at most {field['max']:g}")
    return value


def validate(form: list[dict[str, Any]], data: dict[str, Any] | None) -> dict[str, Any]:
    """Check submitted data against a form; return it with values in their stored types.

    Fields the form does not declare are refused, so a typo never lands in the
    instance data unnoticed. A task without a form accepts any JSON object.

    :raise ValidationError: listing every bad field.
    """
    data = dict(data or {})
    if not form:
        return data
    by_name = {f["name"]: f for f in form}
    bad: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name in data:
        if name not in by_name:
            bad[name] = "is not a field of this form"
    for name, field in by_name.items():
        value = data.get(name)
        if field.get("readonly") and name in data:
            bad[name] = "is read-only"
            continue
        if _empty(value):
            if field.get("required") and not field.get("readonly"):
                bad[name] = "is required"
            elif name in data:
                clean[name] = None if value != [] else []
            continue
        try:
            clean[name] = _coerce(field, value)
        except ValueError as exc:
            bad[name] = str(exc)
    if bad:
        raise ValidationError(bad)
    return clean
