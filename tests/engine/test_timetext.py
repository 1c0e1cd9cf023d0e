"""Timer and duration text: accepted forms, zones, refusals and the catch-up rule."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from engine.timetext import (Duration, TimerSpec, TimeTextError, looks_like_iso,
                             parse_duration, parse_timer)

SH = "Asia/Shanghai"
SHANGHAI = ZoneInfo(SH)
UTC = timezone.utc


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


# --- durations ------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("PT5M", Duration(minutes=5)),
    ("P3D", Duration(days=3)),
    ("P1M", Duration(months=1)),
    ("P1Y2M", Duration(years=1, months=2)),
    ("PT1.5H", Duration(hours=1.5)),
    ("PT1,5H", Duration(hours=1.5)),
    ("P2W", Duration(weeks=2)),
    ("P1DT2H30M", Duration(days=1, hours=2, minutes=30)),
    ("PT0.5S", Duration(seconds=0.5)),
    ("P1Y2M3DT4H5M6S", Duration(1, 2, 0, 3, 4, 5, 6)),
    ("  'PT5M' ", Duration(minutes=5)),
    ('"PT5M"', Duration(minutes=5)),
    ("“P3D”", Duration(days=3)),
    ("P100Y", Duration(years=100)),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["PT5M", "P3D", "P1M", "P1Y2M", "PT1.5H", "P2W",
                                  "P1DT2H30M", "PT0.5S", "P1Y2M3DT4H5M6S"])
def test_duration_round_trips_to_text(text):
    assert str(parse_duration(text)) == text


def test_is_zero_and_zero_text():
    assert Duration().is_zero() and str(Duration()) == "PT0S"
    assert not Duration(seconds=0.5).is_zero()


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("   ", "empty"),
    ("''", "empty"),
    ("P", "'P' alone is not a duration"),
    ("PT", "'PT' has nothing after 'T'"),
    ("P1DT", "nothing after 'T'"),
    ("PT5X", "'PT5X' is not an ISO 8601 duration (unknown unit 'X')"),
    ("P5X", "unknown unit 'X'"),
    ("P5H", "hours, minutes and seconds go after 'T', e.g. 'PT5H'"),
    ("PT2D", "years, weeks and days go before 'T'"),
    ("P1W2D", "weeks cannot be combined with other units"),
    ("P1WT2H", "weeks cannot be combined"),
    ("P0D", "must be longer than zero"),
    ("PT0S", "must be longer than zero"),
    ("P0Y0M", "must be longer than zero"),
    ("-P1D", "must be longer than zero"),
    ("P-1D", "must be longer than zero"),
    ("PT1.5H30M", "only the last unit may have a fraction"),
    ("P1.5D", "must be whole numbers"),
    ("P101Y", "longer than 100 years"),
    ("PT1000000H", "longer than 100 years"),
    ("P1D1Y", "out of order"),
    ("P1D2D", "repeated"),
    ("PT5", "every amount needs a unit letter"),
    ("PT 5M", "not an ISO 8601 duration"),
    ("pt5m", "upper case, write 'PT5M'"),
    ("PT5m", "upper case"),
    ("5M", "starts with 'P'"),
])
def test_parse_duration_refusals(text, message):
    with pytest.raises(TimeTextError) as info:
        parse_duration(text)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


# --- adding durations ------------------------------------------------------------------

@pytest.mark.parametrize("start, text, expected", [
    (local(2026, 1, 31, 9, 0), "P1M", local(2026, 2, 28, 9, 0)),
    (local(2028, 1, 31, 9, 0), "P1M", local(2028, 2, 29, 9, 0)),
    (local(2026, 3, 31, 9, 0), "P1M", local(2026, 4, 30, 9, 0)),
    (local(2028, 2, 29, 9, 0), "P1Y", local(2029, 2, 28, 9, 0)),
    (local(2027, 1, 31, 9, 0), "P1Y1M", local(2028, 2, 29, 9, 0)),
    (local(2026, 11, 30, 9, 0), "P3M", local(2027, 2, 28, 9, 0)),
    (local(2026, 9, 30, 10, 0), "P3D", local(2026, 10, 3, 10, 0)),
    (local(2026, 9, 30, 10, 0), "P2W", local(2026, 10, 14, 10, 0)),
    (local(2026, 9, 30, 23, 0), "PT1.5H", local(2026, 10, 1, 0, 30)),
    (local(2026, 1, 31, 23, 0), "P1MT2H", local(2026, 3, 1, 1, 0)),
])
def test_add_to_clamps_to_month_end(start, text, expected):
    due = parse_duration(text).add_to(start, SH)
    assert due == expected
    assert due.tzinfo is UTC


def test_month_arithmetic_uses_the_local_date():
    # 2026-01-31T20:00Z is already Feb 1 in Shanghai, so P1M gives Mar 1 local
    due = Duration(months=1).add_to(datetime(2026, 1, 31, 20, 0, tzinfo=UTC), SH)
    assert due == local(2026, 3, 1, 4, 0)
    # in UTC the same moment is Jan 31 and clamps to Feb 28
    assert Duration(months=1).add_to(datetime(2026, 1, 31, 20, 0, tzinfo=UTC), "UTC") \
        == datetime(2026, 2, 28, 20, 0, tzinfo=UTC)


def test_p1d_across_summer_time_keeps_the_wall_clock():
    berlin = ZoneInfo("Europe/Berlin")
    before = datetime(2026, 3, 28, 9, 0, tzinfo=berlin)  # CET, +01; the switch is Mar 29
    assert parse_duration("P1D").add_to(before, "Europe/Berlin") \
        == datetime(2026, 3, 29, 9, 0, tzinfo=berlin) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    # PT24H is elapsed time, so the wall clock moves on by the lost hour
    assert parse_duration("PT24H").add_to(before, "Europe/Berlin") \
        == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)


def test_add_to_refuses_naive_moments_and_unknown_zones():
    with pytest.raises(ValueError, match="no time zone"):
        Duration(days=1).add_to(datetime(2026, 1, 1), SH)
    with pytest.raises(ValueError, match="unknown time zone"):
        Duration(days=1).add_to(local(2026, 1, 1), "Nowhere/Town")


# --- timers ------------------------------------------------------------------------------

def test_date_timers_and_the_zone_rule():
    with_offset = parse_timer("2026-12-01T09:00:00+08:00")
    assert with_offset == TimerSpec("date", at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    # no offset: the configured zone, never the server's
    assert parse_timer("2026-12-01T09:00", SH).at == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert parse_timer("2026-12-01T09:00", "UTC").at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert parse_timer("2026-12-01T09:00:00Z", SH).at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    # date only: local midnight
    assert parse_timer("2026-12-01", SH).at == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert parse_timer("2026-12-01", "UTC").at == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert parse_timer("'2026-12-01 09:00'", SH).at == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    now = local(2026, 11, 1, 8, 0)
    assert with_offset.first_due(now, SH) == with_offset.at
    assert with_offset.next_due(with_offset.at, now, 1, SH) == (None, 0)


def test_duration_timer():
    spec = parse_timer("P3D")
    assert spec == TimerSpec("duration", duration=Duration(days=3))
    assert spec.first_due(local(2026, 9, 30, 10, 0), SH) == local(2026, 10, 3, 10, 0)
    assert spec.next_due(local(2026, 10, 3, 10, 0), local(2026, 10, 3, 10, 0), 1, SH) == (None, 0)
    with pytest.raises(ValueError):
        spec.first_due(datetime(2026, 9, 30, 10, 0), SH)


@pytest.mark.parametrize("text, at, period, repeat", [
    ("R3/PT1H", None, Duration(hours=1), 3),
    ("R/P1M", None, Duration(months=1), None),
    ("R5/2026-12-01T09:00:00+08:00/P1D", datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
     Duration(days=1), 5),
    ("R/2026-01-01T00:00+08:00/P1M", datetime(2025, 12, 31, 16, 0, tzinfo=UTC),
     Duration(months=1), None),
    ("R2/2026-12-01/PT12H", datetime(2026, 11, 30, 16, 0, tzinfo=UTC), Duration(hours=12), 2),
])
def test_cycle_timers(text, at, period, repeat):
    assert parse_timer(text, SH) == TimerSpec("cycle", at=at, duration=period, repeat=repeat)


def test_cycle_first_due():
    now = local(2026, 11, 20, 9, 0)
    assert parse_timer("R3/PT1H").first_due(now, SH) == local(2026, 11, 20, 10, 0)
    assert parse_timer("R5/2026-12-01T09:00:00+08:00/P1D").first_due(now, SH) \
        == local(2026, 12, 1, 9, 0)


def test_cycle_with_start_runs_out_after_its_repetitions():
    spec = parse_timer("R5/2026-12-01T09:00:00+08:00/P1D")
    due, fired = spec.first_due(local(2026, 11, 20), SH), 0
    seen = []
    while due is not None:
        seen.append(due)
        fired += 1
        due, skipped = spec.next_due(due, due, fired, SH)
        assert skipped == 0
    assert seen == [local(2026, 12, d, 9, 0) for d in range(1, 6)]


@pytest.mark.parametrize("text, message", [
    ("R0/PT1H", "R0 repeats nothing"),
    ("R3", "a cycle needs a period"),
    ("R", "a cycle needs a period"),
    ("R3/", "a cycle needs a period"),
    ("R/2026-01-01T00:00+08:00", "a cycle needs a period after the start"),
    ("R/2026-01-01/2026-02-01", "start/end is not supported"),
    ("R/P1D/2026-02-01", "period/end cycles are not supported"),
    ("R3/PT1H/P1D/P2D", "R[n]/[start/]period"),
    ("R3/PT5X", "'PT5X' is not an ISO 8601 duration"),
    ("R3/PT0S", "must be longer than zero"),
    ("R3/2026-13-01/P1D", "not a valid date"),
    ("Rx/PT1H", "is not an ISO 8601 cycle"),
    ("r3/pt1h", "write 'R3/PT1H'"),
    ("2026-W10-1", "week dates are not supported"),
    ("2026-02-30", "not a valid date"),
    ("20261201", "not an ISO 8601 date"),
    ("2026-12-01T9:00", "not an ISO 8601 date"),
    ("tomorrow", "not an ISO 8601 date, duration or cycle"),
    ("", "timer text is empty"),
])
def test_parse_timer_refusals(text, message):
    with pytest.raises(TimeTextError) as info:
        parse_timer(text, SH)
    assert message in str(info.value)


def test_parse_timer_unknown_zone():
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_timer("PT5M", "Nowhere/Town")


# --- the catch-up rule ----------------------------------------------------------------

def test_catch_up_fires_once_and_keeps_the_count():
    spec = parse_timer("R3/PT1H")
    first = spec.first_due(local(2026, 11, 20, 9, 0), SH)
    assert first == local(2026, 11, 20, 10, 0)
    # down from 09:30 to 12:10: the 10:00 firing happens at 12:10, for 10:00, 11:00, 12:00
    due, skipped = spec.next_due(first, local(2026, 11, 20, 12, 10), 1, SH)
    assert (due, skipped) == (local(2026, 11, 20, 13, 0), 2)
    # skipped ones are no firings: 13:00 is the 2nd, 14:00 the 3rd and last
    due, skipped = spec.next_due(due, local(2026, 11, 20, 13, 0, 2), 2, SH)
    assert (due, skipped) == (local(2026, 11, 20, 14, 0), 0)
    assert spec.next_due(due, local(2026, 11, 20, 14, 0), 3, SH) == (None, 0)


def test_catch_up_counts_an_occurrence_at_now_as_covered():
    spec = parse_timer("R/PT1H")
    due, skipped = spec.next_due(local(2026, 11, 20, 10, 0), local(2026, 11, 20, 12, 0), 1, SH)
    assert (due, skipped) == (local(2026, 11, 20, 13, 0), 2)


def test_used_up_cycle_still_reports_what_it_skipped():
    spec = parse_timer("R1/PT1H")
    assert spec.next_due(local(2026, 11, 20, 10, 0), local(2026, 11, 20, 12, 30), 1, SH) \
        == (None, 2)


def test_monthly_catch_up_after_three_missed_months():
    spec = parse_timer("R/P1M")
    first = spec.first_due(local(2026, 1, 15, 9, 0), SH)
    assert first == local(2026, 2, 15, 9, 0)
    # down until May 20: Mar 15, Apr 15 and May 15 are covered by this one firing
    due, skipped = spec.next_due(first, local(2026, 5, 20, 8, 0), 1, SH)
    assert (due, skipped) == (local(2026, 6, 15, 9, 0), 3)
    # forever: it never runs out
    assert spec.next_due(due, due, 10_000, SH)[0] == local(2026, 7, 15, 9, 0)


def test_monthly_cycle_with_start_does_not_drift_at_month_end():
    spec = parse_timer("R/2026-01-31T09:00+08:00/P1M")
    due = spec.first_due(local(2026, 1, 1), SH)
    seen = []
    for fired in range(1, 5):
        seen.append(due)
        due, _ = spec.next_due(due, due, fired, SH)
    assert seen == [local(2026, 1, 31, 9, 0), local(2026, 2, 28, 9, 0),
                    local(2026, 3, 31, 9, 0), local(2026, 4, 30, 9, 0)]
    # catching up from the start also counts from the start
    assert spec.next_due(local(2026, 1, 31, 9, 0), local(2026, 4, 1), 1, SH) \
        == (local(2026, 4, 30, 9, 0), 2)


def test_monthly_cycle_without_start_counts_from_the_previous_occurrence():
    spec = parse_timer("R/P1M")
    assert spec.next_due(local(2026, 2, 28, 9, 0), local(2026, 2, 28, 9, 0), 1, SH) \
        == (local(2026, 3, 28, 9, 0), 0)


def test_long_outage_with_a_short_period_is_jumped_not_walked():
    spec = parse_timer("R/PT1M")
    due, skipped = spec.next_due(local(2026, 1, 1), local(2027, 1, 1, 0, 0, 30), 1, SH)
    assert due == local(2027, 1, 1, 0, 1)
    assert skipped == 365 * 24 * 60


def test_next_due_checks_its_arguments():
    spec = parse_timer("R3/PT1H")
    with pytest.raises(ValueError):
        spec.next_due(local(2026, 1, 1), local(2026, 1, 1), 0, SH)
    with pytest.raises(ValueError):
        spec.next_due(datetime(2026, 1, 1), local(2026, 1, 1), 1, SH)


# --- ISO or expression ------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "PT5M", "P3D", "P1Y2M", "P", "PT", "-P1D", "'PT5M'", " P2W ",
    "R3/PT1H", "R/P1M", "R5/2026-12-01T09:00:00+08:00/P1D",
    "2026-12-01", "2026-12-01T09:00", "2026-W10-1",
])
def test_looks_like_iso(text):
    assert looks_like_iso(text)


@pytest.mark.parametrize("text", [
    "priority > 3", "deadline", "Period", "R/2", "R3", "pt5m", "p1", "2026-12",
    "days * 2", "", "'hello'",
])
def test_does_not_look_like_iso(text):
    assert not looks_like_iso(text)
