"""The instance pages: the page, its diagram data, the list, the managers' actions and
starting a process (发起) — and the wall between villages.

zhang (书记 of v1) starts 问题整改销号 in v1; zhao (组织委员 of t1) holds its first
step; li is a cadre of v1 (he sees the instance, may not manage it); wang is the
secretary of v2 and must learn nothing about v1's instances.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, Job
from tests.web.conftest import as_user

ROOT = Path(__file__).resolve().parents[2]
KEY = "problem_rectification"
PROBLEM = {"title": "村务公开栏内容未及时更新", "source": "上级点", "category": "村务公开",
           "description": "三季度财务收支未按时公开"}


@pytest.fixture
def iid(world):
    world.deploy_file(ROOT / "processes" / "p2_problem_rectification.bpmn", by="admin")
    return world.start(KEY, PROBLEM, by="zhang", org="v1")


@pytest.fixture
def failed(world):
    """An instance of the test approval that failed in its script step (count 0)."""
    world.deploy_file(ROOT / "tests" / "bpmn" / "data" / "test_approval.bpmn", by="admin")
    iid = world.start("approval", by="zhang", org="v1")
    world.complete(world.open_tasks(instance_id=iid)[0].id,
                   {"title": "t", "kind": "a", "count": 0}, by="zhang")
    world.complete(world.open_tasks(instance_id=iid)[0].id, by="zhao")
    assert world.get_instance(iid).state == "failed"
    return iid


def audit(eng, action: str) -> list[tuple[str, int | None, dict]]:
    with eng.sessions() as s:
        rows = s.execute(select(AuditEvent.actor, AuditEvent.instance_id, AuditEvent.detail)
                         .where(AuditEvent.action == action).order_by(AuditEvent.seq)).all()
    return [(actor, instance, json.loads(detail)) for actor, instance, detail in rows]


def text(response) -> str:
    return response.get_data(as_text=True)


# -- the page ------------------------------------------------------------------------------

def test_the_page_shows_the_instance_its_tasks_timeline_and_data(app, iid, world):
    page = as_user(app, "zhang").get(f"/instances/{iid}")
    assert page.status_code == 200
    html = text(page)
    task = world.open_tasks(instance_id=iid)[0]
    assert PROBLEM["title"] in html and "问题整改销号" in html and "WT-2026-0001" in html
    assert f'href="/tasks/{task.id}"' in html and "责任分解" in html and "赵委员" in html
    assert "张书记 发起了流程" in html  # the timeline, in Chinese
    assert "问题描述" in html and PROBLEM["description"] in html  # data under its form label
    assert 'data-src="/instances/%d/diagram"' % iid in html
    assert "bpmn-navigated-viewer.production.min.js" in html and "<script>" not in html
    # zhang started it, so he may manage it; li may only look
    assert "撤销流程" in html
    li = text(as_user(app, "li").get(f"/instances/{iid}"))
    assert PROBLEM["title"] in li and "撤销流程" not in li and "挂起" not in li


def test_the_diagram_data_marks_the_steps(app, iid, world):
    zhao = as_user(app, "zhao")
    world.complete(world.open_tasks(instance_id=iid)[0].id, {
        "responsible_unit": "v1", "responsible_person": "li", "lead_leader": "sun",
        "measures": "补公开", "due_date": "2026-03-03"}, by="zhao")
    world.clock.set(world.clock.now().replace(day=5))
    world.fire_due_jobs()
    response = zhao.get(f"/instances/{iid}/diagram")
    assert response.status_code == 200 and response.content_type == "application/json"
    data = response.get_json()
    assert "<bpmn:definitions" in data["xml"] and "assign" in data["completed"]
    assert data["active"] == ["rectify"] and data["overdue"] == ["rectify"]
    page = text(zhao.get(f"/instances/{iid}"))
    assert "赵委员 办理了「责任分解」" in page and "「整改并报告进展」亮红灯" in page


def test_another_village_learns_nothing(app, iid, world):
    wang = as_user(app, "wang")
    for path in (f"/instances/{iid}", f"/instances/{iid}/diagram"):
        response = wang.get(path)
        assert response.status_code == 404, path
        assert PROBLEM["title"] not in text(response) and "bpmn" not in text(response)
    assert wang.get(f"/instances/{iid}/diagram",
                    headers={"Accept": "application/json"}).status_code == 404
    assert PROBLEM["title"] not in text(wang.get("/instances"))
    for verb in ("suspend", "resume", "retry"):
        assert wang.post(f"/instances/{iid}/{verb}").status_code in (403, 404), verb
    assert wang.post(f"/instances/{iid}/cancel", data={"reason": "x"}).status_code in (403, 404)
    assert world.get_instance(iid).state == "running"
    assert audit(world, "instance.cancelled") == [] and audit(world, "instance.suspended") == []


def test_bad_ids_are_not_found(app, iid):
    zhang = as_user(app, "zhang")
    for path in ("/instances/abc", "/instances/99999", "/instances/99999999999999999999",
                 "/instances/-1", "/instances/abc/diagram", "/instances/99999/diagram"):
        assert zhang.get(path).status_code == 404, path
    assert zhang.post("/instances/99999/suspend").status_code == 404
    assert zhang.post(f"/instances/{iid}/jobs/99999/retry").status_code == 404


# -- the managers' actions --------------------------------------------------------------------

def test_the_starter_suspends_resumes_and_cancels_with_a_reason(app, iid, world):
    zhang = as_user(app, "zhang")
    response = zhang.post(f"/instances/{iid}/suspend")
    assert response.status_code == 302 and response.location.endswith(f"/instances/{iid}")
    assert world.get_instance(iid).state == "suspended"
    assert "流程已挂起" in text(zhang.get(f"/instances/{iid}"))
    assert zhang.post(f"/instances/{iid}/suspend").status_code == 409  # already suspended
    assert zhang.post(f"/instances/{iid}/resume").status_code == 302
    assert world.get_instance(iid).state == "running"
    # a cancellation needs a reason: the page comes back with the field marked
    response = zhang.post(f"/instances/{iid}/cancel", data={"reason": "  "})
    assert response.status_code == 422 and "撤销流程须填写理由" in text(response)
    assert world.get_instance(iid).state == "running"
    assert zhang.post(f"/instances/{iid}/cancel").status_code == 422
    response = zhang.post(f"/instances/{iid}/cancel", data={"reason": "重复登记"})
    assert response.status_code == 302 and world.get_instance(iid).state == "cancelled"
    assert "流程已撤销" in text(zhang.get(f"/instances/{iid}"))
    assert [(a, i) for a, i, _d in audit(world, "instance.suspended")] == [("zhang", iid)]
    assert [(a, i, d["reason"]) for a, i, d in audit(world, "instance.cancelled")] == [
        ("zhang", iid, "重复登记")]


def test_a_cadre_may_not_manage(app, iid, world):
    li = as_user(app, "li")
    assert li.post(f"/instances/{iid}/suspend").status_code == 403
    assert li.post(f"/instances/{iid}/cancel", data={"reason": "x"}).status_code == 403
    assert world.get_instance(iid).state == "running"


def test_a_failed_instance_and_its_failed_jobs_are_retried(app, failed, world):
    with world.sessions() as s:
        job = Job(kind="deliver", instance_id=failed, due_at=world.clock.now(), payload="{}",
                  state="failed", fence=1, attempts=3, max_attempts=3,
                  last_error="SMTPError: refused", created_at=world.clock.now())
        s.add(job)
        s.commit()
        job_id = job.id
    zhang = as_user(app, "zhang")
    page = text(zhang.get(f"/instances/{failed}"))
    assert "异常" in page and "division" in page and "SMTPError: refused" in page
    assert "SMTPError" not in text(as_user(app, "li").get(f"/instances/{failed}"))
    # retrying the step unchanged fails again, and says so
    response = zhang.post(f"/instances/{failed}/retry", follow_redirects=True)
    assert "仍然出错" in text(response) and world.get_instance(failed).state == "failed"
    response = zhang.post(f"/instances/{failed}/jobs/{job_id}/retry")
    assert response.status_code == 302
    assert [j.id for j in world.list_jobs(failed=True)] == []
    assert [(a, d["job_id"]) for a, _i, d in audit(world, "job.retried")] == [("zhang", job_id)]
    assert as_user(app, "li").post(f"/instances/{failed}/jobs/{job_id}/retry").status_code == 403


# -- the list -------------------------------------------------------------------------------

def test_the_list_filters_and_pages(app, iid, world):
    other = world.start(KEY, {**PROBLEM, "title": "另一个问题"}, by="zhang", org="v1")
    world.cancel(other, by="zhang", reason="重复")
    zhang = as_user(app, "zhang")
    html = text(zhang.get("/instances"))
    assert PROBLEM["title"] in html and "另一个问题" in html and "共 2 件" in html
    html = text(zhang.get("/instances?state=cancelled"))
    assert "另一个问题" in html and PROBLEM["title"] not in html
    assert PROBLEM["title"] in text(zhang.get(f"/instances?process={KEY}&org=v1"))
    for query in ("page=abc", "page=-3", "page=99999999999", "state=bogus", "process=%00",
                  "org=%00", "state=%3Cscript%3E"):
        assert zhang.get(f"/instances?{query}").status_code < 500, query
    assert zhang.get("/instances?org=nowhere").status_code == 404
    app.config["PAGE_SIZE"] = 1
    assert "另一个问题" in text(zhang.get("/instances"))
    html = text(zhang.get("/instances?page=2"))
    assert PROBLEM["title"] in html and "另一个问题" not in html
    assert "共 0 件" in text(as_user(app, "wang").get("/instances"))


# -- starting a process ---------------------------------------------------------------------

def test_start_a_process_from_its_form(app, iid, world):
    zhang = as_user(app, "zhang")
    html = text(zhang.get("/start"))
    assert "问题整改销号" in html and f'href="/start/{KEY}"' in html
    form = text(zhang.get(f"/start/{KEY}"))
    assert 'name="title"' in form and 'name="source"' in form and "上级点（上级点题）" in form
    assert 'name="problem_files"' not in form  # evidence goes on a task's page
    # bad values come back by field, with what was typed kept, and nothing starts
    before = world.instances("admin").total
    response = zhang.post(f"/start/{KEY}", data={"title": "半截标题", "source": "不存在",
                                                 "found_on": "2026-13-40"})
    assert response.status_code == 422
    html = text(response)
    assert 'id="f-description-error">必填' in html and 'id="f-source-error"' in html
    assert 'id="f-found_on-error"' in html and 'value="半截标题"' in html
    assert world.instances("admin").total == before
    response = zhang.post(f"/start/{KEY}", data={**PROBLEM, "_org": "v1", "found_on": ""})
    assert response.status_code == 302
    new = int(response.location.rsplit("/", 1)[1])
    assert world.get_instance(new).data["title"] == PROBLEM["title"]
    assert "已发起：问题整改销号" in text(zhang.get(f"/instances/{new}"))


def test_start_refuses_what_may_not_be_started(app, iid, world):
    world.deploy_file(ROOT / "processes" / "p7_monthly_circular.bpmn", by="admin")
    zhang = as_user(app, "zhang")
    assert "monthly_circular" not in text(zhang.get("/start"))
    assert zhang.get("/start/monthly_circular").status_code == 404
    assert zhang.get("/start/nope").status_code == 404
    assert zhang.post("/start/nope", data={"title": "x"}).status_code == 404
    # wang may not start for v1
    response = as_user(app, "wang").post(f"/start/{KEY}", data={**PROBLEM, "_org": "v1"})
    assert response.status_code == 403
    assert as_user(app, "wang").post(f"/start/{KEY}",
                                     data={**PROBLEM, "_org": "nowhere"}).status_code == 404


def test_strangers_are_sent_to_sign_in(client, iid):
    for path in (f"/instances/{iid}", "/instances", "/start", f"/start/{KEY}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location, path
    assert client.post(f"/instances/{iid}/cancel", data={"reason": "x"}).status_code == 302
