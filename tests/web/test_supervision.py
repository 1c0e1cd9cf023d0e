"""The supervisor's pages (web/supervision): dashboard, 催办, ledger + Excel, circulars.

The small tree (tests/fixtures/org.py): sun 书记 of the town t1, qian 督查员 of its
office, zhang 书记 of 一村 v1 with li 村干部, wang 书记 of 二村 v2. Branch secretaries
supervise their own village only; li supervises nothing.

Data (Tue 2026-09-01 → Tue 2026-09-15 10:00, 2026 time):
- WT-2026-0001 一村 problem, li, limit Sep 10 → red (overdue);
- WT-2026-0002 一村 problem, li, limit Sep 30 → green;
- WT-2026-0003 二村 problem, wang, limit Sep 10 → red;
- DB-2026-0001 一村 assigned matter (督办事项), signed for, li, limit Sep 30; its first
  staged feedback (阶段性反馈) was due Sep 10 → red.
"""
from __future__ import annotations

import io
import re
import zipfile
from urllib.parse import unquote

import openpyxl
import pytest

from tests.fixtures.supervision import close, deploy, problem, task_of
from tests.fixtures.time import advance_to, bj

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def matter(eng, title: str, org: str, person: str, due: str) -> int:
    iid = eng.start("supervision_matter",
                    {"title": title, "category": "批示件", "source": "县委书记",
                     "document_no": "县委批〔2026〕15号", "content": "全面排查",
                     "responsible_unit": org, "lead_leader": "zhao", "due_date": due,
                     "feedback_interval": "P7D"}, by="qian", org=org)
    eng.complete(task_of(eng, iid, "sign").id,
                 {"sign_decision": "签收", "responsible_person": person, "measures": "分组巡查"},
                 by="zhang" if org == "v1" else "wang")
    return iid


@pytest.fixture
def town(world, clock):
    """The four items above, seen at Tue Sep 15 10:00."""
    clock.set(bj("2026-09-01T09:00"))
    deploy(world, "p2_problem_rectification", "p7_supervision_matter")
    problem(world, "村务公开栏未更新", "v1", "li", "2026-09-10", by="zhang")
    problem(world, "党员活动室台账不全", "v1", "li", "2026-09-30", by="zhang")
    problem(world, "三会一课记录缺失", "v2", "wang", "2026-09-10", by="wang")
    matter(world, "落实秸秆禁烧批示", "v1", "li", "2026-09-30")
    advance_to(world, clock, bj("2026-09-15T10:00"))
    return world


def numbers(html: str) -> list[str]:
    return re.findall(r'<tr data-number="([^"]+)"', html)


def xlsx_numbers(content: bytes) -> list[str]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [row[0] for row in sheet.iter_rows(min_row=3, values_only=True) if row[0]]


# -- the dashboard ------------------------------------------------------------------------

def test_the_town_dashboard_counts_lights_by_unit_and_lists_the_overdue_steps(town, client,
                                                                               auth):
    # given: the town secretary
    auth.login("sun")
    # when
    response = client.get("/supervision")
    html = response.get_data(as_text=True)
    # then: the tiles say what the engine says
    board = town.dashboard("sun")
    assert response.status_code == 200
    assert (board.items.red, board.items.green, board.overdue_tasks) == (3, 1, 3)
    assert f'<b data-count="red">{board.items.red}</b>' in html
    assert f'<b data-count="green">{board.items.green}</b>' in html
    assert f'<b data-count="open">{board.items.total}</b>' in html
    assert f'<b data-count="overdue-steps">{board.overdue_tasks}</b>' in html
    # a row per unit, lights as colour and text, counts drilling down to the ledger
    for code in ("t1", "v1", "v2"):
        assert f'<tr data-unit="{code}">' in html
    assert "light-red" in html and "超期" in html
    assert "/ledger?org=t1&amp;unit=v1&amp;light=red&amp;state=open" in html
    assert "/supervision/tasks?org=t1&amp;unit=v2&amp;light=red" in html
    # the overdue list: every red step, with the lead leader, days and 督办 level
    overdue = town.overdue_tasks("sun")
    assert overdue.total == 3
    for row in overdue.rows:
        assert f'data-task="{row.task_id}"' in html
        assert f"/supervision/tasks/{row.task_id}/urge" in html
    assert "孙书记" in html and "个工作日" in html and "级督办" in html
    # the chart's data travels as JSON, never as inline code
    assert '<script type="application/json" id="unit-lights-data">' in html
    assert "/vendor/echarts/echarts.min.js" in html
    assert re.search(r"<script>(?!\s*</script>)", html) is None
    # the inspector of the town's office sees the same town
    auth.logout()
    auth.login("qian")
    html = client.get("/supervision").get_data(as_text=True)
    assert "一镇党委" in html and '<tr data-unit="v2">' in html


