"""The working-day calendar in the database (节假日与调休).

Official years come from the ``chinese-calendar`` package, seeded the first
time a calendar is needed; an admin enters later years from the State
Council's notice. Until a year is loaded, deadlines in it count weekends only
and are marked provisional; loading the year recomputes them (see
:func:`engine.deadlines.recompute_provisional`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.errors import ValidationError
from engine.models import CalendarDay, CalendarYear
from engine.workdays import DayRule, WorkCalendar, covered_years, official_rules, parse_notice

if TYPE_CHECKING:
    from engine.db.command import CommandContext


def _stamp(ctx: "CommandContext") -> tuple[Any, ...]:
    return tuple(ctx.session.execute(select(
        func.count(CalendarYear.year), func.max(CalendarYear.loaded_at),
        select(func.count(CalendarDay.day)).scalar_subquery())).one())


def calendar(ctx: "CommandContext") -> WorkCalendar:
    """The calendar as the database holds it now (cached while unchanged)."""
    stamp = _stamp(ctx)
    if stamp[0] == 0:
        seed_official(ctx)
        stamp = _stamp(ctx)
    cached = getattr(ctx.engine, "_calendar", None)
    if cached is not None and cached[0] == stamp:
        return cached[1]  # type: ignore[no-any-return]
    rules = [DayRule(r.day, r.workday, r.name)
             for r in ctx.session.execute(select(CalendarDay)).scalars()]
    years = list(ctx.session.execute(select(CalendarYear.year)).scalars())
    cal = WorkCalendar(rules, years, ctx.engine.config.timezone)
    ctx.engine._calendar = (stamp, cal)
    return cal


#: (database, zone, stamp) → calendar, for queries, which have no command context
_STORED: dict[tuple[str, str], tuple[tuple[Any, ...], WorkCalendar]] = {}


def stored_calendar(session: Session, tz: str) -> WorkCalendar:
    """The calendar as the database holds it, for read-only queries.

    It never seeds (a database without official years counts weekends only) and
    is cached while the calendar tables are unchanged.
    """
    stamp = tuple(session.execute(select(
        func.count(CalendarYear.year), func.max(CalendarYear.loaded_at),
        select(func.count(CalendarDay.day)).scalar_subquery())).one())
    key = (str(session.get_bind().url), tz)
    cached = _STORED.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    rules = [DayRule(r.day, r.workday, r.name)
             for r in session.execute(select(CalendarDay)).scalars()]
    years = list(session.execute(select(CalendarYear.year)).scalars())
    cal = WorkCalendar(rules, years, tz)
    _STORED[key] = (stamp, cal)
    return cal


def seed_official(ctx: "CommandContext", *, by: str = "system") -> list[int]:
    """Load every year chinese-calendar covers that the database does not have yet."""
    have = set(ctx.session.execute(select(CalendarYear.year)).scalars())
    added = []
    for year in covered_years():
        if year in have:
            continue
        for rule in official_rules(year):
            ctx.session.add(CalendarDay(day=rule.day, workday=rule.workday, name=rule.name,
                                        year=year))
        ctx.session.add(CalendarYear(year=year, source="chinese-calendar", loaded_by=by,
                                     loaded_at=ctx.now))
        added.append(year)
    if added:
        ctx.session.flush()
        ctx.record("calendar.seeded", by=by, years=added)
    return added


def load_year(ctx: "CommandContext", year: int, notice: str, *, by: str) -> dict[str, Any]:
    """Enter one year's holidays and make-up working days (replacing what was there).

    :param notice: lines like ``2027-01-01,休,元旦`` and ``2027-02-07,班,春节调休``.
    :raise ValidationError: a bad line, or a day outside *year*.
    """
    if not 2000 <= year <= 2200:
        raise ValidationError({"year": "must be between 2000 and 2200"})
    rules = parse_notice(notice)
    outside = {str(r.day): "is not in " + str(year) for r in rules if r.day.year != year}
    if outside:
        raise ValidationError(outside)
    if not rules:
        raise ValidationError({"notice": "has no holidays or make-up working days"})
    ctx.session.execute(delete(CalendarDay).where(CalendarDay.year == year))
    for rule in rules:
        ctx.session.add(CalendarDay(day=rule.day, workday=rule.workday, name=rule.name, year=year))
    existing = ctx.session.get(CalendarYear, year)
    if existing is None:
        ctx.session.add(CalendarYear(year=year, source="notice", loaded_by=by, loaded_at=ctx.now))
    else:
        existing.source, existing.loaded_by, existing.loaded_at = "notice", by, ctx.now
    ctx.session.flush()
    ctx.record("calendar.loaded", by=by, year=year,
               holidays=[str(r.day) for r in rules if not r.workday],
               workdays=[str(r.day) for r in rules if r.workday])
    from engine.deadlines import recompute_provisional

    moved = recompute_provisional(ctx, by=by)
    return {"year": year, "rules": len(rules), "deadlines_moved": moved}
