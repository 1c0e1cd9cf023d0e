"""The inbox page: 待办 / 已办 / 我发起的 / 抄送我的, filters, paging, notices, and the
extension requests a supervisor decides.

The diagram (tests/engine/data/inbox.bpmn): 填报整改情况 goes to the secretary of the
instance's branch (zhang in v1, wang in v2) within 2 working days; 审核验收 to the
town's 组织委员 zhao.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.time import bj
from tests.web.conftest import as_user

DATA = Path(__file__).resolve().parents[1] / "engine" / "data"
FILLED = {"summary": "已更新", "done": True, "kind": "a"}


@pytest.fixture
def work(world):
    world.deploy((DATA / "inbox.bpmn").read_text(encoding="utf-8"), by="admin")
    return world


def start(eng, by: str = "zhang", org: str = "v1", title: str = "公开栏未更新") -> int:
    return eng.start("inbox_case", {"title": title}, by=by, org=org)


def task_of(eng, iid: int):
    (task,) = eng.open_tasks(instance_id=iid)
    return task


def text(response) -> str:
    return response.get_data(as_text=True)


def test_strangers_are_sent_to_sign_in(client):
    response = client.get("/inbox")
    assert response.status_code == 302 and "/login" in response.location


def test_home_leads_to_the_inbox(work, auth, client):
    auth.login("zhang")
    assert client.get("/").location.endswith("/inbox")


def test_todo_shows_my_tasks_with_counts_and_lights(work, auth, client):
    # given: a problem in v1 (zhang's) and one in v2 (wang's)
    mine = task_of(work, start(work))
    start(work, by="wang", org="v2", title="二村的问题")
    auth.login("zhang")
    # when
    page = text(client.get("/inbox"))
    # then: zhang's task, linked, with its process, item, organisation, light as text
    assert f'href="/tasks/{mine.id}"' in page
    for shown in ("填报整改情况", "收件箱测试", "WT-2026-0001", "公开栏未更新", "一村党支部",
                  "正常", "待签收"):
        assert shown in page, shown
    assert "二村的问题" not in page
    # every tab shows its count
    assert '待办 <span class="count">1</span>' in page
    assert '我发起的 <span class="count">1</span>' in page
    assert '已办 <span class="count">0</span>' in page


def test_red_items_come_first_by_default(work, auth, client, clock):
    # given: an older problem that went overdue, a newer one on track
    start(work, title="早先的问题")
    clock.set(bj("2026-03-05T09:00"))
    start(work, title="新登记的问题")
    work.fire_due_jobs()
    auth.login("zhang")
    page = text(client.get("/inbox"))
    # then: the red one is listed first, with its light as colour and text
    assert page.index("早先的问题") < page.index("新登记的问题")
    assert "light-red" in page and "逾期" in page
    # and sorting by newest puts the new one first
    page = text(client.get("/inbox?sort=created"))
    assert page.index("新登记的问题") < page.index("早先的问题")


def test_done_started_and_copied_tabs(work, auth, client):
    iid = start(work)
    task = task_of(work, iid)
    work.complete(task.id, FILLED, by="zhang")
    other = start(work, title="第二个问题")
    work.copy_to(["li"], by="zhang", instance_id=other, note="请李四知悉")
    auth.login("zhang")
    done = text(client.get("/inbox?tab=done"))
    assert f'/tasks/{task.id}' in done and "办理完成" in done
    started = text(client.get("/inbox?tab=started"))
    assert "当前环节：审核验收" in started and "第二个问题" in started
    # li sees the copy, and marks it read
    li = as_user(client.application, "li")
    copied = text(li.get("/inbox?tab=copied"))
    assert "请李四知悉" in copied and "来自 张书记" in copied
    (copy,) = work.copies("li")
    response = li.post(f"/copies/{copy.id}/read", follow_redirects=True)
    assert "抄送已标为已读" in text(response)
    assert work.copies("li")[0].read_at is not None
    # nobody marks someone else's copy
    assert as_user(client.application, "zhang").post(f"/copies/{copy.id}/read").status_code == 404


def test_filters_narrow_the_list(work, auth, client, clock):
    start(work, title="早先的问题")
    clock.set(bj("2026-03-05T09:00"))
    start(work, title="新登记的问题")
    work.fire_due_jobs()
    auth.login("zhang")
    red = text(client.get("/inbox?light=red"))
    assert "早先的问题" in red and "新登记的问题" not in red
    due = text(client.get("/inbox?due_from=2026-03-06&due_to=2026-03-31"))
    assert "新登记的问题" in due and "早先的问题" not in due
    assert "早先的问题" in text(client.get("/inbox?process=inbox_case&org=v1"))
    # the filters stay in the tab links
    assert "light=red" in red


@pytest.mark.parametrize("query", [
    "page=abc", "page=-3", "page=" + "9" * 40, "light=blue", "org=v2", "process=%00",
    "due_from=2026-13-40", "due_to=abc", "sort=name", "due_from=0001-01-01",
])
def test_bad_query_values_are_ignored(work, auth, client, query):
    start(work)
    auth.login("zhang")
    response = client.get(f"/inbox?{query}")
    assert response.status_code == 200


def test_an_unknown_tab_is_a_bad_request(work, auth, client):
    auth.login("zhang")
    assert client.get("/inbox?tab=trash").status_code == 400


def test_paging(work, auth, client):
    client.application.config["PAGE_SIZE"] = 2
    for n in range(3):
        start(work, title=f"问题{n}")
    auth.login("zhang")
    first = text(client.get("/inbox"))
    assert "第 1 / 2 页" in first or "page=2" in first
    second = text(client.get("/inbox?page=2"))
    assert second.count('class="row ') == 1
    assert "共 3 项" in second
    assert "本页没有内容" in text(client.get("/inbox?page=7"))


def test_notices_show_with_the_unread_count_and_can_be_marked_read(work, auth, client):
    task = task_of(work, start(work))
    work.urge(task.id, by="sun", message="请今天完成")
    auth.login("zhang")
    page = text(client.get("/inbox"))
    assert 'id="notices"' in page and "1 条未读" in page and "请今天完成" in page
    assert f'href="/tasks/{task.id}"' in page
    (notice,) = work.notifications("zhang")
    response = client.post(f"/notices/{notice.id}/read", follow_redirects=True)
    assert "通知已标为已读" in text(response)
    assert work.unread_count("zhang") == 0
    # someone else's notice is not there for wang
    assert as_user(client.application, "wang").post(f"/notices/{notice.id}/read").status_code \
        == 404


def test_a_supervisor_decides_extension_requests_from_the_inbox(work, auth, client):
    task = task_of(work, start(work))
    due = task.due_at
    work.request_extension(task.id, by="zhang", reason="材料未齐", working_days=2)
    sun = as_user(client.application, "sun")
    page = text(sun.get("/inbox"))
    assert "待我审批的延期申请" in page and "材料未齐" in page
    (request,) = work.pending_extension_requests(by="sun")
    # a decision that is neither is refused
    assert sun.post(f"/extension-requests/{request.id}/decide",
                    data={"decision": "maybe"}).status_code == 400
    # wang supervises v2 only
    wang = as_user(client.application, "wang")
    assert wang.post(f"/extension-requests/{request.id}/decide",
                     data={"decision": "approve"}).status_code == 403
    response = sun.post(f"/extension-requests/{request.id}/decide",
                        data={"decision": "approve", "note": "同意", "next": "/inbox"},
                        follow_redirects=True)
    assert "已批准延期" in text(response)
    assert work.get_task(task.id).due_at > due
    # deciding it twice is a conflict, not a crash
    assert sun.post(f"/extension-requests/{request.id}/decide",
                    data={"decision": "reject"}).status_code == 409


def test_a_request_can_be_rejected_or_withdrawn(work, client):
    task = task_of(work, start(work))
    work.request_extension(task.id, by="zhang", reason="材料未齐", working_days=2)
    (request,) = work.pending_extension_requests(by="sun")
    zhang = as_user(client.application, "zhang")
    response = zhang.post(f"/extension-requests/{request.id}/withdraw",
                          data={"next": "https://evil.example/"}, follow_redirects=False)
    assert response.status_code == 302 and response.location == "/inbox"
    work.request_extension(task.id, by="zhang", reason="再次申请", working_days=1)
    (again,) = work.pending_extension_requests(by="sun")
    sun = as_user(client.application, "sun")
    response = sun.post(f"/extension-requests/{again.id}/decide",
                        data={"decision": "reject", "note": "x" * 3000}, follow_redirects=True)
    assert response.status_code == 200 and "审批未保存" in text(response)
    response = sun.post(f"/extension-requests/{again.id}/decide",
                        data={"decision": "reject"}, follow_redirects=True)
    assert "已驳回延期申请" in text(response)


def test_withdraw_from_the_done_list(work, auth, client):
    iid = start(work)
    task = task_of(work, iid)
    work.complete(task.id, FILLED, by="zhang")
    auth.login("zhang")
    done = text(client.get("/inbox?tab=done"))
    assert f'action="/tasks/{task.id}/withdraw"' in done
    response = client.post(f"/tasks/{task.id}/withdraw", follow_redirects=True)
    assert "已撤回" in text(response)
    reopened = task_of(work, iid)
    assert (reopened.element_id, reopened.assignee) == ("fill", "zhang")
    # once the reviewer has acted, there is nothing to withdraw
    work.complete(reopened.id, FILLED, by="zhang")
    work.claim(task_of(work, iid).id, by="zhao")
    assert f'/tasks/{reopened.id}/withdraw' not in text(client.get("/inbox?tab=done"))
    assert client.post(f"/tasks/{reopened.id}/withdraw").status_code == 409
