"""Timer and duration text (计时文本): ISO 8601 as process designers write it.

Accepted forms, with surrounding whitespace and quotes (``'…'``, ``"…"``,
``“…”``) ignored:

* durations ``PT5M``, ``P3D``, ``P1M``, ``P1Y2M``, ``P2W``, ``PT1.5H`` — a
  decimal fraction only in the last unit, and only in hours, minutes or
  seconds; weeks never combine with other units; 0 < duration ≤ 100 years;
* dates ``2026-12-01T09:00:00+08:00`` (or ``Z``), ``2026-12-01T09:00`` (no
  offset: the configured zone, never the server's) and ``2026-12-01`` (local
  midnight);
* cycles ``R3/PT1H``, ``R/P1M`` (forever), ``R5/2026-12-01T09:00+08:00/P1D``.

Adding a duration (:meth:`Duration.add_to`) works in the local zone: years,
months, weeks and days move the wall-clock date (``P1M`` from Jan 31 gives the
last day of February; ``P1D`` across a DST change keeps the time of day),
then hours, minutes and seconds are added as elapsed time.

Catch-up rule of cycles (:meth:`TimerSpec.next_due`): when the process was down
and several occurrences passed, the timer fires *once* for all of them; the
next due time is the first occurrence strictly after *now*. Skipped
occurrences are reported but are not firings, so ``R3`` still fires at most 3
times. A cycle with an explicit start counts every occurrence from that start
(so ``P1M`` from Jan 31 gives Feb 28, then Mar 31); a cycle without one counts
each occurrence from the previous one.
"""
from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Callable, Iterator, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_YEARS = 100
_T = TypeVar("_T")
# a cycle behind by more occurrences than this is a bug, not an outage
MAX_CATCH_UP = 100_000

_QUOTES = {"'": "'", '"': '"', "“": "”", "‘": "’"}
_TOKEN = re.compile(r"(\d+(?:[.,]\d+)?)([A-Za-z])")
_DATE_UNITS, _TIME_UNITS = "YMWD", "HMS"
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}([.,]\d{1,6})?)?"
                        r"(Z|[+-]\d{2}(:?\d{2})?)?")
_WEEK_DATE = re.compile(r"\d{4}-?W\d")
_LOOKS_ISO = re.compile(r"-?P(T?\d|T?$)|R\d*/(-?P|\d{4}-)|\d{4}-(\d{2}-\d{2}|W\d)")


class TimeTextError(ValueError):
    """Timer or duration text was refused; the message says what is wrong."""


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration; the date units are whole numbers."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: float = 0
    minutes: float = 0
    seconds: float = 0

    def add_to(self, moment: datetime, tz: str) -> datetime:
        """*moment* plus this duration, counted in zone *tz*; aware UTC.

        :raises ValueError: *moment* is naive or *tz* is unknown.
        """
        zone = zone_info(tz)
        _require_aware(moment)
        result = moment
        if self.years or self.months or self.weeks or self.days:
            wall = moment.astimezone(zone).replace(tzinfo=None)
            if self.years or self.months:
                index = wall.year * 12 + wall.month - 1 + self.years * 12 + self.months
                year, month = divmod(index, 12)
                month += 1
                # clamp to the month end: Jan 31 + P1M is Feb 28/29
                wall = wall.replace(year=year, month=month,
                                    day=min(wall.day, monthrange(year, month)[1]))
            wall += timedelta(days=self.weeks * 7 + self.days)
            result = wall.replace(tzinfo=zone)
        return result.astimezone(timezone.utc) + self._elapsed()

    def is_zero(self) -> bool:
        """Whether every unit is zero."""
        return not any((self.years, self.months, self.weeks, self.days,
                        self.hours, self.minutes, self.seconds))

    def _elapsed(self) -> timedelta:
        return timedelta(hours=self.hours, minutes=self.minutes, seconds=self.seconds)

    def _approx_days(self) -> float:
        return (self.years * 365.25 + self.months * 30.44 + self.weeks * 7 + self.days
                + self._elapsed().total_seconds() / 86400)

    def _times(self, n: int) -> Duration:
        return Duration(self.years * n, self.months * n, self.weeks * n, self.days * n,
                        self.hours * n, self.minutes * n, self.seconds * n)

    def __str__(self) -> str:
        date_part = "".join(f"{_number(v)}{u}" for v, u in (
            (self.years, "Y"), (self.months, "M"), (self.weeks, "W"), (self.days, "D")) if v)
        time_part = "".join(f"{_number(v)}{u}" for v, u in (
            (self.hours, "H"), (self.minutes, "M"), (self.seconds, "S")) if v)
        if not date_part and not time_part:
            return "PT0S"
        return "P" + date_part + ("T" + time_part if time_part else "")