def test_a_drill_down_lists_only_the_matching_steps(town, client, auth):
    auth.login("sun")
    html = client.get("/supervision/tasks?unit=v2&light=red").get_data(as_text=True)
    page = town.supervised_tasks("sun", unit="v2", light="red")
    assert page.total == 1
    assert re.findall(r'data-task="([^"]+)"', html) == [page.rows[0].task_id]
    # overdue only, across the town
    html = client.get("/supervision/tasks?overdue=1").get_data(as_text=True)
    assert len(re.findall(r'data-task="', html)) == 3
    # bad input is refused or ignored, never a crash
    for query, status in (("light=purple", 422), ("unit=nowhere", 404), ("page=-1", 200),
                          ("page=abc", 200), ("org=nowhere", 404),
                          ("overdue=yes&page=99999999999", 200), ("org=%00&unit=%00", 200)):
        response = client.get(f"/supervision/tasks?{query}")
        assert response.status_code == status, query
    assert "必须是" in client.get("/supervision/tasks?light=purple").get_data(as_text=True)


def test_urging_an_overdue_step_notifies_its_holder(town, client, auth):
    # given: the overdue step of 二村, held by wang
    auth.login("sun")
    step = town.overdue_tasks("sun", unit="v2").rows[0]
    assert step.assignee == "wang"
    # when: one click on 催办
    response = client.post(f"/supervision/tasks/{step.task_id}/urge",
                           data={"next": "/supervision?org=t1"})
    # then: back on the dashboard with the count of people told
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/supervision?org=t1")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已催办，1 人收到提醒" in html
    urged = [n for n in town.notifications("wang") if n.kind == "urge"]
    assert len(urged) == 1
    assert urged[0].task_id == step.task_id and urged[0].sent_by == "sun"
    assert "请抓紧办理" in urged[0].body
    # a typed message replaces the default; the way back stays on this site
    step = [r for r in town.overdue_tasks("sun", unit="v1").rows if r.assignee == "li"][0]
    response = client.post(f"/supervision/tasks/{step.task_id}/urge",
                           data={"next": "https://evil.example/", "message": "限三日内办结"})
    assert response.headers["Location"].endswith("/supervision")
    assert [n.body for n in town.notifications(step.assignee) if n.kind == "urge"] == [
        "限三日内办结"]
    # an unknown step
    response = client.post("/supervision/tasks/no-such-task/urge")
    assert response.status_code == 404


# -- who may see what ---------------------------------------------------------------------

def test_a_village_cadre_is_not_a_supervisor(town, client, auth):
    auth.login("li")
    for path in ("/supervision", "/supervision/tasks", "/ledger", "/ledger/export",
                 "/ledger/import", "/ledger/template", "/circulars", "/circulars/1",
                 "/circulars/1.xlsx"):
        assert client.get(path).status_code == 403, path
    step = town.overdue_tasks("sun").rows[0]
    assert client.post(f"/supervision/tasks/{step.task_id}/urge").status_code == 403
    assert client.post("/circulars", data={"month": "2026-08"}).status_code == 403
    # and signed out, one is sent to sign in
    auth.logout()
    response = client.get("/ledger")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_branch_secretary_supervises_his_own_village_only(town, client, auth):
    auth.login("zhang")
    html = client.get("/supervision").get_data(as_text=True)
    assert "一村党支部" in html and "二村党支部" not in html
    assert '<tr data-unit="v2">' not in html
    v2_step = town.overdue_tasks("sun", unit="v2").rows[0]
    assert v2_step.task_id not in html
    # the ledger: v1's three items, never v2's
    html = client.get("/ledger").get_data(as_text=True)
    assert sorted(numbers(html)) == ["DB-2026-0001", "WT-2026-0001", "WT-2026-0002"]
    assert xlsx_numbers(client.get("/ledger/export").data) == numbers(html)
    # asking for the town or the other village is refused
    for path in ("/supervision?org=t1", "/supervision?org=v2", "/ledger?org=v2",
                 "/ledger/export?org=t1", "/supervision/tasks?org=v2", "/circulars?org=t1"):
        assert client.get(path).status_code == 403, path
    # and he cannot urge 二村's holder
    assert client.post(f"/supervision/tasks/{v2_step.task_id}/urge").status_code == 403
    assert [n for n in town.notifications("wang") if n.kind == "urge"] == []


