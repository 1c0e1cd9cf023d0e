"""问题整改销号 (processes/p2_problem_rectification.bpmn): every path, with simulated 2026 time.

One instance is one problem on the ledger (WT-2026-…). It concerns 东村党支部 v1: the
branch secretary zhang registers it, the town's 组织委员 zhao decomposes the
responsibility and checks the work, the village cadre li rectifies, sun (the town's
书记 and 领导) is the lead leader, ji (纪委书记) records accountability.

Working days used below (2026): Mid-autumn Fri Sep 25 – Sun Sep 27 and National Day
Oct 1–7 are off; Sun Sep 20 and Sat Oct 10 are make-up working days.
"""
from __future__ import annotations

import pytest

from engine import ValidationError
from tests.fixtures.time import BJ, advance_to, bj, end_of
from tests.fixtures.walk import completed, open_elements

KEY = "problem_rectification"
PROBLEM = {"title": "村务公开栏内容未及时更新", "source": "上级点", "category": "村务公开",
           "description": "三季度财务收支未按时公开"}
ASSIGNED = {"responsible_unit": "v1", "responsible_person": "li", "lead_leader": "sun",
            "measures": "补公开三季度财务收支，建立按月公开台账", "due_date": "2026-09-30"}
APPLIED = {"completion_summary": "已补公开并建立台账", "completed_on": "2026-09-22",
           "evidence": ["att-photo-1", "att-ledger-2"]}
PUBLISHED = {"publish_channels": ["村务公开栏", "村民微信群"], "publish_content": "整改已销号",
             "published_on": "2026-09-25"}


def progress(percent: int, next_step: str = "继续整改") -> dict:
    return {"progress": f"已完成 {percent}%", "completion_percent": percent,
            "next_step": next_step}


def review(conclusion: str, comment: str, *, poor: bool = False, new_due: str | None = None):
    data = {"conclusion": conclusion, "review_comment": comment, "poor_performance": poor}
    if new_due:
        data["new_due_date"] = new_due
    return data


def task_of(eng, iid: int, element: str):
    found = [t for t in eng.open_tasks(instance_id=iid) if t.element_id == element]
    assert len(found) == 1, open_elements(eng, iid)
    return found[0]


def finish(eng, iid: int, element: str, data: dict | None, by: str):
    eng.complete(task_of(eng, iid, element).id, data or {}, by=by)


def notices(eng, who: str) -> list[tuple[str, int | None, str]]:
    return [(n.kind, n.level, n.created_at.astimezone(BJ).strftime("%m-%d %H:%M"))
            for n in reversed(eng.notifications(who))]


REGISTERED = ["start", "init", "assign", "merge_rectify"]
ONE_ROUND = ["rectify", "record_progress", "next_step_gw"]
APPLY = ["apply_close", "review", "record_review", "decide"]
CLOSE = ["close", "split_accountability", "publish", "publication_period",
         "publication_result", "join_accountability", "objection"]


@pytest.fixture
def p2(procedure, town, clock):
    # Tue 2026-09-01 09:00
    clock.set(bj("2026-09-01T09:00"))
    procedure("p2_problem_rectification")
    return town


def registered_and_assigned(eng, clock) -> int:
    """Registered Tue Sep 1; responsibilities set Wed Sep 2 with a limit of Sep 30."""
    iid = eng.start(KEY, PROBLEM, by="zhang", org="v1")
    clock.set(bj("2026-09-02T10:00"))
    finish(eng, iid, "assign", ASSIGNED, by="zhao")
    return iid


def test_the_file_deploys_as_duban_deploy_would(procedure):
    # given / when: the shipped file is deployed twice
    first = procedure("p2_problem_rectification")
    again = procedure("p2_problem_rectification")
    # then: one process, named in Chinese; identical XML is not a new version
    assert (first.process_key, first.name, first.version) == (KEY, "问题整改销号", 1)
    assert (again.version, again.created) == (1, False)


@pytest.mark.parametrize("data, field", [
    ({**PROBLEM, "source": "领导说"}, "source"),
    ({k: v for k, v in PROBLEM.items() if k != "description"}, "description"),
    ({**PROBLEM, "title": ""}, "title"),
    ({**PROBLEM, "found_on": "九月一日"}, "found_on"),
])
def test_registration_refuses_a_bad_form(p2, data, field):
    # when: the start form is filled in wrongly
    with pytest.raises(ValidationError) as err:
        p2.start(KEY, data, by="zhang", org="v1")
    # then: the bad field is named and nothing was started
    assert field in err.value.fields
    assert p2.items(org="v1") == []


