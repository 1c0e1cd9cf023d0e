"""The ledger (台账): rows, filters, sorting, paging; its Excel export; importing a problem list.

Problems of processes/p2_problem_rectification.bpmn in the small tree of
tests/fixtures/org.py (t1 一镇党委 with v1 一村 and v2 二村), as of Mon 2026-10-05:

- WT-2026-0001 A (v1): li rectifies by Sep 10, lead leader sun — red;
- WT-2026-0002 B (v2): wang rectifies by Oct 15 — green;
- WT-2026-0003 E (v2): registered twice, cancelled;
- WT-2026-0004 C (v1): registered Fri Oct 2, not yet decomposed — green.
"""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from engine import PermissionDenied, ValidationError
from engine.ledger_excel import LEDGER_COLUMNS
from tests.fixtures.time import advance_to, bj

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
KEY = "problem_rectification"
HEADERS = [h for _f, h, _w, _a in LEDGER_COLUMNS]


def register(eng, title: str, org: str, by: str, source: str = "上级点",
             category: str | None = None) -> int:
    data = {"title": title, "source": source, "description": title}
    if category:
        data["category"] = category
    return eng.start(KEY, data, by=by, org=org)


def decompose(eng, iid: int, unit: str, person: str, due: str, measures: str) -> None:
    [task] = [t for t in eng.open_tasks(instance_id=iid) if t.element_id == "assign"]
    eng.complete(task.id, {"responsible_unit": unit, "responsible_person": person,
                           "lead_leader": "sun", "measures": measures, "due_date": due},
                 by="zhao")


@pytest.fixture
def world(org, clock):
    clock.set(bj("2026-09-01T09:00"))
    org.deploy_file(PROCESSES / "p2_problem_rectification.bpmn", by="admin")
    a = register(org, "公开栏未更新", "v1", "zhang", category="村务公开")
    b = register(org, "活动室破损", "v2", "wang", source="群众提", category="阵地建设")
    e = register(org, "活动室破损（重复）", "v2", "wang")
    clock.set(bj("2026-09-01T10:00"))
    decompose(org, a, "v1", "li", "2026-09-10", "补公开三季度财务")
    decompose(org, b, "v2", "wang", "2026-10-15", "维修门窗")
    org.cancel(e, by="admin", reason="重复登记")
    advance_to(org, clock, bj("2026-10-02T09:00"))
    c = register(org, "党员台账不全", "v1", "zhang", source="自己找")
    advance_to(org, clock, bj("2026-10-05T09:00"))
    org.ids = {"A": a, "B": b, "C": c, "E": e}
    return org


def numbers(page) -> list[str]:
    return [r.number for r in page.rows]


def test_a_row_has_every_column_the_documents_name(world):
    page = world.ledger("sun", sort="number")
    assert page.total == 4 and numbers(page) == ["WT-2026-0001", "WT-2026-0002",
                                                 "WT-2026-0003", "WT-2026-0004"]
    a = page.rows[0]
    assert (a.instance_id, a.process_key, a.kind, a.title, a.source, a.category) == (
        world.ids["A"], KEY, "problem", "公开栏未更新", "上级点", "村务公开")
    assert (a.org_code, a.org_name) == ("v1", "一村党支部")
    assert (a.responsible_unit, a.responsible_unit_name) == ("v1", "一村党支部")
    assert (a.responsible_person, a.responsible_person_name) == ("li", "李四")
    assert (a.lead_leader, a.lead_leader_name) == ("sun", "孙书记")
    assert (a.measures, a.due_date, a.state, a.light, a.returns) == (
        "补公开三季度财务", date(2026, 9, 10), "rectifying", "red", 0)
    assert a.created_at == bj("2026-09-01T09:00") and a.closed_at is None
    c = page.rows[3]
    assert (c.responsible_unit, c.responsible_unit_name, c.state, c.light) == (
        None, None, "assigned", "green")


