"""The reads behind the instance pages: who may see an instance, its diagram marks,
its timeline, its incidents, the instance list and what a person may start.

问题整改销号 (processes/p2_problem_rectification.bpmn) runs in the small tree: zhang
(书记 of v1) registers a problem, zhao (组织委员 of t1) sets the responsibilities, li
(村干部 of v1) rectifies; qian sits in the town's supervision office, wang in v2.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import update

from engine import ConflictError, NotFound, PermissionDenied, ValidationError
from engine.models import Job, Person

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
KEY = "problem_rectification"
PROBLEM = {"title": "村务公开栏内容未及时更新", "source": "上级点", "category": "村务公开",
           "description": "三季度财务收支未按时公开"}
ASSIGNED = {"responsible_unit": "v1", "responsible_person": "li", "lead_leader": "sun",
            "measures": "补公开三季度财务收支", "due_date": "2026-03-10"}


@pytest.fixture
def p2(org):
    org.deploy_file(PROCESSES / "p2_problem_rectification.bpmn", by="admin")
    return org


@pytest.fixture
def iid(p2):
    return p2.start(KEY, PROBLEM, by="zhang", org="v1")


def assign(eng, iid: int, *, comment: str | None = None, file: bytes | None = None) -> None:
    task = eng.open_tasks(instance_id=iid)[0]
    if comment:
        eng.add_comment(iid, comment, by="zhao", task_id=task.id)
    if file:
        eng.add_attachment(task.id, "分解表.txt", file, by="zhao")
    eng.complete(task.id, ASSIGNED, by="zhao")


def overdue(eng, clock) -> None:
    clock.set(datetime(2026, 3, 12, 1, tzinfo=timezone.utc))
    eng.fire_due_jobs()


# -- who may see an instance -----------------------------------------------------------

def test_the_people_involved_and_those_above_see_an_instance(p2, iid):
    # given zhang started it in v1 and zhao holds its first task
    for who in ("zhang", "zhao", "sun", "qian", "admin"):
        assert p2.instance_for(who, iid).id == iid, who
    # li: a cadre of v1 holds a role in the instance's organisation
    assert p2.instance_for("li", iid).data["title"] == PROBLEM["title"]


def test_another_village_cannot_tell_an_instance_exists(p2, iid):
    for read in (p2.instance_for, p2.instance_page, p2.diagram, p2.timeline):
        with pytest.raises(NotFound):
            read("wang", iid)
        with pytest.raises(NotFound):
            read("wang", 99999)
    with pytest.raises(NotFound):
        p2.incidents("wang", iid)
    assert p2.instances("wang").total == 0


def copied_to_wang(eng, iid: int) -> None:
    """wang (v2) is copied the instance while he also holds a role in the town, which
    he then gives up: the copy stays his."""
    eng.grant_role("wang", "cadre", "t1")
    eng.copy_to(["wang"], by="zhang", instance_id=iid, note="供参考")
    eng.revoke_role("wang", "cadre", "t1", by="admin")


def test_a_copy_recipient_sees_it(p2, iid):
    copied_to_wang(p2, iid)
    assert p2.instance_for("wang", iid).id == iid
    assert [r.id for r in p2.instances("wang").rows] == [iid]


ASK_OTHER_VILLAGE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:duban="urn:duban:bpmn:1.0" id="d" targetNamespace="t">
  <bpmn:process id="ask_other" name="征求意见" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ask"/>
    <bpmn:userTask id="ask" name="提出意见">
      <bpmn:extensionElements>
        <duban:assignment role="书记" org="data:unit"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_former_candidate_who_never_acted_still_sees_it(org):
    # given a v1 instance whose step was offered to v2's secretary
    org.deploy(ASK_OTHER_VILLAGE, by="admin")
    iid = org.start("ask_other", {"unit": "v2"}, by="zhang", org="v1")
    assert org.open_tasks(instance_id=iid)[0].candidates == ("wang",)
    assert org.instance_for("wang", iid).id == iid
    # when the instance is cancelled, the candidacy rows go with the task
    org.cancel(iid, by="zhang", reason="不再需要")
    assert org.open_tasks(instance_id=iid) == []
    # then the audit trail still says wang was offered it
    assert org.instance_for("wang", iid).id == iid
    assert [e.action for e in org.timeline("wang", iid)][-1] == "instance.cancelled"


def test_an_inactive_person_sees_nothing_of_an_instance_outside_their_organisation(p2, iid):
    copied_to_wang(p2, iid)
    with p2.sessions() as s:
        s.execute(update(Person).where(Person.username == "wang").values(active=False))
        s.commit()
    with pytest.raises(NotFound):
        p2.instance_for("wang", iid)
    assert p2.instances("wang").total == 0


# -- the diagram ------------------------------------------------------------------------

def test_the_diagram_marks_completed_active_and_overdue_steps(p2, iid, clock):
    d = p2.diagram("qian", iid)
    assert "<bpmn:definitions" in d.xml and "bpmndi:BPMNDiagram" in d.xml
    assert (d.process_key, d.version) == (KEY, 1)
    assert {"start", "init"} <= set(d.completed) and d.active == ("assign",)
    assert d.overdue == () and d.failed == ()
    # when the responsibilities are set and the limit passes
    assign(p2, iid)
    overdue(p2, clock)
    d = p2.diagram("qian", iid)
    assert "assign" in d.completed and d.active == ("rectify",) and d.overdue == ("rectify",)
    # a cancelled instance has nothing active
    p2.cancel(iid, by="admin", reason="重复登记")
    d = p2.diagram("qian", iid)
    assert d.active == () and d.overdue == () and "assign" in d.completed


def test_a_failed_step_is_marked_failed(org, deploy):
    deploy("test_approval")
    iid = org.start("approval", by="zhang", org="v1")
    org.complete(org.open_tasks(instance_id=iid)[0].id,
                 {"title": "t", "kind": "a", "count": 0}, by="zhang")
    org.complete(org.open_tasks(instance_id=iid)[0].id, by="zhao")
    d = org.diagram("zhang", iid)
    assert d.failed == ("calc",) and {"fill", "check"} <= set(d.completed)


# -- the timeline -------------------------------------------------------------------------

def test_the_timeline_tells_who_did_what_with_comments_and_files(p2, iid, clock):
    assign(p2, iid, comment="请李四牵头整改", file=b"responsibilities")
    task = p2.open_tasks(instance_id=iid)[0]
    p2.add_comment(iid, "请抓紧", by="sun")
    overdue(p2, clock)
    entries = p2.timeline("zhang", iid)
    actions = [e.action for e in entries]
    assert actions[0] == "instance.started" and entries[0].actor_name == "张书记"
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    done = next(e for e in entries if e.action == "task.completed")
    assert (done.actor, done.actor_name, done.task_name) == ("zhao", "赵委员", "责任分解")
    assert [c.body for c in done.comments] == ["请李四牵头整改"]
    assert [a.filename for a in done.attachments] == ["分解表.txt"]
    # the comment and the file went with the completion, not on lines of their own
    assert actions.count("comment.added") == 1 and "attachment.added" not in actions
    loose = next(e for e in entries if e.action == "comment.added")
    assert loose.actor == "sun" and [c.body for c in loose.comments] == ["请抓紧"]
    created = [e for e in entries if e.action == "task.created"]
    assert created[-1].task_id == task.id and created[-1].people == ("李四",)
    assert created[-1].when is not None
    red = next(e for e in entries if e.action == "task.light_changed")
    assert red.value == "red" and red.task_name == "整改并报告进展"
    assert "notice.sent" not in actions and "instance.data_changed" not in actions
    # and a cancellation says why
    p2.cancel(iid, by="admin", reason="重复登记")
    last = p2.timeline("zhang", iid)[-1]
    assert (last.action, last.actor_name, last.text) == ("instance.cancelled", "管理员", "重复登记")
    assert [e.action for e in p2.timeline("zhang", iid, limit=1)] == ["instance.cancelled"]
    with pytest.raises(ValidationError):
        p2.timeline("zhang", iid, limit=0)


# -- the page, incidents and retrying a job ----------------------------------------------------

def test_the_page_gathers_what_it_shows(p2, iid):
    page = p2.instance_page("zhang", iid)
    assert page.instance.id == iid and page.process_name == "问题整改销号"
    assert (page.org_code, page.org_name, page.started_by_name) == ("v1", "一村党支部", "张书记")
    assert [t.element_id for t in page.tasks] == ["assign"] and page.names["zhao"] == "赵委员"
    assert page.item is not None and page.item.number.startswith("WT-2026-")
    assert page.labels["title"] == "问题标题" and page.timeline
    # zhang started it: he may manage it; li may only look
    assert page.can_manage and page.incidents == ()
    assert not p2.instance_page("li", iid).can_manage
    with pytest.raises(PermissionDenied):
        p2.incidents("li", iid)


def failed_job(eng, iid: int) -> int:
    with eng.sessions() as s:
        job = Job(kind="deliver", instance_id=iid, due_at=eng.clock.now(), payload="{}",
                  state="failed", fence=1, attempts=3, max_attempts=3,
                  last_error="SMTPError: the mail server refused", created_at=eng.clock.now())
        s.add(job)
        s.commit()
        return job.id


def test_incidents_list_the_failure_and_failed_jobs_and_a_manager_retries_one(org, deploy):
    deploy("test_approval")
    iid = org.start("approval", by="zhang", org="v1")
    org.complete(org.open_tasks(instance_id=iid)[0].id,
                 {"title": "t", "kind": "a", "count": 0}, by="zhang")
    org.complete(org.open_tasks(instance_id=iid)[0].id, by="zhao")
    job_id = failed_job(org, iid)
    found = org.incidents("sun", iid)
    assert [i.kind for i in found] == ["instance", "deliver"]
    assert found[0].element_id == "calc" and found[0].element_name == "计算"
    assert "division" in found[0].message and found[1].job_id == job_id
    assert org.instance_page("admin", iid).incidents == found
    # li (a cadre) may not retry, nor may anyone through another instance
    with pytest.raises(PermissionDenied):
        org.retry_instance_job(iid, job_id, by="li")
    other = org.start("approval", by="zhang", org="v1")
    with pytest.raises(NotFound):
        org.retry_instance_job(other, job_id, by="admin")
    job = org.retry_instance_job(iid, job_id, by="sun")
    assert job.state == "pending" and [i.kind for i in org.incidents("sun", iid)] == ["instance"]
    with pytest.raises(ConflictError):
        org.retry_instance_job(iid, job_id, by="sun")


# -- the instance list ---------------------------------------------------------------------

def test_the_list_pages_and_filters_what_one_may_see(p2, iid, deploy):
    deploy("test_approval")
    other = p2.start("approval", by="zhang", org="v1")
    p2.cancel(other, by="zhang", reason="填错")
    mine = p2.instances("zhang")
    assert mine.total == 2 and [r.id for r in mine.rows] == [other, iid]
    row = mine.rows[1]
    assert (row.process_name, row.org_code, row.started_by_name) == ("问题整改销号", "v1", "张书记")
    assert row.item_number is not None and row.item_title == PROBLEM["title"]
    assert [r.id for r in p2.instances("zhang", state="cancelled").rows] == [other]
    assert [r.id for r in p2.instances("zhang", process_key=KEY).rows] == [iid]
    assert p2.instances("sun", org="v2").total == 0 and p2.instances("sun", org="t1").total == 2
    page = p2.instances("admin", limit=1, offset=1)
    assert page.total == 2 and [r.id for r in page.rows] == [iid]
    assert ("approval", "审批") in page.processes and "v1" in {o.code for o in page.orgs}
    with pytest.raises(ValidationError):
        p2.instances("zhang", state="sleeping")
    with pytest.raises(ValidationError):
        p2.instances("zhang", limit=0)
    with pytest.raises(NotFound):
        p2.instances("zhang", org="nowhere")


# -- starting by hand ------------------------------------------------------------------------

def test_what_one_may_start_and_its_form(p2):
    for name in ("p7_monthly_circular", "p9_quarterly_report"):
        p2.deploy_file(PROCESSES / f"{name}.bpmn", by="admin")
    keys = [s.process_key for s in p2.startable("zhang")]
    assert KEY in keys
    # procedures started by a timer are not started by hand
    assert "monthly_circular" not in keys and "quarterly_report" not in keys
    [p] = [s for s in p2.startable("zhang") if s.process_key == KEY]
    assert (p.name, p.start_event_id, p.item_kind) == ("问题整改销号", "start", "problem")
    assert [f["name"] for f in p.form][:3] == ["title", "source", "category"]
    form = p2.start_form("sun", KEY)
    assert form.default_org == "t1" and {"t1", "v1", "v2"} <= {o.code for o in form.orgs}
    assert p2.start_form("zhang", KEY).default_org == "v1"
    assert [o.code for o in p2.start_form("zhang", KEY).orgs] == ["v1"]
    with pytest.raises(NotFound):
        p2.start_form("zhang", "monthly_circular")
    with pytest.raises(NotFound):
        p2.start_form("zhang", "nope")
    p2.add_person("nobody", "无职务")
    assert p2.startable("nobody") == []
    with pytest.raises(NotFound):
        p2.start_form("nobody", KEY)