def test_a_problem_from_registration_to_closing_and_publication(p2, clock):
    eng = p2
    # given: Tue Sep 1, the branch secretary registers a problem named by a superior,
    # with the four fields the demo data uses and the optional ones
    iid = eng.start(KEY, {**PROBLEM, "found_on": "2026-08-28", "raised_by": "县委巡察组"},
                    by="zhang", org="v1")
    item = eng.get_item(instance_id=iid)
    assert (item.number, item.kind, item.state, item.source) == (
        "WT-2026-0001", "problem", "assigned", "上级点")

    # then: 责任分解 goes to the town's 组织委员, 3 working days: Sep 2, 3, 4
    assign = task_of(eng, iid, "assign")
    assert (assign.assignee, assign.candidates) == (None, ("zhao",))
    assert (assign.due_at, assign.warn_at) == (end_of("2026-09-04"), end_of("2026-09-03"))

    # when: Wed Sep 2 the responsibility is set with a limit of Sep 30
    clock.set(bj("2026-09-02T10:00"))
    finish(eng, iid, "assign", ASSIGNED, by="zhao")

    # then: the person responsible has 整改 until the limit, warned 3 working days
    # before it (Sep 29, 28, 24: Mid-autumn Sep 25–27 is off)
    rectify = task_of(eng, iid, "rectify")
    assert (rectify.assignee, rectify.due_at, rectify.warn_at) == (
        "li", end_of("2026-09-30"), end_of("2026-09-24"))
    item = eng.get_item(instance_id=iid)
    assert (item.state, item.responsible_unit, item.lead_leader, str(item.due_date)) == (
        "rectifying", "v1", "sun", "2026-09-30")

    # when: two staged progress reports, then the work is done (Sep 9, 16, 22)
    for day, percent in (("09", 30), ("16", 70)):
        clock.set(bj(f"2026-09-{day}T16:00"))
        finish(eng, iid, "rectify", progress(percent), by="li")
        # each round is a new 整改 task with the same limit
        assert task_of(eng, iid, "rectify").due_at == end_of("2026-09-30")
    clock.set(bj("2026-09-22T16:00"))
    finish(eng, iid, "rectify", progress(100, "申请销号"), by="li")

    # then: 申请销号 is his, 2 working days (Sep 23, 24), evidence required
    apply = task_of(eng, iid, "apply_close")
    assert (apply.assignee, apply.due_at) == ("li", end_of("2026-09-24"))
    with pytest.raises(ValidationError) as err:
        eng.complete(apply.id, {**APPLIED, "evidence": []}, by="li")
    assert "evidence" in err.value.fields

    # when: Wed Sep 23 he applies with the evidence
    clock.set(bj("2026-09-23T09:00"))
    finish(eng, iid, "apply_close", APPLIED, by="li")

    # then: 审核验收 is the 组织委员's, 5 working days: Sep 24, 28, 29, 30, Oct 8
    check = task_of(eng, iid, "review")
    assert (check.candidates, check.due_at) == (("zhao",), end_of("2026-10-08"))
    assert eng.get_item(instance_id=iid).state == "reviewing"

    # when: Thu Sep 24 it is accepted
    clock.set(bj("2026-09-24T10:00"))
    finish(eng, iid, "review", review("通过", "整改到位"), by="zhao")

    # then: the item is closed (销号) at acceptance; the branch secretary publishes it
    # within 2 working days (Sep 28, 29)
    item = eng.get_item(instance_id=iid)
    assert (item.state, item.closed_at, item.returns) == ("closed", clock.now(), 0)
    publish = task_of(eng, iid, "publish")
    assert (publish.candidates, publish.due_at) == (("zhang",), end_of("2026-09-29"))

    # when: published Fri Sep 25 11:00, the 7-day publication period runs
    clock.set(bj("2026-09-25T11:00"))
    finish(eng, iid, "publish", PUBLISHED, by="zhang")
    assert open_elements(eng, iid) == []
    advance_to(eng, clock, bj("2026-10-02T10:59"))
    assert open_elements(eng, iid) == []
    advance_to(eng, clock, bj("2026-10-02T11:00"))

    # then: Fri Oct 2 11:00 the result is confirmed by the 组织委员, 2 working days
    # after the National Day holiday: Oct 8, 9
    result = task_of(eng, iid, "publication_result")
    assert (result.candidates, result.due_at) == (("zhao",), end_of("2026-10-09"))
    clock.set(bj("2026-10-08T09:00"))
    finish(eng, iid, "publication_result", {"objections": "无异议"}, by="zhao")

    # then: closed and published, in this order, and every report is kept
    assert completed(eng, iid) == [*REGISTERED, *ONE_ROUND, "merge_rectify", *ONE_ROUND,
                                   "merge_rectify", *ONE_ROUND, *APPLY, *CLOSE, "end_closed"]
    inst = eng.get_instance(iid)
    assert (inst.state, inst.light) == ("completed", None)
    assert [r["percent"] for r in inst.data["progress_reports"]] == [30, 70, 100]
    assert inst.data["review_rounds"] == [{"round": 1, "conclusion": "通过", "comment": "整改到位",
                                           "poor_performance": False}]
    assert "accountability" not in [e.element_id for e in eng.history(iid)]
    assert eng.list_jobs() == []
    assert eng.verify_audit().ok


