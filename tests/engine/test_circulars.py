"""The monthly circular (一月一通报): exact figures, ranks with ties, the stored record,
its Excel form, the job on the 1st, and the monthly_circular procedure reading it.

Items of tests/engine/data/item.bpmn in the small tree of tests/fixtures/org.py, all
registered Sat 2026-08-01; the circular is for September 2026, generated Mon Oct 5:

| unit | item | 时限要求 | 销号 | in September's circular |
|---|---|---|---|---|
| v1 | P1 | 09-10 | 09-09 | on time |
| v1 | P2 | 09-15 | 09-18 | late |
| v1 | P3 | 09-20 | — | overdue (7 working days at the month's end) |
| v1 | P7 | 08-20 | — | carried over from August |
| v1 | P9 | 10-05 | — | not September's |
| v2 | P4 | 09-25 | 09-25 | on time |
| v2 | P10 | 09-29 | 10-02 | overdue: still open when September ended |
| v2 | P8 | 09-05 | cancelled | not counted |
| t1 (via 督查室) | P6 | 09-12 | 09-11 | on time |
| t1 (via 督查室) | P11 | 09-30 | 10-03 | overdue |

So v1 1/3, v2 1/2, t1 1/2: t1 and v2 share rank 1 (t1 first by code), v1 is 3rd.
"""
from __future__ import annotations

import io
from datetime import date, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook

from engine import NotFound, PermissionDenied, ValidationError
from engine.views import CircularCounts
from tests.fixtures.time import advance_to, bj

DATA = Path(__file__).resolve().parent / "data"
PROCESSES = Path(__file__).resolve().parents[2] / "processes"


def step(eng, iid, element, data=None):
    task = next(t for t in eng.open_tasks(instance_id=iid) if t.element_id == element)
    eng.complete(task.id, data or {}, by="admin")


def close(eng, clock, iid, when: str) -> None:
    clock.set(bj(when))
    step(eng, iid, "assign")
    step(eng, iid, "rectify")
    step(eng, iid, "review", {"accepted": True})


ITEMS = [  # name, organisation, responsible unit, due, closed (or "cancel")
    ("P1", "v1", "v1", "2026-09-10", "2026-09-09T16:00"),
    ("P2", "v1", "v1", "2026-09-15", "2026-09-18T10:00"),
    ("P3", "v1", "v1", "2026-09-20", None),
    ("P7", "v1", "v1", "2026-08-20", None),
    ("P9", "v1", "v1", "2026-10-05", None),
    ("P4", "v2", "v2", "2026-09-25", "2026-09-25T23:00"),
    ("P10", "v2", "v2", "2026-09-29", "2026-10-02T10:00"),
    ("P8", "v2", "v2", "2026-09-05", "cancel"),
    ("P6", "t1", "t1-dc", "2026-09-12", "2026-09-11T10:00"),
    ("P11", "t1", "t1-dc", "2026-09-30", "2026-10-03T10:00"),
]


@pytest.fixture
def month(org, clock):
    clock.set(bj("2026-08-01T09:00"))
    org.deploy((DATA / "item.bpmn").read_text(encoding="utf-8"), by="admin")
    ids = {}
    for name, where, unit, due, _closed in ITEMS:
        ids[name] = org.start("item_flow", {"title": f"问题{name}", "responsible_unit": unit,
                                            "due_date": due}, by="admin", org=where)
    for name, _where, _unit, _due, closed in sorted(ITEMS, key=lambda i: i[4] or ""):
        if closed == "cancel":
            org.cancel(ids[name], by="admin", reason="重复登记")
        elif closed:
            close(org, clock, ids[name], closed)
    clock.set(bj("2026-10-05T10:00"))
    org.numbers = {name: org.get_item(instance_id=iid).number for name, iid in ids.items()}
    return org


