"""A town secretary's supervision day, in the browser (desktop, then a phone).

Given four problems with September limits — 一村 closes one on time and leaves one
open, 二村 closes one late and leaves one open — and one October problem of 一村
still on track, on Mon Oct 12 the town secretary sun: reads the red count on the
dashboard, urges (催办) an overdue step, filters the ledger and exports it, and
generates September's circular, which ranks 一村 (50 %) before 二村 (0 %).
"""
from __future__ import annotations

import io
from pathlib import Path

import openpyxl

from tests.e2e.conftest import no_horizontal_scroll, screenshot, sign_in
from tests.fixtures.supervision import close, deploy, problem
from tests.fixtures.time import advance_to, bj


def given_september(eng, clock) -> dict[str, int]:
    clock.set(bj("2026-09-01T09:00"))
    deploy(eng, "p2_problem_rectification")
    made = {
        "v1_on_time": problem(eng, "村务公开栏未更新", "v1", "li", "2026-09-10", by="zhang"),
        "v1_open": problem(eng, "党员活动室台账不全", "v1", "li", "2026-09-30", by="zhang"),
        "v2_late": problem(eng, "三会一课记录缺失", "v2", "wang", "2026-09-10", by="wang"),
        "v2_open": problem(eng, "发展党员程序不规范", "v2", "wang", "2026-09-30", by="wang"),
    }
    clock.set(bj("2026-09-08T10:00"))
    close(eng, made["v1_on_time"], "li")          # before its limit of Sep 10
    advance_to(eng, clock, bj("2026-09-15T10:00"))
    close(eng, made["v2_late"], "wang")           # five days after its limit
    advance_to(eng, clock, bj("2026-10-12T09:00"))
    made["v1_october"] = problem(eng, "村级活动场所标识不全", "v1", "li", "2026-10-30",
                                 by="zhang")
    advance_to(eng, clock, bj("2026-10-12T10:00"))
    return made


def rows_of(page) -> list[str]:
    return page.eval_on_selector_all("table.ledger tr[data-number]",
                                     "rows => rows.map(r => r.dataset.number)")


def test_a_supervisors_day(live_server, desktop, new_page):
    eng, clock = live_server.engine, live_server.clock
    given_september(eng, clock)
    board = eng.dashboard("sun")
    assert board.items.red == 2

    # the dashboard: the red count is the engine's, the chart is drawn
    sign_in(desktop, "sun")
    desktop.goto("/supervision")
    assert desktop.inner_text('[data-count="red"]') == str(board.items.red)
    assert desktop.inner_text('[data-count="green"]') == str(board.items.green)
    assert "二村党支部" in desktop.inner_text("table.units")
    desktop.wait_for_selector('[data-chart="unit-lights"][data-drawn="true"] svg')
    screenshot(desktop, "dashboard-desktop")

    # 催办 on 二村's overdue step: its holder is told
    step = eng.overdue_tasks("sun", unit="v2").rows[0]
    desktop.click(f'#overdue tr[data-task="{step.task_id}"] button.urge')
    desktop.wait_for_load_state("networkidle")
    assert "已催办，1 人收到提醒" in desktop.inner_text(".flash")
    urged = [n for n in eng.notifications("wang") if n.kind == "urge"]
    assert [(n.task_id, n.sent_by) for n in urged] == [(step.task_id, "sun")]

    # the ledger, filtered to 二村, then exported: the file holds exactly those rows
    desktop.click("nav.mainnav >> text=台账")
    desktop.select_option("select[name=unit]", "v2")
    desktop.click(".ledger-filters button[type=submit]")
    desktop.wait_for_load_state("networkidle")
    shown = rows_of(desktop)
    assert sorted(shown) == sorted(r.number for r in eng.ledger("sun", unit="v2").rows)
    assert len(shown) == 2
    screenshot(desktop, "ledger-desktop")
    with desktop.expect_download() as download:
        desktop.click("[data-export]")
    assert download.value.suggested_filename.endswith(".xlsx")
    content = Path(download.value.path()).read_bytes()
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert [r[0] for r in sheet.iter_rows(min_row=3, values_only=True) if r[0]] == shown

    # September's circular: proposed by default, generated, ranked as the data says
    desktop.click("nav.mainnav >> text=通报")
    assert desktop.input_value("input[name=month]") == "2026-09"
    desktop.click("form.generate button[type=submit]")
    desktop.wait_for_selector("table.ranking")
    ranks = {unit: desktop.inner_text(f'table.ranking tr[data-unit="{unit}"] td.rank')
             for unit in ("v1", "v2")}
    assert ranks == {"v1": "1", "v2": "2"}
    assert "50.0%" in desktop.inner_text('table.ranking tr[data-unit="v1"]')
    assert "0.0%" in desktop.inner_text('table.ranking tr[data-unit="v2"]')
    desktop.wait_for_selector('[data-chart="trend"][data-drawn="true"] svg')
    screenshot(desktop, "circular-desktop")

    # the same dashboard on a phone: nothing wider than the screen
    phone = new_page("phone")
    sign_in(phone, "sun")
    phone.goto("/supervision")
    phone.wait_for_selector('[data-chart="unit-lights"][data-drawn="true"] svg')
    assert phone.inner_text('[data-count="red"]') == str(board.items.red)
    assert no_horizontal_scroll(phone)
    screenshot(phone, "dashboard-phone")
    for path in ("/ledger", "/circulars", "/supervision/tasks?overdue=1"):
        phone.goto(path)
        assert no_horizontal_scroll(phone), path