def test_sent_back_twice_each_round_is_kept_then_accepted(p2, clock):
    eng = p2
    # given: a problem applied for closing on Tue Sep 8
    iid = registered_and_assigned(eng, clock)
    clock.set(bj("2026-09-08T09:00"))
    finish(eng, iid, "rectify", progress(100, "申请销号"), by="li")
    finish(eng, iid, "apply_close", APPLIED, by="li")

    # when: the check sends it back with reasons, keeping the limit
    finish(eng, iid, "review", review("退回", "台账不全，缺二季度"), by="zhao")

    # then: 整改 again, same person, same limit; the item counts one return
    rectify = task_of(eng, iid, "rectify")
    assert (rectify.assignee, rectify.due_at) == ("li", end_of("2026-09-30"))
    item = eng.get_item(instance_id=iid)
    assert (item.state, item.returns) == ("rectifying", 1)

    # when: applied again, and sent back a second time with a new limit of Oct 20
    finish(eng, iid, "rectify", progress(100, "申请销号"), by="li")
    finish(eng, iid, "apply_close", APPLIED, by="li")
    finish(eng, iid, "review", review("退回", "佐证照片不清晰", new_due="2026-10-20"),
           by="zhao")

    # then: the new limit is the item's and the task's
    assert task_of(eng, iid, "rectify").due_at == end_of("2026-10-20")
    item = eng.get_item(instance_id=iid)
    assert (item.returns, str(item.due_date)) == (2, "2026-10-20")

    # when: the third application is accepted
    finish(eng, iid, "rectify", progress(100, "申请销号"), by="li")
    finish(eng, iid, "apply_close", APPLIED, by="li")
    finish(eng, iid, "review", review("通过", "整改到位"), by="zhao")
    finish(eng, iid, "publish", PUBLISHED, by="zhang")
    advance_to(eng, clock, bj("2026-09-16T09:00"))
    finish(eng, iid, "publication_result", {"objections": "无异议"}, by="zhao")

    # then: the history keeps every round, in order
    back = ["send_back", "merge_rectify", *ONE_ROUND]
    assert completed(eng, iid) == [*REGISTERED, *ONE_ROUND, *APPLY, *back, *APPLY, *back,
                                   *APPLY, *CLOSE, "end_closed"]
    data = eng.get_instance(iid).data
    assert [(r["round"], r["conclusion"], r["comment"]) for r in data["review_rounds"]] == [
        (1, "退回", "台账不全，缺二季度"), (2, "退回", "佐证照片不清晰"), (3, "通过", "整改到位")]
    assert (data["due_date"], data["new_due_date"]) == ("2026-10-20", None)
    item = eng.get_item(instance_id=iid)
    assert (item.state, item.returns) == ("closed", 2)


