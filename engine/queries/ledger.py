"""The ledger (台账): every tracked item with the columns the documents name.

Rows come from the ``items`` projection joined to the organisation and people
tables for names; filtered, sorted and paged in SQL. The same filters drive
the screen (:func:`ledger`) and the Excel export (:func:`iter_rows`, which
streams). Filters:

- ``org``: the organisation whose subtree is listed (default: the one the
  person sees from the top); ``unit``: one unit of it (see
  :mod:`engine.queries.units`: the item's responsible unit, else its
  organisation);
- ``kind`` (problem, matter, petition), ``state`` (one state, several, or
  ``open``: neither closed nor cancelled), ``light`` (green, yellow, red,
  ``none``), ``source``, ``category``;
- ``due_month`` / ``created_month`` ("2026-09"; creation is taken in the
  engine's zone);
- ``search``: text in the title or the number.

Sort keys: ``number``, ``created``, ``due``, ``state``, ``light`` (by severity),
``title``, ``closed``, ``returns``, ``unit``; a leading ``-`` sorts descending.
Ties are broken by creation order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any, Iterator, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine.errors import ValidationError
from engine.models import Item, Organisation, Person, ProcessInstance
from engine.queries import units
from engine.views import LedgerPage, LedgerRow

MAX_PAGE = 500
#: the most rows one Excel export may hold; narrow the filters beyond it
MAX_EXPORT_ROWS = 100_000
LIGHTS = ("green", "yellow", "red", "none")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class LedgerFilter:
    org: str | None = None
    unit: str | None = None
    kind: str | None = None
    state: str | Sequence[str] | None = None
    light: str | None = None
    source: str | None = None
    category: str | None = None
    due_month: str | None = None
    created_month: str | None = None
    search: str | None = None
    sort: str = "-created"


def make_filter(**filters: Any) -> LedgerFilter:
    """A :class:`LedgerFilter` from keyword arguments (None values are left out).

    :raise ValidationError: an unknown filter name.
    """
    known = set(LedgerFilter.__dataclass_fields__)
    unknown = {name: "is not a ledger filter" for name in filters if name not in known}
    if unknown:
        raise ValidationError(unknown)
    return LedgerFilter(**{k: v for k, v in filters.items() if v is not None})


def month_range(text: str, field: str) -> tuple[date, date]:
    """First day of a "YYYY-MM" month and first day of the next."""
    found = MONTH.match(text or "")
    if not found:
        raise ValidationError({field: "must be a month like 2026-09"})
    year, month = int(found.group(1)), int(found.group(2))
    return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)


def _local_start(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(timezone.utc)


_OWNER = aliased(Organisation, name="owner_org")
_UNIT = aliased(Organisation, name="unit_org")
_PERSON = aliased(Person, name="responsible_people")
_LEADER = aliased(Person, name="lead_leaders")
_COLUMNS = (Item.id, Item.instance_id, ProcessInstance.process_key, Item.kind, Item.number,
            Item.title, Item.source, Item.category, _OWNER.code, _OWNER.name,
            Item.responsible_unit, _UNIT.name, Item.responsible_person, _PERSON.name,
            Item.lead_leader, _LEADER.name, Item.measures, Item.due_date, Item.state,
            Item.light, Item.returns, Item.created_at, Item.closed_at)
_SEVERITY = case((Item.light == "red", 3), (Item.light == "yellow", 2),
                 (Item.light == "green", 1), else_=0)
_SORTS: dict[str, Any] = {
    "number": Item.number, "created": Item.id, "due": Item.due_date, "state": Item.state,
    "light": _SEVERITY, "title": Item.title, "closed": Item.closed_at, "returns": Item.returns,
    "unit": _UNIT.name,
}


def _statement(session: Session, username: str, f: LedgerFilter, tz: str) -> Select[Any]:
    scope = units.resolve(session, username, f.org)
    query = (select(*_COLUMNS)
             .join(ProcessInstance, ProcessInstance.id == Item.instance_id)
             .join(_OWNER, _OWNER.id == Item.org_id)
             .outerjoin(_UNIT, _UNIT.code == Item.responsible_unit)
             .outerjoin(_PERSON, _PERSON.username == Item.responsible_person)
             .outerjoin(_LEADER, _LEADER.username == Item.lead_leader)
             .where(_OWNER.path.startswith(scope.org.path, autoescape=True)))
    if f.unit is not None:
        ids = scope.unit_ids(f.unit)
        outside = or_(_UNIT.id.is_(None), ~_UNIT.path.startswith(scope.org.path,
                                                                 autoescape=True))
        query = query.where(or_(_UNIT.id.in_(ids), and_(outside, Item.org_id.in_(ids))))
    for column, value in ((Item.kind, f.kind), (Item.source, f.source),
                          (Item.category, f.category)):
        if value is not None:
            query = query.where(column == value)
    if f.state == "open":
        query = query.where(Item.state.not_in(("closed", "cancelled")))
    elif isinstance(f.state, str):
        query = query.where(Item.state == f.state)
    elif f.state is not None:
        query = query.where(Item.state.in_(list(f.state)))
    if f.light is not None:
        if f.light not in LIGHTS:
            raise ValidationError({"light": f"must be one of {', '.join(LIGHTS)}"})
        query = query.where(Item.light.is_(None) if f.light == "none" else Item.light == f.light)
    if f.due_month is not None:
        first, following = month_range(f.due_month, "due_month")
        query = query.where(Item.due_date >= first, Item.due_date < following)
    if f.created_month is not None:
        first, following = month_range(f.created_month, "created_month")
        query = query.where(Item.created_at >= _local_start(first, tz),
                            Item.created_at < _local_start(following, tz))
    if f.search is not None and f.search.strip():
        text = f.search.strip()
        if len(text) > 100:
            raise ValidationError({"search": "at most 100 characters"})
        query = query.where(or_(Item.title.icontains(text, autoescape=True),
                                Item.number.icontains(text, autoescape=True)))
    return query


def _ordered(query: Select[Any], sort: str) -> Select[Any]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in _SORTS:
        raise ValidationError({"sort": f"must be one of {', '.join(_SORTS)} (- for descending)"})
    column = _SORTS[key]
    if key == "created":
        return query.order_by(Item.id.desc() if descending else Item.id)
    # empty values last either way; then creation order
    return query.order_by(column.is_(None), column.desc() if descending else column,
                          Item.id.desc() if descending else Item.id)


def _row(r: Any) -> LedgerRow:
    return LedgerRow(*r)


def ledger(session: Session, username: str, f: LedgerFilter, *, tz: str, limit: int = 100,
           offset: int = 0) -> LedgerPage:
    """One page of the ledger and the number of rows the filters match.

    :raise ValidationError: a bad filter, sort key or page.
    :raise NotFound: no such organisation, or *unit* is not a unit of it.
    :raise PermissionDenied: *username* may not see the organisation.
    """
    if not 0 < limit <= MAX_PAGE or offset < 0:
        raise ValidationError({"limit": f"must be between 1 and {MAX_PAGE}"})
    query = _statement(session, username, f, tz)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(_ordered(query, f.sort).limit(limit).offset(offset)).all()
    return LedgerPage(tuple(_row(r) for r in rows), int(total), limit, offset)


def count(session: Session, username: str, f: LedgerFilter, *, tz: str) -> int:
    query = _statement(session, username, f, tz)
    return int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())


def iter_rows(session: Session, username: str, f: LedgerFilter, *, tz: str,
              batch: int = 500) -> Iterator[LedgerRow]:
    """Every row the filters match, in order, fetched in batches (for the export).

    :raise ValidationError: more than ``MAX_EXPORT_ROWS`` rows match.
    """
    total = count(session, username, f, tz=tz)
    if total > MAX_EXPORT_ROWS:
        raise ValidationError({"filters": f"{total} rows match; an export holds at most "
                                          f"{MAX_EXPORT_ROWS}: narrow the filters"})
    query = _ordered(_statement(session, username, f, tz), f.sort)
    result = session.execute(query.execution_options(yield_per=batch))
    for r in result:
        yield _row(r)


__all__ = ["LedgerFilter", "make_filter", "ledger", "count", "iter_rows", "month_range", "MAX_PAGE",
           "MAX_EXPORT_ROWS"]
