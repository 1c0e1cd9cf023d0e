"""Working days: official 2026 data, counting rules, notices and zones."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engine.errors import ValidationError
from engine.workdays import (DayRule, WorkCalendar, covered_years, official_rules,
                             parse_notice)

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def end_of_local_day(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture(scope="module")
def cal2026() -> WorkCalendar:
    return WorkCalendar(official_rules(2026), [2026])


# --- official data -------------------------------------------------------------

def test_covered_years_is_probed_from_the_package():
    years = covered_years()
    assert years.start == 2004 and 2026 in years and 2027 not in years


def test_official_rules_refuse_uncovered_years():
    with pytest.raises(LookupError, match="2027"):
        official_rules(2027)
    with pytest.raises(LookupError):
        official_rules(2003)


def test_official_2026_national_day_and_mid_autumn():
    rules = {r.day: r for r in official_rules(2026)}
    assert rules[date(2026, 9, 20)] == DayRule(date(2026, 9, 20), True, "国庆节调休")
    assert rules[date(2026, 10, 10)] == DayRule(date(2026, 10, 10), True, "国庆节调休")
    for day in (1, 2, 5, 6, 7):
        assert rules[date(2026, 10, day)] == DayRule(date(2026, 10, day), False, "国庆节")
    assert rules[date(2026, 9, 25)].name == "中秋节"
    # holidays on a weekend are no exception to Mon–Fri, so they are left out
    for day in (date(2026, 9, 26), date(2026, 9, 27), date(2026, 10, 3), date(2026, 10, 4)):
        assert day not in rules
    assert all(r.day.year == 2026 for r in rules.values())


def test_is_workday_in_autumn_2026(cal2026):
    assert cal2026.is_workday(date(2026, 9, 20))          # Sunday, make-up day
    assert not cal2026.is_workday(date(2026, 9, 19))      # ordinary Saturday
    for day in (25, 26, 27):
        assert not cal2026.is_workday(date(2026, 9, day))  # 中秋节
    for day in range(1, 8):
        assert not cal2026.is_workday(date(2026, 10, day))  # 国庆节
    assert cal2026.is_workday(date(2026, 10, 8))
    assert cal2026.is_workday(date(2026, 10, 10))         # Saturday, make-up day
    assert not cal2026.is_workday(date(2026, 10, 11))
    assert cal2026.rule_for(date(2026, 10, 10)).name == "国庆节调休"
    assert cal2026.rule_for(date(2026, 10, 12)) is None


def test_is_official(cal2026):
    assert cal2026.is_official(2026)
    assert not cal2026.is_official(2027)


# --- add_working_days ------------------------------------------------------------

def test_three_working_days_over_national_day(cal2026):
    # Oct 1–7 off; Thu Oct 8 is day 1, Fri Oct 9 day 2, Sat Oct 10 (make-up) day 3
    deadline = cal2026.add_working_days(local(2026, 9, 30, 10, 0), 3)
    assert deadline.due == datetime(2026, 10, 10, 15, 59, 59, tzinfo=UTC)
    assert deadline.due == end_of_local_day(2026, 10, 10)
    assert deadline.due.tzinfo is UTC
    assert deadline.provisional is False


def test_start_day_never_counts(cal2026):
    # Thursday Oct 8 is a working day, yet one working day later is Friday's end
    assert cal2026.add_working_days(local(2026, 10, 8, 0, 1), 1).due == end_of_local_day(2026, 10, 9)
    assert cal2026.add_working_days(local(2026, 10, 8, 23, 59), 1).due == end_of_local_day(2026, 10, 9)


def test_make_up_sunday_counts(cal2026):
    # Fri Sep 18 → Sun Sep 20 is the first working day (Sat Sep 19 is off)
    assert cal2026.add_working_days(local(2026, 9, 18, 16, 0), 1).due == end_of_local_day(2026, 9, 20)
    # Mid-autumn Fri Sep 25 is skipped: Thu Sep 24 + 1 → Mon Sep 28
    assert cal2026.add_working_days(local(2026, 9, 24, 9, 0), 1).due == end_of_local_day(2026, 9, 28)


def test_year_without_data_is_provisional_then_exact_after_the_notice(cal2026):
    start = local(2026, 12, 20, 10, 0)  # a Sunday
    # Dec 21–25 (5), Dec 28–31 (9), Fri 2027-01-01 counts without 2027 data (10)
    guess = cal2026.add_working_days(start, 10)
    assert guess.due == end_of_local_day(2027, 1, 1)
    assert guess.provisional is True

    notice = parse_notice("2027-01-01,休,元旦\n")
    exact_cal = WorkCalendar(official_rules(2026) + notice, [2026, 2027])
    exact = exact_cal.add_working_days(start, 10)
    assert exact.due == end_of_local_day(2027, 1, 4)
    assert exact.due > guess.due
    assert exact.provisional is False


def test_provisional_only_when_a_year_in_range_is_missing():
    cal = WorkCalendar([], [2027])
    assert cal.add_working_days(local(2027, 3, 1, 9, 0), 5).provisional is False
    # start's year 2026 is not official even though the due year is
    assert cal.add_working_days(local(2026, 12, 31, 9, 0), 5).provisional is True


@pytest.mark.parametrize("days", [0, -3])
def test_days_must_be_at_least_one(cal2026, days):
    with pytest.raises(ValidationError) as info:
        cal2026.add_working_days(local(2026, 9, 30, 10, 0), days)
    assert info.value.fields == {"days": "must be at least 1"}


def test_absurd_days_are_refused(cal2026):
    with pytest.raises(ValidationError) as info:
        cal2026.add_working_days(local(2026, 9, 30, 10, 0), 1001)
    assert "days" in info.value.fields
    assert cal2026.add_working_days(local(2026, 9, 30, 10, 0), 1000).due.year == 2030


def test_runaway_search_is_stopped():
    # a calendar where every weekday for 12 years is a holiday has no working day
    start = date(2026, 1, 1)
    off = [DayRule(start + timedelta(days=i), False, None) for i in range(12 * 366)
           if (start + timedelta(days=i)).weekday() < 5]
    cal = WorkCalendar(off, range(2026, 2039))
    with pytest.raises(ValidationError) as info:
        cal.add_working_days(local(2026, 1, 1, 9, 0), 1)
    assert "no 1 working days" in info.value.fields["days"]


def test_naive_moments_are_refused(cal2026):
    with pytest.raises(ValueError, match="no time zone"):
        cal2026.add_working_days(datetime(2026, 9, 30, 10, 0), 3)
    with pytest.raises(ValueError):
        cal2026.working_days_between(datetime(2026, 9, 30), local(2026, 10, 9))
    with pytest.raises(ValueError):
        cal2026.working_days_before(datetime(2026, 9, 30), 1)


# --- working_days_before / between ------------------------------------------------------

def test_working_days_before(cal2026):
    due = end_of_local_day(2026, 10, 10)
    assert cal2026.working_days_before(due, 1) == end_of_local_day(2026, 10, 9)
    assert cal2026.working_days_before(due, 2) == end_of_local_day(2026, 10, 8)
    # the holiday week is skipped backwards too
    assert cal2026.working_days_before(due, 3) == end_of_local_day(2026, 9, 30)
    with pytest.raises(ValidationError):
        cal2026.working_days_before(due, 0)


def test_working_days_between(cal2026):
    a = local(2026, 9, 30, 10, 0)
    # Oct 8, 9, 10 (make-up) and 12
    assert cal2026.working_days_between(a, local(2026, 10, 12, 9, 0)) == 4
    assert cal2026.working_days_between(a, local(2026, 10, 7, 23, 0)) == 0
    assert cal2026.working_days_between(a, a) == 0
    assert cal2026.working_days_between(local(2026, 10, 12, 9, 0), a) == 0
    # a rule that repeats the weekday pattern changes nothing
    cal = WorkCalendar([DayRule(date(2026, 10, 11), False, None)], [])
    assert cal.working_days_between(local(2026, 10, 9), local(2026, 10, 12)) == 1


def test_between_agrees_with_day_by_day_counting():
    years = covered_years()
    rules = [r for y in years for r in official_rules(y)]
    cal = WorkCalendar(rules, years)
    start, end = local(2004, 1, 1, 12, 0), local(2026, 12, 31, 12, 0)
    day, expected = date(2004, 1, 2), 0
    while day <= date(2026, 12, 31):
        expected += cal.is_workday(day)
        day += timedelta(days=1)
    assert cal.working_days_between(start, end) == expected
    # and it inverts add_working_days
    deadline = cal.add_working_days(local(2026, 9, 30, 10, 0), 3)
    assert cal.working_days_between(local(2026, 9, 30, 10, 0), deadline.due) == 3


# --- zones --------------------------------------------------------------------------------

def test_local_date_decides_in_the_calendar_zone(cal2026):
    moment = datetime(2026, 10, 8, 17, 0, tzinfo=UTC)  # Fri Oct 9 01:00 in Shanghai
    assert cal2026.add_working_days(moment, 1).due == end_of_local_day(2026, 10, 10)
    utc_cal = WorkCalendar(official_rules(2026), [2026], tz="UTC")
    assert utc_cal.add_working_days(moment, 1).due == datetime(2026, 10, 9, 23, 59, 59, tzinfo=UTC)


def test_shanghai_end_of_day_is_always_1559_utc(cal2026):
    start = local(2026, 1, 1, 9, 0)
    for days in range(1, 260, 7):
        due = cal2026.add_working_days(start, days).due
        assert (due.hour, due.minute, due.second, due.microsecond) == (15, 59, 59, 0)


def test_offset_of_the_input_does_not_matter(cal2026):
    same = [local(2026, 9, 30, 10, 0),
            datetime(2026, 9, 30, 2, 0, tzinfo=UTC),
            datetime(2026, 9, 29, 21, 0, tzinfo=timezone(timedelta(hours=-5)))]
    assert len({cal2026.add_working_days(m, 3).due for m in same}) == 1


def test_zone_with_summer_time():
    cal = WorkCalendar([], [], tz="Europe/Berlin")
    berlin = ZoneInfo("Europe/Berlin")
    # Fri 2026-03-27 → Mon 2026-03-30, after the switch to CEST (+02)
    due = cal.add_working_days(datetime(2026, 3, 27, 9, 0, tzinfo=berlin), 1).due
    assert due == datetime(2026, 3, 30, 21, 59, 59, tzinfo=UTC)


def test_unknown_zone_and_contradictory_rules():
    with pytest.raises(ValueError, match="unknown time zone"):
        WorkCalendar([], [], tz="Mars/Olympus")
    with pytest.raises(ValueError, match="contradictory"):
        WorkCalendar([DayRule(date(2027, 1, 1), False, None),
                      DayRule(date(2027, 1, 1), True, None)], [])


# --- parse_notice --------------------------------------------------------------------------

def test_parse_notice_accepts_the_usual_spellings():
    text = ("\ufeff# 国务院办公厅关于2027年部分节假日安排的通知\n"
            "\n"
            "2027-02-07,班,春节调休\n"
            "2027-01-01,休,元旦   # New Year\n"
            "2027-02-08\toff\t春节\n"
            "2027-02-20 , work\n"
            "2027-02-09，HOLIDAY，春节\n"
            "2027-02-27,workday\n")
    rules = parse_notice(text)
    assert rules == [
        DayRule(date(2027, 1, 1), False, "元旦"),
        DayRule(date(2027, 2, 7), True, "春节调休"),
        DayRule(date(2027, 2, 8), False, "春节"),
        DayRule(date(2027, 2, 9), False, "春节"),
        DayRule(date(2027, 2, 20), True, None),
        DayRule(date(2027, 2, 27), True, None),
    ]


def test_parse_notice_lists_every_bad_line():
    text = "\n".join([
        "2027-01-01,休,元旦",          # 1 fine
        "2027-02-30,休,春节",          # 2 no such date
        "27-1-1,休",                   # 3 not a date
        "2027-02-08,半天,春节",        # 4 unknown kind
        "2027-01-02,休,元旦",          # 5 Saturday, already off
        "2027-01-04,班",               # 6 Monday, already working
        "2027-01-01,休,元旦",          # 7 duplicate of line 1
        "2027-02-09",                  # 8 no kind
        "2027-02-09,休,春节,多余",     # 9 too many fields
    ])
    with pytest.raises(ValidationError) as info:
        parse_notice(text)
    fields = info.value.fields
    assert set(fields) == {f"line {n}" for n in range(2, 10)}
    assert "not a date" in fields["line 2"] and "not a date" in fields["line 3"]
    assert "unknown kind '半天'" in fields["line 4"]
    assert fields["line 5"] == "2027-01-02 is a Saturday, already a day off"
    assert fields["line 6"] == "2027-01-04 is a Monday, already a working day"
    assert fields["line 7"] == "2027-01-01 is already given on line 1"
    assert "expected 'date,kind[,name]'" in fields["line 8"]
    assert "expected 'date,kind[,name]'" in fields["line 9"]
    assert "line 2" in str(info.value)


def test_parse_notice_refuses_an_empty_notice():
    with pytest.raises(ValidationError) as info:
        parse_notice("# only a comment\n\n")
    assert info.value.fields == {"notice": "contains no rules"}
