"""A cadre's day on a phone: a red task, the form, evidence, a return from the reviewer.

督查督办 (processes/p7_supervision_matter.bpmn): the town's 督查室 (qian) assigns a matter
to 一村 v1, whose secretary zhang must sign for it (签收) within one working day. zhang
opens it late (red), asks for it to be reassigned with a reason and a scanned letter,
and completes it; qian, who holds the next step (改派承办单位), sends it back (退回)
with a reason; zhang finds the 签收 back in 待办, the return in its history.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from tests.e2e.conftest import no_horizontal_scroll, screenshot, sign_in

PROCESS = Path(__file__).resolve().parents[2] / "processes" / "p7_supervision_matter.bpmn"
MATTER = {"title": "落实县委关于秸秆禁烧工作的批示", "category": "批示件", "source": "县委书记",
          "content": "全面排查焚烧隐患，月底前完成", "responsible_unit": "v1",
          "lead_leader": "zhao", "due_date": "2026-03-31", "feedback_interval": "P7D"}
LETTER = b"%PDF-1.4\n% scanned letter\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def a_red_matter_for_zhang(server) -> str:
    """Registered Mon 2 March 09:00; the one-working-day limit ends Tue 23:59; now Wed."""
    eng = server.engine
    eng.deploy_file(PROCESS, by="admin")
    iid = eng.start("supervision_matter", MATTER, by="qian", org="v1")
    (task,) = eng.open_tasks(instance_id=iid)
    server.clock.set(datetime(2026, 3, 4, 1, 0, tzinfo=timezone.utc))
    eng.fire_due_jobs()
    assert eng.get_task(task.id).light == "red"
    return task.id


def test_a_village_secretary_handles_a_red_task_and_gets_it_back(phone, new_page, live_server):
    task_id = a_red_matter_for_zhang(live_server)

    # zhang signs in on his phone: the red task is on top of 待办, light as colour and text
    sign_in(phone, "zhang")
    phone.goto("/inbox")
    first = phone.locator(".inbox-rows > li").first
    assert "签收" in first.inner_text() and "逾期" in first.inner_text()
    assert "light-row-red" in (first.get_attribute("class") or "")
    assert no_horizontal_scroll(phone)
    screenshot(phone, "inbox-phone")

    # he opens it, fills the form and attaches the letter
    first.locator("a.title").click()
    phone.wait_for_url(f"**/tasks/{task_id}")
    assert "逾期" in phone.inner_text(".task-head")
    phone.select_option("#f-sign_decision", "申请改派")
    phone.fill("#f-reassign_reason", "该事项属镇农业办职责，本村无执法权")
    phone.set_input_files("#complete-files", files=[{
        "name": "情况说明.pdf", "mimeType": "application/pdf", "buffer": LETTER}])
    assert no_horizontal_scroll(phone)
    screenshot(phone, "task-phone")
    phone.click("#handle button[type=submit]")
    phone.wait_for_url("**/inbox")
    assert "已办理" in phone.inner_text(".flash")
    assert "没有待办事项" in phone.inner_text("main")

    # the reviewer, who holds the next step, sees the letter and sends the work back
    reviewer = new_page("desktop")
    sign_in(reviewer, "qian")
    reviewer.goto("/inbox")
    screenshot(reviewer, "inbox-desktop")
    reviewer.click(".inbox-rows a.title:has-text('改派承办单位')")
    assert "情况说明.pdf" in reviewer.inner_text("#evidence")
    assert "该事项属镇农业办职责" in reviewer.inner_text(".filled")  # what zhang filled in
    with reviewer.expect_download() as download:
        reviewer.click("#evidence a.file-name")
    assert Path(download.value.path()).read_bytes() == LETTER
    reviewer.click("summary:has-text('退回')")
    reviewer.select_option("#sb-step", "sign")
    reviewer.fill("#sb-reason", "经核实属你村职责，请签收办理")
    screenshot(reviewer, "task-desktop")
    reviewer.click("details.verb[open] button:has-text('确认退回')")
    reviewer.wait_for_url("**/inbox")
    assert "已退回到「签收」" in reviewer.inner_text(".flash")

    # zhang finds 签收 back in 待办, and the return with its reason in the history
    phone.goto("/inbox")
    row = phone.locator(".inbox-rows > li").first
    assert "签收" in row.inner_text()
    row.locator("a.title").click()
    history = phone.inner_text("#timeline")
    assert "退回" in history and "经核实属你村职责，请签收办理" in history
    assert "情况说明.pdf" in phone.inner_text("#evidence")
    assert no_horizontal_scroll(phone)