def test_one_village_never_sees_the_others_circulars(town, client, auth):
    # given: circulars of the town and of each village
    town_circular = town.generate_circular("t1", "2026-09", by="sun")
    v1_circular = town.generate_circular("v1", "2026-09", by="zhang")
    v2_circular = town.generate_circular("v2", "2026-09", by="wang")
    auth.login("wang")
    # then: wang lists and opens his own only
    html = client.get("/circulars").get_data(as_text=True)
    assert f'data-circular="{v2_circular.id}"' in html
    assert f'data-circular="{v1_circular.id}"' not in html
    assert f'data-circular="{town_circular.id}"' not in html
    assert client.get(f"/circulars/{v2_circular.id}").status_code == 200
    for circular in (v1_circular, town_circular):
        assert client.get(f"/circulars/{circular.id}").status_code == 404
        assert client.get(f"/circulars/{circular.id}.xlsx").status_code == 404
    # nor generate one for the other village
    response = client.post("/circulars", data={"org": "v1", "month": "2026-08"})
    assert response.status_code == 403


# -- the ledger ---------------------------------------------------------------------------

def test_the_ledger_shows_every_column_and_the_total(town, client, auth, app):
    auth.login("qian")
    response = client.get("/ledger")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert sorted(numbers(html)) == ["DB-2026-0001", "WT-2026-0001", "WT-2026-0002",
                                     "WT-2026-0003"]
    assert 'data-total="4"' in html
    for header in ("编号", "类型", "问题（事项）", "问题来源", "问题类别", "责任单位", "责任人",
                   "牵头领导", "整改措施", "时限要求", "状态", "灯色", "退回次数", "登记时间",
                   "销号时间"):
        assert f">{header}" in html, header
    assert "2026-09-10" in html and "李四" in html and "上级点" in html
    # paged
    app.config["PAGE_SIZE"] = 3
    first = client.get("/ledger?sort=number").get_data(as_text=True)
    second = client.get("/ledger?sort=number&page=2").get_data(as_text=True)
    assert numbers(first) == ["DB-2026-0001", "WT-2026-0001", "WT-2026-0002"]
    assert numbers(second) == ["WT-2026-0003"]
    assert "page=2" in first and 'rel="next"' in first
    # in English on request
    client.post("/lang/en")
    html = client.get("/supervision").get_data(as_text=True)
    assert "Supervision dashboard" in html and "Overdue steps" in html
    html = client.get("/ledger").get_data(as_text=True)
    assert "Export Excel" in html


LEDGER_FILTERS = [
    ("kind=matter", ["DB-2026-0001"]),
    ("unit=v2", ["WT-2026-0003"]),
    ("light=red&sort=number", ["DB-2026-0001", "WT-2026-0001", "WT-2026-0003"]),
    ("unit=v1&light=green", ["WT-2026-0002"]),
    ("due_month=2026-09&state=open&light=red&sort=-number",
     ["WT-2026-0003", "WT-2026-0001", "DB-2026-0001"]),
    ("search=台账&kind=problem", ["WT-2026-0002"]),
    ("source=群众提", []),
    ("category=村务公开&sort=due", ["WT-2026-0001", "WT-2026-0003", "WT-2026-0002"]),
    ("created_month=2026-09&sort=number", ["DB-2026-0001", "WT-2026-0001", "WT-2026-0002",
                                           "WT-2026-0003"]),
]


