"""Figures of the monthly circular (一月一通报), and reads of the stored circulars.

The definitions are in :mod:`engine.circulars`, which stores them; this module
computes from the items projection only (never a workflow) and reads the rows.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime, time, timedelta, timezone
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from engine import holidays
from engine.errors import NotFound, ValidationError
from engine.models import Circular, Item, Organisation
from engine.queries import units
from engine.queries.ledger import month_range
from engine.views import (
    CircularCounts, CircularSummaryView, CircularUnitRow, CircularView, OverdueItem, TrendPoint,
)
from engine.workdays import WorkCalendar

FORMAT = 1
TREND_MONTHS = 6
MAX_TREND_MONTHS = 24
MAX_OVERDUE_LISTED = 500
MAX_PAGE = 200


def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def _start(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), _zone(tz)).astimezone(timezone.utc)


def _end_of_day(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(23, 59, 59), _zone(tz)).astimezone(timezone.utc)


def shift(month: str, by: int) -> str:
    year, mon = int(month[:4]), int(month[5:])
    index = year * 12 + mon - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_of(moment: datetime, tz: str) -> str:
    return moment.astimezone(_zone(tz)).strftime("%Y-%m")


def previous_month(moment: datetime, tz: str) -> str:
    """The month before the one *moment* falls in (local), "2026-09"."""
    return shift(month_of(moment, tz), -1)


def _cutoff(month: str, now: datetime, tz: str) -> datetime:
    _first, following = month_range(month, "month")
    return min(_start(following, tz) - timedelta(microseconds=1), now)


def _fetch(session: Session, scope: units.Scope, first: date, last: date, window: datetime,
           cutoff: datetime) -> list[Any]:
    """Items that may count in any month from *first* to *last* (see the module doc)."""
    responsible = aliased(Organisation)
    return session.execute(
        select(Item.kind, Item.number, Item.title, Item.org_id,
               responsible.id.label("responsible_id"),
               Item.due_date, Item.closed_at, Item.created_at)
        .join(Organisation, Organisation.id == Item.org_id)
        .outerjoin(responsible, responsible.code == Item.responsible_unit)
        .where(Organisation.path.startswith(scope.org.path, autoescape=True),
               Item.state != "cancelled", Item.due_date <= last, Item.created_at <= cutoff,
               or_(Item.due_date >= first, Item.closed_at.is_(None), Item.closed_at >= window))
        .order_by(Item.due_date, Item.number)).all()


def _tally(rows: list[Any], month: str, cutoff: datetime, tz: str,
           key: Any) -> dict[Any, dict[str, int]]:
    """Counts of one month per key(row) (a unit, a kind, or one total)."""
    first, following = month_range(month, "month")
    zone = _zone(tz)
    out: dict[Any, dict[str, int]] = {}
    for r in rows:
        if r.created_at > cutoff or r.due_date >= following:
            continue
        closed = r.closed_at is not None and r.closed_at <= cutoff
        if r.due_date < first:
            if not closed:
                counts = out.setdefault(key(r), {})
                counts["carried_over"] = counts.get("carried_over", 0) + 1
            continue
        counts = out.setdefault(key(r), {})
        counts["due"] = counts.get("due", 0) + 1
        if closed:
            outcome = "on_time" if r.closed_at.astimezone(zone).date() <= r.due_date else "late"
        else:
            outcome = "overdue" if _end_of_day(r.due_date, tz) < cutoff else "pending"
        counts[outcome] = counts.get(outcome, 0) + 1
    return out


def _counts(raw: dict[str, int] | None) -> CircularCounts:
    raw = raw or {}
    due = raw.get("due", 0)
    judged = due - raw.get("pending", 0)
    rate = round(raw.get("on_time", 0) / judged, 4) if judged else None
    return CircularCounts(due, raw.get("on_time", 0), raw.get("late", 0), raw.get("overdue", 0),
                          raw.get("pending", 0), raw.get("carried_over", 0), rate)


def _ranked(unit_rows: list[tuple[Any, dict[str, int]]]) -> list[dict[str, Any]]:
    def judged(raw: dict[str, int]) -> int:
        return raw.get("due", 0) - raw.get("pending", 0)

    def rate(raw: dict[str, int]) -> Fraction:
        return Fraction(raw.get("on_time", 0), judged(raw))

    due = sorted((u for u in unit_rows if judged(u[1])),
                 key=lambda u: (-rate(u[1]), -u[1]["due"], u[0].code))
    idle = sorted((u for u in unit_rows if not judged(u[1])), key=lambda u: u[0].code)
    out, rank, previous = [], 0, None
    for position, (unit, raw) in enumerate(due, start=1):
        if rate(raw) != previous:
            rank, previous = position, rate(raw)
        out.append({"code": unit.code, "name": unit.name, "kind": unit.kind,
                    "counts": asdict(_counts(raw)), "rank": rank})
    out.extend({"code": u.code, "name": u.name, "kind": u.kind, "counts": asdict(_counts(raw)),
                "rank": None} for u, raw in idle)
    return out


def compute(session: Session, scope: units.Scope, month: str, *, now: datetime, tz: str,
            calendar: WorkCalendar, trend_months: int = TREND_MONTHS) -> dict[str, Any]:
    """The circular's figures as a JSON-ready body (what a :class:`Circular` stores)."""
    first, following = month_range(month, "month")
    cutoff = _cutoff(month, now, tz)
    earliest = shift(month, -(trend_months - 1))
    window_first, _ = month_range(earliest, "month")
    rows = _fetch(session, scope, window_first, following - timedelta(days=1),
                  _start(window_first, tz), cutoff)

    def unit_of(r: Any) -> Any:
        return units.unit_for(scope, r.org_id, r.responsible_id) or scope.org

    per_unit = _tally(rows, month, cutoff, tz, unit_of)
    overdue = []
    for r in rows:
        closed = r.closed_at is not None and r.closed_at <= cutoff
        if closed or r.created_at > cutoff or r.due_date >= following \
                or _end_of_day(r.due_date, tz) >= cutoff:
            continue
        unit = unit_of(r)
        overdue.append({"number": r.number, "title": r.title, "kind": r.kind,
                        "unit_code": unit.code, "unit_name": unit.name,
                        "due_date": r.due_date.isoformat(),
                        "overdue_working_days": calendar.working_days_between(
                            _end_of_day(r.due_date, tz), cutoff)})
    overdue.sort(key=lambda o: (-o["overdue_working_days"], o["number"]))
    trend = []
    for step in range(trend_months - 1, -1, -1):
        point = shift(month, -step)
        point_cutoff = _cutoff(point, now, tz)
        total = _tally(rows, point, point_cutoff, tz, lambda r: "all").get("all")
        trend.append({"month": point, "counts": asdict(_counts(total))})
    return {
        "format": FORMAT, "org": {"code": scope.org.code, "name": scope.org.name},
        "month": month, "as_of": cutoff.isoformat(),
        "units": _ranked([(u, per_unit.get(u, {})) for u in scope.units]),
        "totals": asdict(_counts(_tally(rows, month, cutoff, tz, lambda r: "all").get("all"))),
        "by_kind": {k: asdict(_counts(v)) for k, v in sorted(
            _tally(rows, month, cutoff, tz, lambda r: r.kind).items())},
        "overdue_items": overdue[:MAX_OVERDUE_LISTED],
        "trend": trend,
    }