def test_the_september_circular_counts_and_ranks_exactly(month):
    made = month.generate_circular("t1", "2026-09", by="sun", trend_months=3)
    assert (made.org_code, made.org_name, made.month, made.generated_by) == (
        "t1", "一镇党委", "2026-09", "sun")
    assert made.as_of == bj("2026-09-30T23:59:59.999999").astimezone(timezone.utc)
    rows = [(u.code, u.rank, u.counts) for u in made.units]
    assert rows == [
        ("t1", 1, CircularCounts(due=2, on_time=1, overdue=1, on_time_rate=0.5)),
        ("v2", 1, CircularCounts(due=2, on_time=1, overdue=1, on_time_rate=0.5)),
        ("v1", 3, CircularCounts(due=3, on_time=1, late=1, overdue=1, carried_over=1,
                                 on_time_rate=0.3333)),
    ]
    assert made.totals == CircularCounts(due=7, on_time=3, late=1, overdue=3, carried_over=1,
                                         on_time_rate=0.4286)
    assert made.by_kind == {"problem": made.totals}
    n = month.numbers
    # named in the circular, longest overdue first (working days at the end of September:
    # Mid-autumn Fri Sep 25 is off)
    assert [(o.number, o.unit_code, o.due_date, o.overdue_working_days)
            for o in made.overdue_items] == [
        (n["P7"], "v1", date(2026, 8, 20), 29), (n["P3"], "v1", date(2026, 9, 20), 7),
        (n["P10"], "v2", date(2026, 9, 29), 1), (n["P11"], "t1", date(2026, 9, 30), 0)]
    assert [(p.month, p.counts) for p in made.trend] == [
        ("2026-07", CircularCounts()),
        ("2026-08", CircularCounts(due=1, overdue=1, on_time_rate=0.0)),
        ("2026-09", made.totals)]


def test_a_month_in_progress_counts_so_far(month):
    made = month.generate_circular("t1", "2026-10", by="sun", trend_months=1)
    v1 = next(u for u in made.units if u.code == "v1")
    # P9 is due today: not yet decided, so no rate; P3 and P7 are still open
    assert v1.counts == CircularCounts(due=1, pending=1, carried_over=2, on_time_rate=None)
    assert v1.rank is None and made.as_of == bj("2026-10-05T10:00")
    assert [u.rank for u in made.units] == [None, None, None]


def test_circulars_are_dated_records_read_by_who_may_see_them(month, clock):
    first = month.generate_circular("t1", "2026-09", by="sun")
    clock.set(bj("2026-10-06T10:00"))
    again = month.generate_circular("t1", "2026-09", by="qian")
    assert again.id != first.id and again.units == first.units
    listed = month.list_circulars("sun")
    assert [(c.id, c.org_code, c.month, c.generated_by) for c in listed] == [
        (again.id, "t1", "2026-09", "qian"), (first.id, "t1", "2026-09", "sun")]
    assert month.get_circular(first.id, username="sun") == first
    assert month.list_circulars("admin", org="c1", month="2026-09")[0].id == again.id
    # a village sees no town circular
    assert month.list_circulars("zhang") == []
    with pytest.raises(NotFound):
        month.get_circular(first.id, username="zhang")
    with pytest.raises(PermissionDenied):
        month.generate_circular("t1", "2026-09", by="zhang")
    with pytest.raises(PermissionDenied):
        month.generate_circular("v1", "2026-09", by="li")
    for bad in ("2026-9", "2026-11", "September"):
        with pytest.raises(ValidationError):
            month.generate_circular("t1", bad, by="sun")


def test_the_trend_for_charts(month):
    points = month.circular_trend("sun", months=3, until="2026-09")
    assert [(p.month, p.counts.due, p.counts.on_time_rate) for p in points] == [
        ("2026-07", 0, None), ("2026-08", 1, 0.0), ("2026-09", 7, 0.4286)]
    assert month.circular_trend("zhang", months=2, until="2026-09")[-1].counts == (
        CircularCounts(due=3, on_time=1, late=1, overdue=1, carried_over=1,
                       on_time_rate=0.3333))
    # without until: ending with the month in progress
    assert month.circular_trend("sun", months=1)[0].month == "2026-10"


def test_a_circular_as_a_workbook(month):
    made = month.generate_circular("t1", "2026-09", by="sun", trend_months=3)
    wb = load_workbook(io.BytesIO(month.export_circular(made.id, username="sun")))
    assert wb.sheetnames == ["排名", "超期事项", "趋势", "说明"]
    ranking = wb["排名"]
    assert ranking["A1"].value == "一镇党委 2026年9月督查督办情况通报（一月一通报）"
    assert ranking.freeze_panes == "A3"
    assert [c.value for c in ranking[2]] == ["排名", "单位", "应办结", "按期办结", "逾期办结",
                                             "超期未办结", "未到期", "往月超期未办结", "按期办结率"]
    assert [c.value for c in ranking[3]] == [1, "一镇党委", 2, 1, 0, 1, 0, 0, 0.5]
    assert ranking["I3"].number_format == "0.0%"
    assert ranking["F3"].fill.fgColor.rgb == "00FFC7CE"
    assert [c.value for c in ranking[6]][1:4] == ["合计", 7, 3]
    overdue = wb["超期事项"]
    assert overdue["E3"].is_date and overdue["E3"].value.date() == date(2026, 8, 20)
    assert [c.value for c in wb["趋势"]["A"]][2:] == ["2026-07", "2026-08", "2026-09"]
    with pytest.raises(NotFound):
        month.export_circular(made.id, username="zhang")