def test_ledger_filters_choose_the_rows_and_the_export_has_exactly_them(town, client, auth):
    auth.login("sun")
    for query, expected in LEDGER_FILTERS:
        html = client.get(f"/ledger?{query}").get_data(as_text=True)
        assert numbers(html) == expected, query
        # the export link carries the same filters
        assert "/ledger/export?org=t1&amp;" in html
        response = client.get(f"/ledger/export?{query}")
        assert response.status_code == 200
        assert response.mimetype == XLSX
        assert xlsx_numbers(response.data) == expected, query
    # the file is named in Chinese
    response = client.get("/ledger/export?light=red")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert name == "一镇党委台账-20260915.xlsx"
    assert 'filename="' in disposition  # an ASCII name for old clients


BAD_LEDGER_INPUT = [
    ("due_month=abc", 422, "月份"),
    ("created_month=2026-13", 422, "月份"),
    ("light=purple", 422, "必须是"),
    ("sort=bogus", 422, "必须是"),
    ("page=-1", 200, None),
    ("page=abc", 200, None),
    ("unit=nowhere", 404, None),
    ("search=" + "长" * 150, 422, None),
    ("org=nowhere", 404, None),
    ("org=%00&unit=%00&search=%00&due_month=%00", 200, None),
]


def test_bad_ledger_input_is_refused_clearly_never_a_crash(town, client, auth):
    auth.login("sun")
    for query, status, says in BAD_LEDGER_INPUT:
        response = client.get(f"/ledger?{query}")
        assert response.status_code == status, query
        if says:
            assert says in response.get_data(as_text=True), query
        export = client.get(f"/ledger/export?{query}")
        assert export.status_code == status, query


# -- importing a problem list ---------------------------------------------------------------

HEADER = ["问题（事项）", "问题来源", "问题类别", "责任单位", "责任人", "牵头领导", "整改措施", "时限要求"]