def test_filters_sorting_and_paging(world):
    def listed(**filters) -> list[str]:
        return [n[-1] for n in numbers(world.ledger("sun", sort="number", **filters))]

    assert listed(unit="v1") == ["1", "4"]
    assert listed(unit="v2") == ["2", "3"]
    assert listed(org="v2") == ["2", "3"]
    assert listed(kind="problem") == ["1", "2", "3", "4"] and listed(kind="matter") == []
    assert listed(state="open") == ["1", "2", "4"]
    assert listed(state="cancelled") == ["3"]
    assert listed(state=["rectifying", "cancelled"]) == ["1", "2", "3"]
    assert listed(light="red") == ["1"] and listed(light="none") == ["3"]
    assert listed(source="群众提") == ["2"] and listed(category="村务公开") == ["1"]
    assert listed(due_month="2026-09") == ["1"] and listed(due_month="2026-10") == ["2"]
    # created in October (Beijing time), whatever the server's zone
    assert listed(created_month="2026-10") == ["4"]
    assert listed(search="台账") == ["4"] and listed(search="wt-2026-0002") == ["2"]
    assert listed(search="100%") == []  # LIKE wildcards are text
    # sorting: empty dates last both ways, ties by creation
    assert [n[-1] for n in numbers(world.ledger("sun", sort="due"))] == ["1", "2", "3", "4"]
    assert [n[-1] for n in numbers(world.ledger("sun", sort="-due"))] == ["2", "1", "4", "3"]
    assert [n[-1] for n in numbers(world.ledger("sun"))] == ["4", "3", "2", "1"]
    assert [n[-1] for n in numbers(world.ledger("sun", sort="-light"))] == ["1", "4", "2", "3"]
    page = world.ledger("sun", sort="number", limit=3, offset=3)
    assert (page.total, numbers(page)) == (4, ["WT-2026-0004"])
    for bad in ({"sort": "colour"}, {"light": "blue"}, {"due_month": "2026-13"},
                {"created_month": "Oct"}, {"limit": 0}, {"colour": "red"}):
        with pytest.raises(ValidationError):
            world.ledger("sun", **bad)


def test_a_village_secretary_sees_only_the_village(world):
    assert numbers(world.ledger("zhang", sort="number")) == ["WT-2026-0001", "WT-2026-0004"]
    with pytest.raises(PermissionDenied):
        world.ledger("zhang", org="v2")
    with pytest.raises(PermissionDenied):
        world.export_ledger("zhang", org="t1")


def test_the_export_is_exactly_the_filtered_rows_as_a_real_workbook(world):
    data = world.export_ledger("sun", sort="number")
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    assert ws.title == "台账" and ws.freeze_panes == "A3"
    assert ws["A1"].value == "一镇党委台账（2026-10-05 09:00 导出）"
    assert "A1:O1" in {str(r) for r in ws.merged_cells.ranges}
    assert [c.value for c in ws[2]] == HEADERS
    assert ws.column_dimensions["C"].width == 40 and ws.auto_filter.ref == "A2:O6"
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    assert [r[0] for r in rows] == ["WT-2026-0001", "WT-2026-0002", "WT-2026-0003",
                                    "WT-2026-0004"]
    first = rows[0]
    assert first[1:10] == ["问题", "公开栏未更新", "上级点", "村务公开", "一村党支部", "李四",
                           "孙书记", "补公开三季度财务", datetime(2026, 9, 10)]
    assert first[10:15] == ["整改中", "红灯", 0, datetime(2026, 9, 1, 9, 0), None]
    assert ws["J3"].is_date and ws["J3"].number_format == "yyyy-mm-dd"
    assert ws["N3"].is_date and ws["N3"].number_format == "yyyy-mm-dd hh:mm"
    # the light column is coloured
    assert ws["L3"].fill.fgColor.rgb == "00FFC7CE"     # 红灯
    assert ws["L4"].fill.fgColor.rgb == "00C6EFCE"     # 绿灯
    assert (ws["K5"].value, ws["L5"].value) == ("已撤销", None)
    # filtered: exactly the rows the screen shows, written into a file object
    out = io.BytesIO()
    assert world.export_ledger("sun", out, unit="v2", state="open") is None
    filtered = load_workbook(io.BytesIO(out.getvalue())).active
    assert [r[0].value for r in filtered.iter_rows(min_row=3)] == ["WT-2026-0002"]