def check_month(month: str, now: datetime, tz: str) -> None:
    first, _following = month_range(month, "month")
    if _start(first, tz) > now:
        raise ValidationError({"month": "has not begun yet"})


def view(row: Circular, org_code: str, org_name: str) -> CircularView:
    body = json.loads(row.body_json)
    return CircularView(
        id=row.id, org_code=org_code, org_name=org_name, month=row.month,
        generated_at=row.generated_at, generated_by=row.generated_by,
        as_of=datetime.fromisoformat(body["as_of"]),
        units=tuple(CircularUnitRow(u["code"], u["name"], u["kind"],
                                    CircularCounts(**u["counts"]), u["rank"])
                    for u in body["units"]),
        totals=CircularCounts(**body["totals"]),
        by_kind={k: CircularCounts(**v) for k, v in body["by_kind"].items()},
        overdue_items=tuple(OverdueItem(**{**o, "due_date": date.fromisoformat(o["due_date"])})
                            for o in body["overdue_items"]),
        trend=tuple(TrendPoint(t["month"], CircularCounts(**t["counts"])) for t in body["trend"]))


# -- reads of stored circulars ------------------------------------------------------

def list_circulars(session: Session, username: str, *, org: str | None = None,
                   month: str | None = None, limit: int = 50,
                   offset: int = 0) -> list[CircularSummaryView]:
    """Stored circulars of *org* and the organisations under it, newest month first."""
    if not 0 < limit <= MAX_PAGE or offset < 0:
        raise ValidationError({"limit": f"must be between 1 and {MAX_PAGE}"})
    scope = units.resolve(session, username, org)
    query = (select(Circular.id, Organisation.code, Organisation.name, Circular.month,
                    Circular.generated_at, Circular.generated_by)
             .join(Organisation, Organisation.id == Circular.org_id)
             .where(Organisation.path.startswith(scope.org.path, autoescape=True)))
    if month is not None:
        month_range(month, "month")
        query = query.where(Circular.month == month)
    rows = session.execute(query.order_by(Circular.month.desc(), Circular.id.desc())
                           .limit(limit).offset(offset)).all()
    return [CircularSummaryView(*r) for r in rows]


def get_circular(session: Session, circular_id: int, *, username: str) -> CircularView:
    """:raise NotFound: no such circular, or one *username* may not see."""
    found = session.execute(select(Circular, Organisation.code, Organisation.name,
                                   Organisation.path)
                            .join(Organisation, Organisation.id == Circular.org_id)
                            .where(Circular.id == circular_id)).first()
    if found is None or not units.may_see(session, username, found[3]):
        raise NotFound(f"no circular {circular_id}")
    return view(found[0], found[1], found[2])


def trend(session: Session, username: str, *, org: str | None = None, months: int = 12,
          until: str | None = None, now: datetime, tz: str) -> tuple[TrendPoint, ...]:
    """Totals per month for charts, computed now (not stored), ending with *until*
    (default: the month in progress, counted so far)."""
    if not 1 <= months <= MAX_TREND_MONTHS:
        raise ValidationError({"months": f"must be between 1 and {MAX_TREND_MONTHS}"})
    until = until or month_of(now, tz)
    check_month(until, now, tz)
    scope = units.resolve(session, username, org)
    body = compute(session, scope, until, now=now, tz=tz,
                   calendar=holidays.stored_calendar(session, tz), trend_months=months)
    return tuple(TrendPoint(t["month"], CircularCounts(**t["counts"])) for t in body["trend"])


__all__ = ["compute", "view", "list_circulars", "get_circular", "trend", "month_of",
           "previous_month", "shift", "check_month", "TREND_MONTHS", "MAX_TREND_MONTHS"]