def test_the_job_on_the_first_circulates_every_town_once(org, clock):
    clock.set(bj("2026-09-15T09:00"))
    org.add_organisation("t2", "二镇党委", "town", parent="c1")
    org.deploy((DATA / "item.bpmn").read_text(encoding="utf-8"), by="admin")
    iid = org.start("item_flow", {"title": "问题", "responsible_unit": "v1",
                                  "due_date": "2026-09-20"}, by="admin", org="v1")
    close(org, clock, iid, "2026-09-16T10:00")
    # given: the schedule is set up by migrate, once however often it runs
    org.migrate()
    org.migrate()
    [job] = [j for j in org.list_jobs() if j.kind == "circular_month"]
    assert job.due_at == bj("2026-10-01T00:30").astimezone(timezone.utc)
    # when: 00:30 on the 1st comes
    advance_to(org, clock, bj("2026-10-01T01:00"))
    # then: September's circular of every town, by the system, and the next month scheduled
    made = org.list_circulars("admin", org="c1")
    assert sorted((c.org_code, c.month, c.generated_by) for c in made) == [
        ("t1", "2026-09", "system"), ("t2", "2026-09", "system")]
    t1 = org.get_circular(next(c.id for c in made if c.org_code == "t1"), username="sun")
    assert t1.totals == CircularCounts(due=1, on_time=1, on_time_rate=1.0)
    assert [j.due_at for j in org.list_jobs() if j.kind == "circular_month"] == [
        bj("2026-11-01T00:30").astimezone(timezone.utc)]
    # and: the town's secretary and the inspector of its 督查室 are told; nobody twice
    for who in ("sun", "qian"):
        [notice] = org.notifications(who)
        assert notice.title == "【通报】一镇党委 2026年9月督查督办通报已生成"
        assert notice.body.startswith("应办结 1 件，按期办结 1 件（按期办结率 100.0%）")
    assert org.notifications("zhang") == []
    org.fire_due_jobs()
    assert len(org.list_circulars("admin", org="c1")) == 2


def test_after_downtime_each_missed_month_gets_its_circular(org, clock):
    clock.set(bj("2026-09-15T09:00"))
    org.migrate()
    clock.set(bj("2026-12-01T08:00"))
    org.fire_due_jobs()
    assert sorted(c.month for c in org.list_circulars("sun")) == [
        "2026-09", "2026-10", "2026-11"]
    assert [j.due_at for j in org.list_jobs() if j.kind == "circular_month"] == [
        bj("2027-01-01T00:30").astimezone(timezone.utc)]


def test_the_monthly_circular_procedure_starts_from_the_stored_figures(org, clock):
    clock.set(bj("2026-09-15T09:00"))
    org.deploy((DATA / "item.bpmn").read_text(encoding="utf-8"), by="admin")
    for unit, closed in (("v1", "2026-09-16T10:00"), ("v2", None)):
        iid = org.start("item_flow", {"title": f"{unit}的问题", "responsible_unit": unit,
                                      "due_date": "2026-09-20"}, by="admin", org=unit)
        if closed:
            close(org, clock, iid, closed)
    org.deploy_file(PROCESSES / "p7_monthly_circular.bpmn", by="admin")
    org.migrate()
    # when: the circular is generated on Oct 1 and the procedure starts on Oct 5
    advance_to(org, clock, bj("2026-10-05T09:00"))
    [task] = [t for t in org.open_tasks() if t.element_id == "compile"]
    data = org.get_instance(task.instance_id).data
    circular = org.list_circulars("sun")[0]
    # then: the draft starts from the figures (督办事项: none this month)
    assert {k: data[k] for k in ("circular_id", "circular_month", "period", "matters_due",
                                 "matters_on_time", "matters_overdue", "ranking")} == {
        "circular_id": circular.id, "circular_month": "2026-09", "period": "2026年9月",
        "matters_due": 0, "matters_on_time": 0, "matters_overdue": 0,
        "ranking": "1. 一村党支部 100%（1/1）；2. 二村党支部 0%（0/1）"}
    assert data["overdue_list"].endswith("v2的问题（二村党支部，超期 7 个工作日）")
