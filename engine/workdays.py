"""Chinese working days (工作日): weekends, public holidays and 调休 make-up days.

A day is a working day when an official rule says so, otherwise when it is
Monday to Friday. Rules (:class:`DayRule`) are only the *exceptions* to the
Mon–Fri pattern: a holiday that falls on a weekday, or a make-up working day
(调休上班) that falls on a weekend. They come from the ``chinese_calendar``
package (:func:`official_rules`) or from the State Council notice an
administrator imports for a new year (:func:`parse_notice`).

Counting rules of :class:`WorkCalendar`:

* Every moment passed in must be timezone-aware (``ValueError`` otherwise);
  counting happens on local *dates* in the calendar's zone, never the server's.
* ``add_working_days(start, n)`` (n ≥ 1): the start's local date never counts,
  even if it is a working day. The due moment is the *end* of the n-th working
  day after it, i.e. local ``23:59:59`` (no microseconds) of that day,
  returned in UTC. A task is overdue when ``now > due``.
* ``working_days_before(due, n)``: the end (local ``23:59:59``) of the working
  day n working days before the due's local date (the due date itself does not
  count), for warning windows.
* ``working_days_between(a, b)``: the number of working days ``d`` with
  ``local(a) < d <= local(b)``; 0 when ``b <= a``. Used for "days overdue".
* A year is *official* when its holiday calendar is loaded; for other years
  only weekends are days off, so a due date reaching into such a year is
  marked ``provisional`` and should be recomputed once the notice is imported.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from types import ModuleType
from typing import Iterable

from engine.errors import ValidationError
from engine.timetext import zone_info

#: the largest ``days`` accepted; a longer limit is a typing mistake
MAX_DAYS = 1000
#: calendar days searched before giving up (10 years, far beyond MAX_DAYS)
MAX_SCAN_DAYS = 3660

END_OF_DAY = time(23, 59, 59)

# chinese_calendar names its holidays in English; the rules carry the Chinese name
_CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}

_OFF_WORDS = {"休", "放假", "off", "holiday"}
_WORK_WORDS = {"班", "上班", "work", "workday"}
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                  "Saturday", "Sunday")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
# commas (ASCII or full-width) and tabs separate the fields of a notice line
_FIELD_SEP = re.compile(r"\s*[,，\t]\s*")


@dataclass(frozen=True)
class DayRule:
    """One official exception to the Mon–Fri rule.

    :ivar workday: ``True`` for a make-up working day on a weekend (调休上班),
        ``False`` for a holiday on a weekday.
    :ivar name: e.g. ``"国庆节"`` or ``"春节调休"``; may be ``None``.
    """

    day: date
    workday: bool
    name: str | None = None


@dataclass(frozen=True)
class Deadline:
    """A due moment counted in working days.

    :ivar due: timezone-aware, UTC.
    :ivar provisional: ``True`` if any year from the start's year to the due's
        year (inclusive) has no official calendar loaded.
    """

    due: datetime
    provisional: bool


def _calendar_module() -> ModuleType:
    # imported late: only the seeding of official data needs the package
    import chinese_calendar

    return chinese_calendar


@lru_cache(maxsize=1)
def covered_years() -> range:
    """The years the installed ``chinese_calendar`` has data for.

    Found by asking the package about each year, so a newer release is picked
    up without a code change. An empty range if the package covers nothing.
    """
    cc = _calendar_module()
    found = []
    for year in range(1990, 2200):
        try:
            cc.is_workday(date(year, 6, 1))
        except NotImplementedError:
            continue
        found.append(year)
    if not found:
        return range(0)
    return range(found[0], found[-1] + 1)


def official_rules(year: int) -> list[DayRule]:
    """The exceptions to Mon–Fri of *year*, from ``chinese_calendar``, by date.

    Holidays on weekends (already days off) are left out.

    :raises LookupError: the package has no data for *year*.
    """
    if year not in covered_years():
        raise LookupError(f"chinese_calendar has no holiday data for {year}; "
                          "import the State Council notice for that year")
    cc = _calendar_module()
    rules: list[DayRule] = []
    day = date(year, 1, 1)
    while day.year == year:
        on_holiday, english = cc.get_holiday_detail(day)
        workday = not on_holiday
        if workday != _is_weekday(day):
            name = _CHINESE_NAMES.get(english, english) if english else None
            if workday and name:
                name += "调休"
            rules.append(DayRule(day, workday, name))
        day += timedelta(days=1)
    return rules


def parse_notice(text: str) -> list[DayRule]:
    """Read the days of a State Council holiday notice, sorted by date.

    One rule a line: ``date,kind[,name]`` with fields separated by commas or
    tabs, e.g. ``2027-01-01,休,元旦`` or ``2027-02-07,班,春节调休``. The kind
    is ``休``/``off``/``holiday`` or ``班``/``work``/``workday``. Text after
    ``#`` and blank lines are ignored.

    :raises ValidationError: ``{"line N": reason}`` for every bad line (bad
        date, unknown kind, a rule that changes nothing, a repeated date), or
        ``{"notice": ...}`` when there is no rule at all.
    """
    problems: dict[str, str] = {}
    seen: dict[date, int] = {}
    rules: list[DayRule] = []
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        key = f"line {number}"
        fields = _FIELD_SEP.split(line)
        if len(fields) not in (2, 3):
            problems[key] = f"expected 'date,kind[,name]', got {line!r}"
            continue
        day_text, kind_text = fields[0], fields[1]
        name = fields[2] if len(fields) == 3 and fields[2] else None
        try:
            if not _DATE_RE.fullmatch(day_text):
                raise ValueError
            day = date.fromisoformat(day_text)
        except ValueError:
            problems[key] = f"{day_text!r} is not a date like 2027-01-01"
            continue
        kind = kind_text.lower()
        if kind in _OFF_WORDS:
            workday = False
        elif kind in _WORK_WORDS:
            workday = True
        else:
            problems[key] = f"unknown kind {kind_text!r}: use 休/off or 班/work"
            continue
        weekday_name = _WEEKDAY_NAMES[day.weekday()]
        if workday and _is_weekday(day):
            problems[key] = f"{day} is a {weekday_name}, already a working day"
            continue
        if not workday and not _is_weekday(day):
            problems[key] = f"{day} is a {weekday_name}, already a day off"
            continue
        if day in seen:
            problems[key] = f"{day} is already given on line {seen[day]}"
            continue
        seen[day] = number
        rules.append(DayRule(day, workday, name))
    if problems:
        raise ValidationError(problems)
    if not rules:
        raise ValidationError({"notice": "contains no rules"})
    return sorted(rules, key=lambda r: r.day)


class WorkCalendar:
    """Counts working days in one time zone.

    :param rules: exceptions to Mon–Fri; the same day twice with different
        answers raises ``ValueError``.
    :param official_years: the years whose holiday calendar is complete.
    :param tz: IANA zone the dates are counted in; unknown → ``ValueError``.
    """

    def __init__(self, rules: Iterable[DayRule], official_years: Iterable[int],
                 tz: str = "Asia/Shanghai") -> None:
        self.tz = tz
        self._zone = zone_info(tz)
        self._rules: dict[date, DayRule] = {}
        for rule in rules:
            known = self._rules.get(rule.day)
            if known is not None and known.workday != rule.workday:
                raise ValueError(f"contradictory rules for {rule.day}")
            self._rules[rule.day] = rule
        self._official = frozenset(official_years)

    def is_workday(self, day: date) -> bool:
        """Whether *day* is a working day: its rule if any, else Mon–Fri."""
        rule = self._rules.get(day)
        return rule.workday if rule is not None else _is_weekday(day)

    def is_official(self, year: int) -> bool:
        """Whether the holiday calendar of *year* is loaded."""
        return year in self._official

    def rule_for(self, day: date) -> DayRule | None:
        """The rule of *day*, e.g. to show the holiday name; ``None`` if none."""
        return self._rules.get(day)

    def add_working_days(self, start: datetime, days: int) -> Deadline:
        """The end of the *days*-th working day after *start*'s local date.

        :raises ValueError: *start* is naive.
        :raises ValidationError: ``{"days": ...}`` when *days* < 1 or > 1000.
        """
        _check_days(days)
        first = self._local_date(start)
        last = self._step(first, days, forward=True)
        years = range(first.year, last.year + 1)
        provisional = any(not self.is_official(y) for y in years)
        return Deadline(self._end_of(last), provisional)

    def working_days_before(self, due: datetime, days: int) -> datetime:
        """The end of the working day *days* working days before *due*'s local date.

        :raises ValueError: *due* is naive.
        :raises ValidationError: ``{"days": ...}`` when *days* < 1 or > 1000.
        """
        _check_days(days)
        return self._end_of(self._step(self._local_date(due), days, forward=False))

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """The working days ``d`` with ``local(start) < d <= local(end)``; 0 if none.

        :raises ValueError: either moment is naive.
        """
        first, last = self._local_date(start), self._local_date(end)
        if last <= first:
            return 0
        # arithmetic instead of a loop: the span may be years long
        count = _weekdays_until(last) - _weekdays_until(first)
        for day, rule in self._rules.items():
            if first < day <= last and rule.workday != _is_weekday(day):
                count += 1 if rule.workday else -1
        return count

    def _local_date(self, moment: datetime) -> date:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{moment!r} has no time zone")
        return moment.astimezone(self._zone).date()

    def _end_of(self, day: date) -> datetime:
        return datetime.combine(day, END_OF_DAY, tzinfo=self._zone).astimezone(timezone.utc)

    def _step(self, origin: date, days: int, *, forward: bool) -> date:
        step = timedelta(days=1 if forward else -1)
        day, found = origin, 0
        for _ in range(MAX_SCAN_DAYS):
            day += step
            if self.is_workday(day):
                found += 1
                if found == days:
                    return day
        # only reachable when the rules mark nearly every day as a holiday
        raise ValidationError({"days": f"no {days} working days within {MAX_SCAN_DAYS} days "
                                       f"of {origin}; check the holiday rules"})


def _check_days(days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int):
        raise ValidationError({"days": "must be a whole number"})
    if days < 1:
        raise ValidationError({"days": "must be at least 1"})
    if days > MAX_DAYS:
        raise ValidationError({"days": f"must be at most {MAX_DAYS}"})


def _is_weekday(day: date) -> bool:
    return day.weekday() < 5


def _weekdays_until(day: date) -> int:
    """Mon–Fri days from an arbitrary Monday epoch up to and including *day*."""
    ordinal = day.toordinal()  # ordinal 1 (0001-01-01) is a Monday
    weeks, rest = divmod(ordinal - 1, 7)
    return weeks * 5 + min(rest + 1, 5)


__all__ = ["DayRule", "Deadline", "WorkCalendar", "official_rules", "covered_years",
           "parse_notice", "MAX_DAYS"]