@dataclass(frozen=True)
class TimerSpec:
    """A parsed BPMN timer.

    :ivar kind: ``"date"``, ``"duration"`` or ``"cycle"``.
    :ivar at: date: the UTC moment; cycle: the explicit start (UTC) or ``None``.
    :ivar duration: the duration, or the cycle's period.
    :ivar repeat: cycle: number of firings, ``None`` = forever.
    """

    kind: str
    at: datetime | None = None
    duration: Duration | None = None
    repeat: int | None = None

    def first_due(self, now: datetime, tz: str) -> datetime | None:
        """When the timer first fires, in UTC: date → ``at``; duration →
        now + duration; cycle → its start, else now + period.

        :raises ValueError: *now* is naive.
        """
        _require_aware(now)
        if self.at is not None:
            return self.at
        if self.duration is None:
            return None
        return self.duration.add_to(now, tz)

    def next_due(self, previous_due: datetime, now: datetime, fired: int,
                 tz: str) -> tuple[datetime | None, int]:
        """The next due time after the *fired*-th firing (1-based), which was
        due at *previous_due*, and how many occurrences up to *now* were
        skipped (see the catch-up rule in the module docstring).

        Returns ``(None, skipped)`` when no firing is left; dates and durations
        fire once, so they always return ``(None, 0)``.

        :raises ValueError: a moment is naive, or *fired* < 1.
        """
        _require_aware(previous_due)
        _require_aware(now)
        if fired < 1:
            raise ValueError("fired counts the firings so far and starts at 1")
        if self.kind != "cycle" or self.duration is None:
            return None, 0
        period = self.duration
        skipped = 0
        upcoming = None
        if not (period.years or period.months or period.weeks or period.days):
            # a fixed step: jump over the missed occurrences instead of walking them
            step = period._elapsed()
            skipped = max(0, (now - previous_due) // step)
            upcoming = previous_due + (skipped + 1) * step
        else:
            for occurrence in self._calendar_occurrences(previous_due, tz):
                if occurrence > now:
                    upcoming = occurrence
                    break
                skipped += 1
        if self.repeat is not None and fired >= self.repeat:
            return None, skipped
        return upcoming, skipped

    def _calendar_occurrences(self, previous: datetime, tz: str) -> Iterator[datetime]:
        """Occurrences strictly after *previous* of a period with date units."""
        period = self.duration
        assert period is not None
        anchor = self.at
        current = previous
        for k in range(1, MAX_CATCH_UP):
            if anchor is not None:
                # counted from the start, so month-end clamping does not drift
                occurrence = period._times(k).add_to(anchor, tz)
                if occurrence <= previous:
                    continue
            else:
                occurrence = current = period.add_to(current, tz)
            yield occurrence
        raise ValueError(f"timer is more than {MAX_CATCH_UP} occurrences behind")


def parse_duration(text: str) -> Duration:
    """Read an ISO 8601 duration such as ``PT5M``, ``P1Y2M`` or ``P2W``.

    :raises TimeTextError: the text is not a duration, is zero or negative,
        mixes weeks with other units, has a fraction anywhere but the last
        time unit, or is longer than 100 years.
    """
    clean = _clean(text)
    if not clean:
        raise TimeTextError("duration text is empty")
    if clean[0] in "-+" or "-" in clean:
        raise TimeTextError(f"{clean!r}: a duration must be longer than zero "
                            "(negative amounts are not allowed)")
    if clean[0] == "p" or (clean[0] == "P" and clean != clean.upper()):
        raise TimeTextError(f"{clean!r}: ISO 8601 letters are upper case, "
                            f"write {clean.upper()!r}")
    if clean[0] != "P":
        raise TimeTextError(f"{clean!r} is not an ISO 8601 duration "
                            "(it starts with 'P', e.g. 'P3D' or 'PT5M')")
    date_text, has_t, time_text = clean[1:].partition("T")
    if not date_text and not has_t:
        raise TimeTextError("'P' alone is not a duration: give an amount, e.g. 'P3D' or 'PT5M'")
    if has_t and not time_text:
        raise TimeTextError(f"{clean!r} has nothing after 'T': give hours, minutes "
                            "or seconds, e.g. 'PT5M'")
    tokens = (_tokens(clean, date_text, _DATE_UNITS, "T")
              + _tokens(clean, time_text, _TIME_UNITS, ""))
    values: dict[str, float] = {}
    for index, (amount, unit, in_time) in enumerate(tokens):
        fraction = "." in amount or "," in amount
        if fraction and not in_time:
            raise TimeTextError(f"{clean!r}: years, months, weeks and days must be whole "
                                "numbers (write e.g. 'P1DT12H' instead of 'P1.5D')")
        if fraction and index != len(tokens) - 1:
            raise TimeTextError(f"{clean!r}: only the last unit may have a fraction")
        field = {"Y": "years", "W": "weeks", "D": "days", "H": "hours", "S": "seconds",
                 "M": "minutes" if in_time else "months"}[unit]
        values[field] = float(amount.replace(",", ".")) if fraction else int(amount)
    if "weeks" in values and len(values) > 1:
        raise TimeTextError(f"{clean!r}: weeks cannot be combined with other units "
                            "(write the weeks as days, e.g. 'P1W2D' as 'P9D')")
    duration = Duration(**values)  # type: ignore[arg-type]
    if duration.is_zero():
        raise TimeTextError(f"{clean!r}: a duration must be longer than zero")
    if duration._approx_days() > MAX_YEARS * 365.25:
        raise TimeTextError(f"{clean!r} is longer than {MAX_YEARS} years")
    return duration


def parse_timer(text: str, tz: str = "Asia/Shanghai") -> TimerSpec:
    """Read a timer: a date, a duration or a cycle (see the module docstring).

    A date without an offset is read in zone *tz*.

    :raises TimeTextError: the text is not an accepted timer.
    :raises ValueError: *tz* is unknown.
    """
    zone = zone_info(tz)
    clean = _clean(text)
    if not clean:
        raise TimeTextError("timer text is empty")
    if clean[0] in "Rr":
        return _parse_cycle(clean, zone)
    if clean[0] in "Pp-+":
        return TimerSpec("duration", duration=parse_duration(clean))
    if clean[0].isdigit():
        return TimerSpec("date", at=_parse_moment(clean, zone))
    raise TimeTextError(f"{clean!r} is not an ISO 8601 date, duration or cycle "
                        "(e.g. '2026-12-01T09:00', 'P3D' or 'R3/PT1H')")


def looks_like_iso(text: str) -> bool:
    """Whether *text* is meant as ISO 8601 rather than as an expression.

    True for text starting like a duration (``P3D``, ``PT5M``, also ``P``,
    ``PT`` and ``-P1D`` so that they get a clear refusal), a cycle (``R3/P…``,
    ``R/2026-…``) or a calendar date (``2026-12-01…``, ``2026-W10``). Letters
    must be upper case: ``pt5m`` or ``R/2`` are read as expressions.
    """
    return bool(_LOOKS_ISO.match(_clean(text)))


def _parse_cycle(clean: str, zone: ZoneInfo) -> TimerSpec:
    parts = clean.split("/")
    head = re.fullmatch(r"R(\d*)", parts[0])
    if head is None and parts[0][:1] == "r":
        raise TimeTextError(f"{clean!r}: ISO 8601 letters are upper case, "
                            f"write {clean.upper()!r}")
    if head is None:
        raise TimeTextError(f"{clean!r} is not an ISO 8601 cycle: it starts with 'R' "
                            "or 'Rn', e.g. 'R3/PT1H'")
    repeat = int(head.group(1)) if head.group(1) else None
    if repeat == 0:
        raise TimeTextError(f"{clean!r}: R0 repeats nothing; write R1 or more, or R "
                            "alone to repeat forever")
    if len(parts) == 1 or not parts[-1]:
        raise TimeTextError(f"{clean!r}: a cycle needs a period, e.g. 'R3/PT1H'")
    if len(parts) > 3:
        raise TimeTextError(f"{clean!r}: a cycle is written R[n]/[start/]period")
    start = None
    if len(parts) == 3:
        if parts[1][:1] in "Pp":
            raise TimeTextError(f"{clean!r}: period/end cycles are not supported; "
                                "write R[n]/start/period")
        start = _within(clean, lambda: _parse_moment(parts[1], zone))
    if parts[-1][:1].isdigit():
        raise TimeTextError(f"{clean!r}: a cycle needs a period after the start, "
                            "e.g. 'R5/2026-12-01T09:00/P1D' (start/end is not supported)")
    period = _within(clean, lambda: parse_duration(parts[-1]))
    return TimerSpec("cycle", at=start, duration=period, repeat=repeat)


def _parse_moment(text: str, zone: ZoneInfo) -> datetime:
    if _WEEK_DATE.match(text):
        raise TimeTextError(f"{text!r}: week dates are not supported; write the "
                            "calendar date, e.g. '2026-03-02'")
    if not (_DATE_ONLY.fullmatch(text) or _DATE_TIME.fullmatch(text)):
        raise TimeTextError(f"{text!r} is not an ISO 8601 date such as '2026-12-01', "
                            "'2026-12-01T09:00' or '2026-12-01T09:00:00+08:00'")
    try:
        moment = datetime.fromisoformat(text.replace(",", "."))
    except ValueError as exc:
        raise TimeTextError(f"{text!r} is not a valid date: {exc}") from None
    if moment.tzinfo is None:
        # no offset written: the configured zone, never the server's
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(timezone.utc)


def _tokens(whole: str, part: str, units: str, other_side: str) -> list[tuple[str, str, bool]]:
    """Split one side of 'T' into (amount, unit, is_time) in ISO order."""
    in_time = units == _TIME_UNITS
    found: list[tuple[str, str, bool]] = []
    position, last = 0, -1
    while position < len(part):
        match = _TOKEN.match(part, position)
        if match is None:
            raise TimeTextError(f"{whole!r} is not an ISO 8601 duration "
                                "(every amount needs a unit letter, e.g. 'PT5M')")
        amount, unit = match.groups()
        if unit not in units:
            if not in_time and unit in "HS":
                hint = f"hours, minutes and seconds go after 'T', e.g. 'PT{amount}{unit}'"
            elif in_time and unit in "YWD":
                hint = "years, weeks and days go before 'T', e.g. 'P1DT2H'"
            else:
                hint = f"unknown unit {unit!r}"
            raise TimeTextError(f"{whole!r} is not an ISO 8601 duration ({hint})")
        rank = units.index(unit)
        if rank <= last:
            raise TimeTextError(f"{whole!r} is not an ISO 8601 duration (units repeated or "
                                "out of order; the order is Y M W D T H M S)")
        last = rank
        found.append((amount, unit, in_time))
        position = match.end()
    return found


def _within(whole: str, parse: Callable[[], _T]) -> _T:
    try:
        return parse()
    except TimeTextError as exc:
        raise TimeTextError(f"in {whole!r}: {exc}") from None


def _clean(text: str) -> str:
    if not isinstance(text, str):
        raise TimeTextError(f"timer text must be a string, not {type(text).__name__}")
    clean = text.strip()
    if len(clean) >= 2 and _QUOTES.get(clean[0]) == clean[-1]:
        clean = clean[1:-1].strip()
    return clean


def _number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone")


@lru_cache(maxsize=32)
def zone_info(tz: str) -> ZoneInfo:
    """The IANA zone named *tz* (cached); ValueError if there is none."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc


__all__ = ["TimeTextError", "Duration", "TimerSpec", "parse_duration", "parse_timer",
           "looks_like_iso", "zone_info", "MAX_YEARS"]