@pytest.mark.parametrize("accountability_first", [True, False])
def test_poor_performance_goes_to_the_discipline_secretary_beside_the_publication(
        p2, clock, accountability_first):
    eng = p2
    # given: a check that finds 办结不力 and sends the problem back
    iid = registered_and_assigned(eng, clock)
    finish(eng, iid, "rectify", progress(100, "申请销号"), by="li")
    finish(eng, iid, "apply_close", APPLIED, by="li")
    finish(eng, iid, "review", review("退回", "敷衍整改", poor=True, new_due="2026-10-16"),
           by="zhao")
    # nothing for the 纪委 yet: the finding is noted on the item until it is closed
    assert open_elements(eng, iid) == ["rectify"]

    # when: the next round is accepted (not flagged again)
    finish(eng, iid, "rectify", progress(100, "申请销号"), by="li")
    finish(eng, iid, "apply_close", APPLIED, by="li")
    clock.set(bj("2026-09-03T09:00"))
    finish(eng, iid, "review", review("通过", "整改到位"), by="zhao")

    # then: the 纪委书记 records accountability, 10 working days (Sep 4 … Sep 17),
    # while the branch publishes the closing
    assert open_elements(eng, iid) == ["accountability", "publish"]
    record = task_of(eng, iid, "accountability")
    assert (record.candidates, record.due_at) == (("ji",), end_of("2026-09-17"))
    assert eng.get_item(instance_id=iid).state == "closed"

    # when: both branches finish, in either order
    accountability = {"accountable_persons": "李干部", "poor_performance_facts": "首轮敷衍整改",
                      "accountability_measure": "提醒谈话"}
    if accountability_first:
        finish(eng, iid, "accountability", accountability, by="ji")
    finish(eng, iid, "publish", PUBLISHED, by="zhang")
    advance_to(eng, clock, bj("2026-09-12T09:00"))
    finish(eng, iid, "publication_result", {"objections": "无异议"}, by="zhao")
    if not accountability_first:
        # the procedure waits for the record before it ends
        assert eng.get_instance(iid).state == "running"
        finish(eng, iid, "accountability", accountability, by="ji")

    # then: it ends once, with the latest data of the main path kept
    history = completed(eng, iid)
    assert history[-3:] == ["join_accountability", "objection", "end_closed"]
    assert history.count("accountability") == 1
    inst = eng.get_instance(iid)
    assert inst.state == "completed"
    assert (inst.data["due_date"], inst.data["conclusion"], inst.data["accountability_measure"]) \
        == ("2026-10-16", "通过", "提醒谈话")
    assert [r["poor_performance"] for r in inst.data["review_rounds"]] == [True, False]


def test_an_objection_during_publication_is_recorded_and_registered_anew(p2, clock):
    eng = p2
    # given: a closed, published problem
    iid = registered_and_assigned(eng, clock)
    finish(eng, iid, "rectify", progress(100, "申请销号"), by="li")
    finish(eng, iid, "apply_close", APPLIED, by="li")
    finish(eng, iid, "review", review("通过", "整改到位"), by="zhao")
    finish(eng, iid, "publish", PUBLISHED, by="zhang")
    advance_to(eng, clock, bj("2026-09-10T09:00"))

    # when: the public objected during the publication period
    finish(eng, iid, "publication_result",
           {"objections": "有异议", "objection_detail": "群众反映公开内容不全，已另行登记为新问题"},
           by="zhao")

    # then: the outcome is named; the item stays closed (a new problem carries the rest)
    assert completed(eng, iid)[-2:] == ["objection", "end_objection"]
    assert eng.get_instance(iid).state == "completed"
    assert eng.get_item(instance_id=iid).state == "closed"


def test_an_overdue_rectification_is_supervised_by_the_lead_leader_then_the_county(p2, clock):
    eng = p2
    # given: the limit is Wed Sep 30 and nobody applies for closing
    iid = registered_and_assigned(eng, clock)
    rectify = task_of(eng, iid, "rectify")

    # when: time runs to Tue Oct 13
    advance_to(eng, clock, bj("2026-10-13T10:00"))

    # then: reminded on Sep 24, overdue at the end of Sep 30; 督办 to the lead leader
    # named on the item at once, then to the 领导 above (county) two working days later:
    # Oct 8, Oct 9 (Oct 1–7 are off)
    rectify = task_of(eng, iid, "rectify")
    assert (rectify.light, rectify.escalation_level) == ("red", 2)
    assert notices(eng, "li") == [("remind", None, "09-24 23:59"),
                                  ("overdue", None, "09-30 23:59")]
    assert notices(eng, "sun") == [("escalate", 1, "09-30 23:59")]
    assert notices(eng, "liu") == [("escalate", 2, "10-09 23:59")]
    item = eng.get_item(instance_id=iid)
    assert (item.state, item.light) == ("rectifying", "red")
    assert [i.number for i in eng.items(org="t1", light="red")] == [item.number]

    # when: a progress report is filed late; the next round keeps the overdue limit
    finish(eng, iid, "rectify", progress(80), by="li")
    again = task_of(eng, iid, "rectify")
    assert (again.due_at, again.light) == (end_of("2026-09-30"), "red")