def workbook(*rows) -> bytes:
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client, content: bytes, name: str = "问题清单.xlsx"):
    return client.post("/ledger/import", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_the_template_has_the_header_row_the_import_reads(town, client, auth):
    auth.login("sun")
    response = client.get("/ledger/template")
    assert response.status_code == 200 and response.mimetype == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    header = [c.value for c in sheet[1]]
    assert {"问题（事项）*", "问题来源*", "责任单位*", "时限要求"} <= set(header)
    assert sheet.max_row == 1
    # the import page offers it, to a branch secretary too
    auth.logout()
    auth.login("zhang")
    html = client.get("/ledger/import").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and "/ledger/template" in html


def test_a_good_problem_list_starts_one_problem_per_row(town, client, auth):
    auth.login("sun")
    before = town.ledger("sun").total
    response = upload(client, workbook(
        ("村规民约未修订", "群众提", "村务管理", "v1", "li", "sun", "召开村民代表会议修订", "2026-10-30"),
        ("二村活动阵地标牌缺失", "自己找", "阵地建设", "二村党支部", "王书记", "孙书记", "", "2026/10/31")))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 个问题已登记到台账" in html
    assert re.findall(r'<li data-number="([^"]+)"', html) == ["WT-2026-0004", "WT-2026-0005"]
    assert town.ledger("sun").total == before + 2
    assert [r.title for r in town.ledger("sun", search="村规民约").rows] == ["村规民约未修订"]


def test_a_bad_row_is_shown_by_row_and_column_and_nothing_is_imported(town, client, auth):
    auth.login("sun")
    response = upload(client, workbook(
        ("村规民约未修订", "群众提", "村务管理", "v1", "li", "sun", "修订", "2026-10-30"),
        ("", "领导说", "", "三村党支部", "", "", "", "九月底")))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "没有导入任何内容" in html
    # row 3, every bad cell, in the reader's language
    assert re.findall(r'<tr data-row="(\d+)">', html) == ["3"] * 4
    for column in ("问题（事项）", "问题来源", "责任单位", "时限要求"):
        assert f"<td>{column}</td>" in html, column
    assert "必填" in html and "三村党支部" in html
    assert town.ledger("sun").total == 4


def test_a_file_that_is_not_a_workbook_is_refused_clearly(town, client, auth, app):
    auth.login("sun")
    for name, content, status, says in (
            ("清单.txt", b"just text", 400, "只能导入 Excel"),
            ("清单.xlsx", b"PK\x03\x04 but not really a zip", 422, "不是 Excel 工作簿"),
            ("清单.xlsx", b"", 422, "不是 Excel 工作簿"),
            ("清单.xlsx", workbook(), 422, "表头下没有问题")):
        response = upload(client, content, name)
        assert response.status_code == status, name
        assert says in response.get_data(as_text=True), content[:20]
    assert town.ledger("sun").total == 4
    # a zip bomb dressed as .xlsx is refused without being unpacked
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (101 * 1024 * 1024))
    response = upload(client, out.getvalue())
    assert response.status_code == 422
    assert "拒绝" in response.get_data(as_text=True)
    # no file, and a file above the request limit
    response = client.post("/ledger/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "请选择" in response.get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = upload(client, b"x" * 4096)
    assert response.status_code == 413


# -- circulars ----------------------------------------------------------------------------

@pytest.fixture
def september(world, clock):
    """一村: two problems due in September, both closed on time (100 %);
    二村: two, one closed late and one still open (0 %). Seen on Oct 12."""
    clock.set(bj("2026-09-01T09:00"))
    deploy(world, "p2_problem_rectification")
    a = problem(world, "一村问题甲", "v1", "li", "2026-09-10", by="zhang")
    b = problem(world, "一村问题乙", "v1", "li", "2026-09-30", by="zhang")
    c = problem(world, "二村问题甲", "v2", "wang", "2026-09-10", by="wang")
    problem(world, "二村问题乙", "v2", "wang", "2026-09-30", by="wang")
    clock.set(bj("2026-09-08T10:00"))
    close(world, a, "li")
    close(world, b, "li")
    advance_to(world, clock, bj("2026-09-15T10:00"))
    close(world, c, "wang")
    advance_to(world, clock, bj("2026-10-12T10:00"))
    return world


def test_generating_the_circular_of_last_month_ranks_the_units(september, client, auth):
    auth.login("sun")
    # the form proposes last month
    html = client.get("/circulars").get_data(as_text=True)
    assert 'name="month" value="2026-09"' in html
    # when
    response = client.post("/circulars", data={"org": "t1", "month": "2026-09"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    # then: the printable page ranks 一村 first, 二村 second; the town has nothing due
    assert page.status_code == 200
    assert "通报已生成" in html
    ranks = dict(re.findall(r'<tr data-unit="([^"]+)"><td class="num rank">([^<]+)</td>', html))
    assert ranks == {"v1": "1", "v2": "2", "t1": "—"}
    assert "100.0%" in html and "0.0%" in html and "50.0%" in html
    assert '<script type="application/json" id="trend-data">' in html
    assert "data-print" in html
    # listed, and downloadable as Excel
    circular_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert f'data-circular="{circular_id}"' in client.get("/circulars").get_data(as_text=True)
    excel = client.get(f"/circulars/{circular_id}.xlsx")
    assert excel.status_code == 200 and excel.mimetype == XLSX
    assert "2026-09" in unquote(excel.headers["Content-Disposition"])
    sheet = openpyxl.load_workbook(io.BytesIO(excel.data))["排名"]
    rows = [r for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert [(r[0], r[1]) for r in rows[:2]] == [(1, "一村党支部"), (2, "二村党支部")]


def test_a_bad_month_is_refused_clearly(town, client, auth):
    auth.login("sun")
    for month, says in (("abc", "月份"), ("2026-13", "月份"), ("2026-10", "尚未开始"),
                        ("", "月份")):
        response = client.post("/circulars", data={"org": "t1", "month": month})
        assert response.status_code == 422, month
        assert says in response.get_data(as_text=True), month
    assert town.list_circulars("sun") == []
    assert client.post("/circulars", data={"org": "nowhere", "month": "2026-08"}
                       ).status_code == 404
    # an unknown circular
    assert client.get("/circulars/999").status_code == 404
    assert client.get("/circulars/999.xlsx").status_code == 404