def reopen(data: bytes) -> Workbook:
    return load_workbook(io.BytesIO(data))


def saved(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_an_exported_list_imports_again_as_new_problems(world):
    # given: the ledger's open, decomposed problems exported...
    wb = reopen(world.export_ledger("sun", state="rectifying", sort="number"))
    # ...which cannot come back as they are: they are on the ledger already
    with pytest.raises(ValidationError) as refused:
        world.import_problem_list(saved(wb), by="sun")
    assert refused.value.fields == {
        "3:编号": "WT-2026-0001 is on the ledger already; leave 编号 empty for a new problem",
        "4:编号": "WT-2026-0002 is on the ledger already; leave 编号 empty for a new problem"}
    # when: the numbers are cleared and the list imported
    for row in wb.active.iter_rows(min_row=3):
        row[0].value = None
    report = world.import_problem_list(saved(wb), by="sun")
    # then: one 问题整改销号 per row, in row order, decomposed as the list says
    assert report.rows == 2 and report.numbers == ("WT-2026-0005", "WT-2026-0006")
    new = world.ledger("sun", sort="number", search="WT-2026-000")
    again = {r.number: r for r in new.rows}
    for old, copy in (("WT-2026-0001", "WT-2026-0005"), ("WT-2026-0002", "WT-2026-0006")):
        fields = ("title", "source", "category", "responsible_unit", "responsible_person",
                  "lead_leader", "measures", "due_date", "org_code")
        assert [getattr(again[copy], f) for f in fields] == [getattr(again[old], f)
                                                             for f in fields]
        assert again[copy].state == "assigned"  # the town's 组织委员 confirms the 责任分解
    iid = report.instance_ids[0]
    assert world.get_instance(iid).started_by == "sun"
    assert world.get_instance(iid).data["description"] == "公开栏未更新"
    [task] = world.open_tasks(instance_id=iid)
    assert (task.element_id, task.candidates) == ("assign", ("zhao",))


def problem_list(rows: list[list], headers: list[str] | None = None) -> bytes:
    """A problem list as a town would type it: a title row, then the headers."""
    wb = Workbook()
    ws = wb.active
    ws.append(["一镇党委问题清单"])
    ws.append(headers or ["序号", "问题（事项）", "问题来源", "问题类别", "责任单位", "责任人",
                          "牵头领导", "整改措施", "时限要求"])
    for row in rows:
        ws.append(row)
    return saved(wb)


def test_a_problem_list_accepts_names_and_chinese_dates(world):
    content = problem_list([
        [1, "村规民约未修订", "上级点", "制度建设", "二村党支部", "王书记", "孙书记", "修订并公示",
         "2026年11月30日"],
        [],
        [2, "便民服务站无人值班", "群众提", None, "v1", "li", "sun", None,
         datetime(2026, 12, 15)],
    ])
    report = world.import_problem_list(io.BytesIO(content), by="sun")
    first, second = (world.get_item(instance_id=i) for i in report.instance_ids)
    assert (first.title, first.source, first.category, first.responsible_unit,
            first.responsible_person, first.lead_leader, first.measures, first.due_date) == (
        "村规民约未修订", "上级点", "制度建设", "v2", "wang", "sun", "修订并公示",
        date(2026, 11, 30))
    assert (second.responsible_unit, second.responsible_person, second.due_date) == (
        "v1", "li", date(2026, 12, 15))
    assert world.get_instance(report.instance_ids[0]).org_id == first.org_id
    assert [e.action for e in audit_events(world, "ledger.imported")] == ["ledger.imported"]


def audit_events(eng, action: str) -> list:
    from engine.models import AuditEvent
    from sqlalchemy import select

    with eng.sessions() as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


def test_every_bad_row_is_reported_and_nothing_is_imported(world):
    world.add_person("same1", "同名")
    world.add_person("same2", "同名")
    before = world.ledger("sun").total
    content = problem_list([
        [1, "好的一行", "上级点", None, "v1", "li", "sun", None, "2026-11-30"],
        [2, None, "上级点", None, "v1", None, None, None, None],
        [3, "单位不存在", "自己找", None, "三村党支部", None, None, None, None],
        [4, "时限不是日期", "自己找", None, "v1", None, None, None, "下个月"],
        [5, "来源不对", "领导交办", None, "v1", None, None, None, None],
        [6, "查无此人", "群众提", None, "v2", "nobody", "同名", None, None],
        [7, "x" * 201, None, None, None, None, None, None, None],
    ])
    with pytest.raises(ValidationError) as refused:
        world.import_problem_list(content, by="sun")
    assert refused.value.fields == {
        "4:问题（事项）": "is required",
        "5:责任单位": "no organisation '三村党支部' that you may see",
        "6:时限要求": "must be a date like 2026-09-30",
        "7:问题来源": "must be one of 上级点, 自己找, 群众提",
        "8:责任人": "no active person 'nobody'",
        "8:牵头领导": "several people are named '同名'; give the username",
        "9:问题来源": "is required",
        "9:责任单位": "is required",
        "9:问题（事项）": "must be at most 200 characters",
    }
    assert "6 of 7 rows are bad; nothing was imported" in str(refused.value)
    assert world.ledger("sun").total == before


def test_a_village_secretary_imports_only_for_the_village(world):
    content = problem_list([[1, "一村的问题", "自己找", None, "一村党支部", None, None, None, None],
                            [2, "二村的问题", "自己找", None, "二村党支部", None, None, None, None]])
    with pytest.raises(ValidationError) as refused:
        world.import_problem_list(content, by="zhang")
    assert refused.value.fields == {"4:责任单位": "no organisation '二村党支部' that you may see"}
    assert world.ledger("sun").total == 4
    report = world.import_problem_list(problem_list([[1, "一村的问题", "自己找", None, "v1"]]),
                                       by="zhang")
    assert report.numbers == ("WT-2026-0005",)


def zip_of(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_files_that_are_not_workbooks_are_refused_unopened(world, monkeypatch):
    import engine.ledger_excel as ledger_excel

    def refused(content) -> str:
        with pytest.raises(ValidationError) as err:
            world.import_problem_list(content, by="sun")
        return err.value.fields["file"]

    assert refused(b"title,source\n") == "is not an Excel workbook (.xlsx)"
    assert refused(zip_of({"a.txt": b"hello"})) == "is not an Excel workbook (.xlsx)"
    # a zip bomb dressed as .xlsx: 101 MB of zeros in a few hundred kilobytes
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            for _ in range(101):
                part.write(bytes(1024 * 1024))
    bomb = out.getvalue()
    assert len(bomb) < 1024 * 1024
    opened = []
    monkeypatch.setattr(ledger_excel, "load_workbook", lambda *a, **k: opened.append(a))
    assert refused(bomb) == "unpacks to more than 100 MB"
    assert refused(zip_of({f"x{i}": b"" for i in range(501)})).startswith("holds 501 parts")
    assert opened == []
    monkeypatch.undo()
    assert refused(b"PK" + bytes(11 * 1024 * 1024)) == "is larger than 10 MB"
    assert refused(problem_list([], ["甲", "乙"])) == (
        "has no header row with a 问题（事项） column in its first 10 rows")
    assert refused(problem_list([])) == "has no problems under its header row"
    too_many = problem_list([[i, f"问题{i}", "自己找", None, "v1"] for i in range(2001)])
    assert refused(too_many) == "holds more than 2000 problems; split it into several files"
    assert refused(problem_list([["问题", "上级点"]], ["问题", "问题来源"])) == (
        "has no column 责任单位")
    assert world.ledger("sun").total == 4
