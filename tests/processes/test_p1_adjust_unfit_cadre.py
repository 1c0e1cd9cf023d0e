"""调整不胜任现职村干部 (processes/p1_adjust_unfit_cadre.bpmn) walked through every path.

DOMAIN.md §1, seeds 001 二.10 and 002 二.二. The town of tests/processes/conftest.py:
zhao is the town's 组织委员 (he leads and records the village meetings), sun the town's
书记 and 领导 (镇党委会议, 复核), zhang the 书记 of 东村 (v1), li a 村干部 of 东村, liu the
county's 领导. Dates are Beijing time in 2026: Mid-autumn Sep 25–27 and National Day
Oct 1–7 are off; Sun Sep 20 and Sat Oct 10 are make-up working days.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engine import ConflictError, PermissionDenied, ValidationError
from tests.fixtures.time import advance_to, bj, end_of
from tests.processes.conftest import PROCESSES
from tests.fixtures.walk import completed, open_elements

KEY = "adjust_unfit_cadre"

CASE = {"cadre_name": "李某", "cadre_post": "村（居）委会主任", "source": "群众投诉举报",
        "facts": "长期不在村，群众反映办事难，年度考核排名末位"}
SCREEN = {"situations": ["懒", "散"], "screen_result": "调查核实",
          "screen_opinion": "符合不胜任现职认定标准中的“懒”“散”情形，进村核实"}
INVESTIGATE = {"team": "赵委员、党建工作站两名工作人员", "visited_on": "2026-09-22",
               "findings": "走访群众 20 户，情况基本属实", "verified": "属实"}
COMMITTEES = {"committees_on": "2026-10-21", "committees_minutes": "通报调查情况，两委成员表决"}
REPS = {"reps_on": "2026-10-26", "reps_minutes": "说明情况，村民代表表决"}
DECIDE = {"decided_on": "2026-10-29", "adjust_method": "劝其辞职", "decision_no": "青党〔2026〕31号",
          "decision_text": "同意调整李某村委会主任职务"}
NOTIFY = {"notified_on": "2026-11-02", "notice_scope": ["支村两委", "党员大会"],
          "notice_text": "镇党委关于调整李某职务的决定"}
TALK = {"talked_on": "2026-11-02", "talkers": "孙书记、赵委员", "talk_record": "说明调整理由，本人表示接受",
        "cadre_attitude": "接受"}
FORMALITIES = {"handover": "印章、账册、档案已交接", "formalities_on": "2026-11-09"}


def votes(name: str, eligible: int, present: int, yes: int, no: int, abstain: int
          ) -> dict[str, int]:
    return {f"{name}_eligible": eligible, f"{name}_present": present, f"{name}_for": yes,
            f"{name}_against": no, f"{name}_abstain": abstain}


PASS_COMMITTEES = votes("committees", 9, 8, 6, 1, 1)
PASS_REPS = votes("reps", 45, 32, 25, 4, 3)
PASS_COMMITTEE = votes("committee", 9, 7, 6, 1, 0)


def task(eng, iid: int, element: str):
    [found] = [t for t in eng.open_tasks(instance_id=iid) if t.element_id == element]
    return found


def finish(eng, iid: int, element: str, data: dict[str, Any], by: str):
    return eng.complete(task(eng, iid, element).id, data, by=by)


def start(eng, **extra: Any) -> int:
    return eng.start(KEY, {**CASE, **extra}, by="zhao", org="v1")


def to_decision(eng, **extra: Any) -> int:
    """A case screened, verified and voted on in the village, up to 镇党委会议."""
    iid = start(eng, **extra)
    finish(eng, iid, "screen", SCREEN, by="zhao")
    finish(eng, iid, "investigate", INVESTIGATE, by="zhao")
    finish(eng, iid, "committees", {**COMMITTEES, **PASS_COMMITTEES}, by="zhao")
    finish(eng, iid, "reps", {**REPS, **PASS_REPS}, by="zhao")
    return iid


def to_appeal(eng, **extra: Any) -> int:
    """A decided adjustment, notified, talked over and formalised: the appeal window is open."""
    iid = to_decision(eng, **extra)
    finish(eng, iid, "decide", {**DECIDE, **PASS_COMMITTEE}, by="sun")
    finish(eng, iid, "notify", NOTIFY, by="zhao")
    finish(eng, iid, "talk", TALK, by="zhao")
    finish(eng, iid, "formalities", FORMALITIES, by="zhao")
    return iid


VILLAGE_AND_DECISION = ["start", "screen", "screen_gw", "investigate", "verified_gw",
                        "merge_committees", "committees", "committees_gw", "merge_reps", "reps",
                        "reps_gw", "merge_decide", "decide", "decide_gw"]
AFTER_DECISION = ["split_notify", "notify", "talk", "join_notify", "formalities"]


@pytest.fixture
def p1(procedure):
    return procedure("p1_adjust_unfit_cadre")


def test_the_file_deploys_as_duban_deploy_would(town, p1):
    # given the shipped file deployed from processes/
    # then it is the procedure's only process, and deploying it again adds nothing
    assert (p1.process_key, p1.version, p1.name) == (KEY, 1, "调整不胜任现职村干部")
    assert [v.process_key for v in p1.all_in_file] == [KEY]
    again = town.deploy_file(PROCESSES / "p1_adjust_unfit_cadre.bpmn", by="admin")
    assert (again.version, again.created) == (1, False)


def test_the_case_must_name_the_cadre_the_post_the_source_and_the_facts(town, p1):
    # when a case is started without the facts and with a source that is not on the list
    with pytest.raises(ValidationError) as err:
        town.start(KEY, {**CASE, "facts": "", "source": "道听途说"}, by="zhao", org="v1")
    # then both fields are named and nothing was started
    assert {"facts", "source"} <= set(err.value.fields)
    assert town.open_tasks() == []


def test_a_case_that_does_not_meet_the_criteria_ends_at_screening(town, p1, clock):
    # given a case registered on Tue Sep 15
    clock.set(bj("2026-09-15T09:00"))
    iid = start(town)
    screen = task(town, iid, "screen")
    # then the town's 组织委员 screens it within 5 working days: Sep 16, 17, 18,
    # Sun Sep 20 (make-up working day) and Mon Sep 21
    assert (screen.candidates, screen.assignee) == (("zhao",), None)
    assert screen.due_at == end_of("2026-09-21")
    # when he finds that it does not meet the criteria
    town.complete(screen.id, {"screen_result": "不符合", "screen_opinion": "系个别群众误解"},
                  by="zhao")
    # then the case ends with that record
    assert completed(town, iid) == ["start", "screen", "screen_gw", "end_not_matching"]
    inst = town.get_instance(iid)
    assert (inst.state, inst.data["screen_opinion"]) == ("completed", "系个别群众误解")


def test_a_case_found_unfounded_ends_after_the_investigation(town, p1, clock):
    clock.set(bj("2026-09-15T09:00"))
    iid = start(town)
    advance_to(town, clock, bj("2026-09-16T10:00"))
    finish(town, iid, "screen", SCREEN, by="zhao")
    investigate = task(town, iid, "investigate")
    # 10 working days from Wed Sep 16: Sep 17, 18, 20, 21, 22, 23, 24, (Mid-autumn) 28, 29, 30
    assert (investigate.candidates, investigate.due_at) == (("zhao",), end_of("2026-09-30"))
    # when the team finds the complaints untrue
    town.complete(investigate.id, {**INVESTIGATE, "verified": "不属实"}, by="zhao")
    assert completed(town, iid) == ["start", "screen", "screen_gw", "investigate",
                                    "verified_gw", "end_unfounded"]
    assert town.get_instance(iid).state == "completed"


def test_an_adjustment_from_complaint_to_effect_across_the_national_day(town, p1, clock):
    # given a case registered by the town's 组织委员 on Tue Sep 15
    clock.set(bj("2026-09-15T09:00"))
    iid = start(town)
    advance_to(town, clock, bj("2026-09-16T10:00"))
    finish(town, iid, "screen", SCREEN, by="zhao")
    advance_to(town, clock, bj("2026-09-29T15:00"))
    finish(town, iid, "investigate", {**INVESTIGATE, "verified": "部分属实"}, by="zhao")

    # then the two committees' meeting is due in 10 working days from Tue Sep 29:
    # Sep 30, Oct 8, 9, Sat Oct 10 (make-up), 12, 13, 14, 15, 16, 19
    committees = task(town, iid, "committees")
    assert (committees.candidates, committees.due_at) == (("zhao",), end_of("2026-10-19"))
    assert [f["name"] for f in committees.form][-5:] == [
        "committees_eligible", "committees_present", "committees_for", "committees_against",
        "committees_abstain"]

    # when the limit passes, the task turns red and the town's leader is told (督办)
    advance_to(town, clock, bj("2026-10-20T10:00"))
    assert task(town, iid, "committees").light == "red"
    assert ("escalate", 1) in [(n.kind, n.level) for n in town.notifications("sun")]

    # when the meeting is held but only 4 of 9 members come, it must be held again
    town.complete(committees.id, {**COMMITTEES, **votes("committees", 9, 4, 4, 0, 0)}, by="zhao")
    again = task(town, iid, "committees")
    assert again.id != committees.id
    # (a new limit: Oct 21, 22, 23, 26, 27, 28, 29, 30, Nov 2, 3)
    assert (again.due_at, again.light) == (end_of("2026-11-03"), "green")
    data = town.get_instance(iid).data
    assert (data["committees_quorate"], data["committees_passed"]) == (False, False)

    # when 8 of 9 come and 6 vote for the adjustment
    advance_to(town, clock, bj("2026-10-22T10:00"))
    town.complete(again.id, {**COMMITTEES, **PASS_COMMITTEES}, by="zhao")
    # then the village representatives meet (2/3 of 45 = 30 must come; 32 came, 25 for)
    advance_to(town, clock, bj("2026-10-27T10:00"))
    finish(town, iid, "reps", {**REPS, **PASS_REPS}, by="zhao")
    # then the town committee decides, at its meeting chaired by its secretary
    decide = task(town, iid, "decide")
    assert decide.candidates == ("sun",)
    assert decide.due_at == end_of("2026-11-10")  # Oct 28 … Nov 10, 10 working days
    advance_to(town, clock, bj("2026-10-30T10:00"))
    town.complete(decide.id, {**DECIDE, **PASS_COMMITTEE}, by="sun")

    # then the village is notified and the cadre interviewed, side by side
    assert open_elements(town, iid) == ["notify", "talk"]
    assert task(town, iid, "notify").due_at == end_of("2026-11-06")  # Nov 2, 3, 4, 5, 6
    advance_to(town, clock, bj("2026-11-02T16:00"))
    finish(town, iid, "talk", TALK, by="zhao")
    assert open_elements(town, iid) == ["notify"]
    finish(town, iid, "notify", NOTIFY, by="zhao")
    formalities = task(town, iid, "formalities")
    assert formalities.due_at == end_of("2026-11-16")
    advance_to(town, clock, bj("2026-11-10T10:00"))
    town.complete(formalities.id, FORMALITIES, by="zhao")

    # then the appeal window opens: the cadre has no account, so 东村's secretary files
    # for him; the window has no working-day limit of its own, a 15-day timer ends it
    appeal = task(town, iid, "appeal")
    assert (appeal.candidates, appeal.due_at) == (("zhang",), None)
    [timer] = [j for j in town.list_jobs() if j.kind == "timer"]
    assert timer.due_at == bj("2026-11-25T10:00")
    advance_to(town, clock, bj("2026-11-25T09:59"))
    assert task(town, iid, "appeal").id == appeal.id

    # when nobody files within 15 days
    advance_to(town, clock, bj("2026-11-25T10:00"))

    # then the adjustment takes effect; every step and both rounds of the meeting are kept
    assert completed(town, iid) == [
        "start", "screen", "screen_gw", "investigate", "verified_gw", "merge_committees",
        "committees", "committees_gw", "merge_committees", "committees", "committees_gw",
        "merge_reps", "reps", "reps_gw", "merge_decide", "decide", "decide_gw",
        "split_notify", "talk", "notify", "join_notify", "formalities",
        "appeal_expired", "merge_effective", "end_effective"]
    assert ("appeal", "cancelled") in [(e.element_id, e.kind) for e in town.history(iid)]
    inst = town.get_instance(iid)
    assert inst.state == "completed"
    assert (inst.data["committee_passed"], inst.data["adjust_method"]) == (True, "劝其辞职")
    assert town.list_jobs() == []
    with pytest.raises(ConflictError):
        town.complete(appeal.id, {"review_requested": "申请复核"}, by="zhang")
    assert town.verify_audit().ok


def test_the_cadre_waives_review_and_the_decision_takes_effect_at_once(town, p1):
    # given an adjustment decided and carried out; the cadre has no account
    iid = to_appeal(town)
    # when 东村's secretary records that the cadre waives review
    finish(town, iid, "appeal", {"review_requested": "放弃复核"}, by="zhang")
    # then the decision takes effect without waiting for the window to close
    assert completed(town, iid) == VILLAGE_AND_DECISION + [
        "split_notify", "notify", "talk", "join_notify", "formalities", "appeal", "appeal_gw",
        "merge_effective", "end_effective"]
    assert town.list_jobs() == []


def test_a_review_filed_by_the_cadre_upholds_the_decision(town, p1, clock):
    # given a cadre with an account: the appeal task is his own
    iid = to_appeal(town, cadre_user="li")
    appeal = task(town, iid, "appeal")
    assert (appeal.assignee, appeal.candidates) == ("li", ())
    # when he asks for review on day 14
    clock.advance(days=14)
    town.complete(appeal.id, {"review_requested": "申请复核", "review_reason": "调查范围不全面"},
                  by="li")
    # then the window's timer is gone and the town committee reviews within 30 days
    assert [j for j in town.list_jobs() if j.kind == "timer"] == []
    review = task(town, iid, "review")
    assert (review.candidates, review.due_at) == (("sun",), clock.now() + timedelta(days=30))
    town.complete(review.id, {"reviewed_on": "2026-03-20", "review_result": "维持",
                              "review_opinion": "事实清楚，程序规范"}, by="sun")
    assert completed(town, iid)[len(VILLAGE_AND_DECISION) + len(AFTER_DECISION):] == [
        "appeal", "appeal_gw", "review", "review_gw", "end_upheld"]
    assert town.get_instance(iid).state == "completed"


def test_a_review_that_overturns_the_decision_restores_the_post(town, p1):
    # given an adjustment decided and carried out; the secretary files the cadre's request
    iid = to_appeal(town)
    finish(town, iid, "appeal", {"review_requested": "申请复核", "review_reason": "有新证据"},
           by="zhang")
    # when the town committee revokes its decision on review
    finish(town, iid, "review", {"reviewed_on": "2026-03-20", "review_result": "撤销",
                                 "review_opinion": "主要事实不清"}, by="sun")
    # then the 组织委员 restores the cadre to the post, and that is the outcome
    restore = task(town, iid, "restore")
    assert restore.candidates == ("zhao",)
    town.complete(restore.id, {"restored_on": "2026-03-23", "restore_note": "恢复职务，在村内说明"},
                  by="zhao")
    assert completed(town, iid) == VILLAGE_AND_DECISION + AFTER_DECISION + [
        "appeal", "appeal_gw", "review", "review_gw", "restore", "end_revoked"]
    assert town.get_instance(iid).data["review_result"] == "撤销"


@pytest.mark.parametrize("stage, numbers, end", [
    # the two committees: 8 of 9 came, 4 for is not more than half of those present
    ("committees", votes("committees", 9, 8, 4, 3, 1), "end_committees_rejected"),
    # the representatives: 31 of 45 came (≥ 30), 15 for is not more than half of 31
    ("reps", votes("reps", 45, 31, 15, 10, 6), "end_reps_rejected"),
    # the town committee: 7 of 9 came, 4 for is not more than half of all 9 members
    ("decide", votes("committee", 9, 7, 4, 3, 0), "end_not_adjusted"),
])
def test_an_unfavourable_vote_ends_the_case_with_its_record(town, p1, stage, numbers, end):
    # given a case brought, with every earlier meeting passing, to the meeting under test
    meetings = [("committees", COMMITTEES, PASS_COMMITTEES, "zhao"),
                ("reps", REPS, PASS_REPS, "zhao"), ("decide", DECIDE, PASS_COMMITTEE, "sun")]
    iid = start(town)
    finish(town, iid, "screen", SCREEN, by="zhao")
    finish(town, iid, "investigate", INVESTIGATE, by="zhao")
    for element, form, passing, who in meetings:
        # when this meeting votes against the adjustment
        finish(town, iid, element, {**form, **(numbers if element == stage else passing)}, by=who)
        if element == stage:
            break
    # then the case ends there, quorate but not passed, and nothing is left open
    assert completed(town, iid)[-3:] == [stage, f"{stage}_gw", end]
    inst = town.get_instance(iid)
    name = next(iter(numbers)).removesuffix("_eligible")
    assert (inst.state, inst.data[f"{name}_quorate"], inst.data[f"{name}_passed"]) == (
        "completed", True, False)
    assert town.open_tasks(instance_id=iid) == []


def test_meetings_without_a_quorum_are_held_again_and_each_round_is_kept(town, p1):
    # given a case past the two committees
    # when the representatives' meeting twice lacks two thirds (29, then 20 of 45)
    iid = start(town)
    finish(town, iid, "screen", SCREEN, by="zhao")
    finish(town, iid, "investigate", INVESTIGATE, by="zhao")
    finish(town, iid, "committees", {**COMMITTEES, **PASS_COMMITTEES}, by="zhao")
    first = task(town, iid, "reps")
    town.complete(first.id, {**REPS, **votes("reps", 45, 29, 29, 0, 0)}, by="zhao")
    second = task(town, iid, "reps")
    town.complete(second.id, {**REPS, "reps_minutes": "第二次召开", **votes("reps", 45, 20, 20, 0, 0)},
                  by="zhao")
    # then it is convened a third time, each time as a new task
    third = task(town, iid, "reps")
    assert len({first.id, second.id, third.id}) == 3
    town.complete(third.id, {**REPS, **PASS_REPS}, by="zhao")
    # when the town committee first meets with 5 of 9 (less than two thirds), then 7 of 9
    finish(town, iid, "decide", {**DECIDE, **votes("committee", 9, 5, 5, 0, 0)}, by="sun")
    finish(town, iid, "decide", {**DECIDE, **PASS_COMMITTEE}, by="sun")
    assert completed(town, iid) == [
        "start", "screen", "screen_gw", "investigate", "verified_gw", "merge_committees",
        "committees", "committees_gw", "merge_reps", "reps", "reps_gw", "merge_reps", "reps",
        "reps_gw", "merge_reps", "reps", "reps_gw", "merge_decide", "decide", "decide_gw",
        "merge_decide", "decide", "decide_gw", "split_notify"]
    # then every round is in the history and the decision goes ahead
    assert open_elements(town, iid) == ["notify", "talk"]


@pytest.mark.parametrize("numbers, field", [
    (votes("reps", 45, 46, 40, 3, 3), "reps_present"),     # more present than members
    (votes("reps", 45, 32, 25, 4, 1), "reps_for"),          # 25 + 4 + 1 ≠ 32
    (votes("reps", 0, 0, 0, 0, 0), "reps_eligible"),        # a meeting of nobody
])
def test_vote_counts_that_do_not_add_up_are_refused(town, p1, numbers, field):
    # given a case at the representatives' meeting; when its counts do not add up,
    # then the field is named and the task stays open
    iid = start(town)
    finish(town, iid, "screen", SCREEN, by="zhao")
    finish(town, iid, "investigate", INVESTIGATE, by="zhao")
    finish(town, iid, "committees", {**COMMITTEES, **PASS_COMMITTEES}, by="zhao")
    reps = task(town, iid, "reps")
    with pytest.raises(ValidationError) as err:
        town.complete(reps.id, {**REPS, **numbers}, by="zhao")
    assert field in err.value.fields
    assert task(town, iid, "reps").id == reps.id


def test_only_the_holders_of_a_step_may_complete_it(town, p1):
    # a village secretary may not screen a case about his own village's cadre,
    # and the 组织委员 may not take the town committee's decision
    iid = start(town)
    with pytest.raises(PermissionDenied):
        finish(town, iid, "screen", SCREEN, by="zhang")
    iid = to_decision(town)
    with pytest.raises(PermissionDenied):
        finish(town, iid, "decide", {**DECIDE, **PASS_COMMITTEE}, by="zhao")
