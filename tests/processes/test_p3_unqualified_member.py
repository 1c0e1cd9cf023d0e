"""不合格党员处置 (processes/p3_unqualified_member.bpmn) walked through every path.

DOMAIN.md §3, seeds 004 三.4(1), 001 二.9(3); 劝退 and 除名 as the Party Constitution,
Art. 9, orders them. The town of tests/processes/conftest.py: m1 is a 党员 of 东村 (v1)
with an account, zhang the 书记 of 东村 (he chairs 支委会 and 支部党员大会 and records them),
zhao the town's 组织委员 (上级党委审批), ji the town's 纪委书记 (申诉复查). Dates are Beijing
time in 2026: Mid-autumn Sep 25–27 and National Day Oct 1–7 are off; Sun Sep 20 and
Sat Oct 10 are make-up working days.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engine import ConflictError, ValidationError
from tests.fixtures.time import advance_to, bj, end_of
from tests.processes.conftest import PROCESSES
from tests.fixtures.walk import completed, open_elements

KEY = "unqualified_member"

MEMBER = {"member_name": "党员甲", "year": 2026, "reason": "连续六个月不参加组织生活"}
SELF = {"self_summary": "一年来参加组织生活较少", "self_grade": "基本合格"}
MUTUAL = {"mutual_count": 28, "mutual_score": 52.5, "mutual_opinion": "长期不参加组织生活"}
PUBLIC = {"public_count": 30, "public_score": 48, "public_opinion": "群众意见较大"}
BRANCH_BAD = {"branch_score": 50, "branch_grade": "不合格", "branch_opinion": "不履行党员义务"}
BRANCH_OK = {"branch_score": 82, "branch_grade": "合格", "branch_opinion": "能履行党员义务"}
UNQUALIFIED = {"finding_on": "2026-03-10", "finding": "不合格",
               "finding_basis": "无正当理由连续六个月不参加组织生活"}
QUALIFIED = {"finding_on": "2026-03-10", "finding": "合格", "finding_basis": "四评结果合格"}
MEETING = {"members_on": "2026-03-12", "members_minutes": "支委会说明处置意见，党员表决"}
APPROVED = {"approved": "批准", "approval_no": "青党组〔2026〕5号", "approval_opinion": "同意"}
TALK = {"talked_on": "2026-03-16", "talk_record": "告知处置决定和申诉权利", "member_attitude": "接受"}
HELP = {"helper": "m2", "help_measures": "每月谈心一次，督促参加组织生活"}


def votes(eligible: int, present: int, yes: int, no: int, abstain: int) -> dict[str, int]:
    return {"members_eligible": eligible, "members_present": present, "members_for": yes,
            "members_against": no, "members_abstain": abstain}


PASS = votes(20, 15, 12, 2, 1)   # 15 > 10 came; 12 > 10, more than half of all 20


def proposal(disposal: str, **extra: Any) -> dict[str, Any]:
    return {"disposal": disposal, "disposal_reason": "经教育仍无明显转变", **extra}


def task(eng, iid: int, element: str):
    [found] = [t for t in eng.open_tasks(instance_id=iid) if t.element_id == element]
    return found


def finish(eng, iid: int, element: str, data: dict[str, Any], by: str):
    return eng.complete(task(eng, iid, element).id, data, by=by)


def evaluate(eng, iid: int, finding: dict[str, Any], *, self_by: str = "m1") -> None:
    """The four evaluations and the branch committee's finding."""
    finish(eng, iid, "self_eval", SELF, by=self_by)
    finish(eng, iid, "mutual", MUTUAL, by="zhang")
    finish(eng, iid, "public", PUBLIC, by="zhang")
    finish(eng, iid, "branch_eval", BRANCH_BAD if finding["finding"] == "不合格" else BRANCH_OK,
           by="zhang")
    finish(eng, iid, "finding", finding, by="zhang")


def decide(eng, iid: int, disposal: str, **extra: Any) -> None:
    """Proposal, 支部党员大会 passing it, approval and the talk: the appeal window opens."""
    finish(eng, iid, "proposal", proposal(disposal, **extra), by="zhang")
    finish(eng, iid, "vote", {**MEETING, **PASS}, by="zhang")
    finish(eng, iid, "approve", APPROVED, by="zhao")
    finish(eng, iid, "talk", TALK, by="zhang")


def start(eng, **extra: Any) -> int:
    return eng.start(KEY, {**MEMBER, "member_user": "m1", **extra}, by="zhang", org="v1")


EVALUATION = ["merge_eval", "self_eval", "split_eval", "mutual", "public", "join_eval",
              "branch_eval", "finding", "finding_gw"]
DECISION = ["merge_proposal", "proposal", "proposal_gw", "merge_vote", "vote", "vote_gw",
            "approve", "approve_gw", "talk"]


@pytest.fixture
def p3(procedure):
    return procedure("p3_unqualified_member")


def test_the_file_deploys_as_duban_deploy_would(town, p3):
    # the shipped file deploys; deploying it again adds nothing
    assert (p3.process_key, p3.version, p3.name) == (KEY, 1, "不合格党员处置")
    again = town.deploy_file(PROCESSES / "p3_unqualified_member.bpmn", by="admin")
    assert (again.version, again.created) == (1, False)


def test_a_member_evaluated_as_qualified_ends_the_procedure(town, p3, clock):
    # given 东村's secretary lists a member with an account for evaluation on Mon Mar 2
    iid = start(town)
    # then the member evaluates himself first, within 5 working days (Mar 3–6, 9)
    self_eval = task(town, iid, "self_eval")
    assert (self_eval.assignee, self_eval.due_at) == ("m1", end_of("2026-03-09"))
    town.complete(self_eval.id, SELF, by="m1")
    # then the members' and the public's evaluations run side by side, recorded by the branch
    assert open_elements(town, iid) == ["mutual", "public"]
    assert task(town, iid, "mutual").candidates == ("zhang",)
    finish(town, iid, "public", PUBLIC, by="zhang")
    finish(town, iid, "mutual", MUTUAL, by="zhang")
    # then the branch evaluates and its committee finds him qualified
    finish(town, iid, "branch_eval", BRANCH_OK, by="zhang")
    finish(town, iid, "finding", QUALIFIED, by="zhang")
    assert completed(town, iid) == [
        "start", "init", "merge_eval", "self_eval", "split_eval", "public", "mutual",
        "join_eval", "branch_eval", "finding", "finding_gw", "end_qualified"]
    inst = town.get_instance(iid)
    assert (inst.state, inst.data["evaluation_round"], inst.data["public_score"]) == (
        "completed", 1, 48)


def test_without_an_account_the_secretary_records_the_self_evaluation(town, p3):
    # given a member without an account, then his written self-evaluation is entered by
    # the branch secretary
    iid = town.start(KEY, MEMBER, by="zhang", org="v1")
    assert task(town, iid, "self_eval").candidates == ("zhang",)
    evaluate(town, iid, QUALIFIED, self_by="zhang")
    assert completed(town, iid)[-1] == "end_qualified"


def test_scores_out_of_range_are_refused(town, p3):
    # a score above 100 and a count of nobody are refused, naming both fields
    iid = start(town)
    finish(town, iid, "self_eval", SELF, by="m1")
    with pytest.raises(ValidationError) as err:
        finish(town, iid, "mutual", {**MUTUAL, "mutual_score": 101, "mutual_count": 0}, by="zhang")
    assert {"mutual_score", "mutual_count"} <= set(err.value.fields)
    assert open_elements(town, iid) == ["mutual", "public"]


def test_correction_within_a_limit_then_qualified_at_the_second_evaluation(town, p3, clock):
    # given a member found unqualified; the branch proposes 限期改正 for six months
    iid = start(town)
    evaluate(town, iid, UNQUALIFIED)
    decide(town, iid, "限期改正", correction_period="P6M")
    # when the 15-day appeal window passes without an appeal
    appeal = task(town, iid, "appeal")
    assert appeal.assignee == "m1"
    advance_to(town, clock, clock.now() + timedelta(days=15))
    # then the branch names who helps him and how, within 5 working days
    help_task = task(town, iid, "help")
    assert (help_task.candidates, help_task.due_at) == (("zhang",), end_of("2026-03-24"))
    advance_to(town, clock, bj("2026-03-20T10:00"))
    town.complete(help_task.id, HELP, by="zhang")
    # then a timer waits out the six months: Sun Sep 20, 10:00
    [timer] = [j for j in town.list_jobs() if j.kind == "timer"]
    assert timer.due_at == bj("2026-09-20T10:00")
    advance_to(town, clock, bj("2026-09-20T09:59"))
    assert town.open_tasks(instance_id=iid) == []
    advance_to(town, clock, bj("2026-09-20T10:00"))
    # then he is evaluated again; created on a make-up working Sunday (the day of creation
    # never counts), the limit runs Sep 21, 22, 23, 24, (Mid-autumn) 28
    again = task(town, iid, "self_eval")
    assert (again.assignee, again.due_at) == ("m1", end_of("2026-09-28"))
    assert town.get_instance(iid).data["evaluation_round"] == 2
    # when the branch now finds him qualified
    evaluate(town, iid, {**QUALIFIED, "finding_on": "2026-10-09"})
    # then the procedure ends as corrected, and both evaluations are in the history
    assert completed(town, iid) == (
        ["start", "init"] + EVALUATION + DECISION + ["appeal_expired", "merge_effect",
                                                     "effect_gw", "help", "correction_over",
                                                     "next_round"]
        + EVALUATION + ["end_corrected"])
    assert town.get_instance(iid).state == "completed"
    assert town.list_jobs() == []


def test_still_unqualified_after_the_limit_persuaded_refuses_and_is_removed(town, p3, clock):
    # given 限期改正 for the default year, waived appeal, help arranged
    iid = start(town)
    evaluate(town, iid, UNQUALIFIED)
    proposal_task = task(town, iid, "proposal")
    assert {f["name"]: f.get("default") for f in proposal_task.form}["correction_period"] == "P12M"
    decide(town, iid, "限期改正")
    finish(town, iid, "appeal", {"appeal_filed": "不申诉"}, by="m1")
    finish(town, iid, "help", HELP, by="zhang")
    [timer] = [j for j in town.list_jobs() if j.kind == "timer"]
    assert timer.due_at == clock.now().replace(year=2027)
    # when the year is over and he is found unqualified again
    advance_to(town, clock, timer.due_at)
    evaluate(town, iid, {**UNQUALIFIED, "finding_on": "2027-03-10"})
    # then 限期改正 may not be proposed a second time: the proposal comes back
    first = task(town, iid, "proposal")
    town.complete(first.id, proposal("限期改正"), by="zhang")
    second = task(town, iid, "proposal")
    assert second.id != first.id
    # when the branch proposes to advise him to leave, and it is passed and approved
    decide(town, iid, "劝其退党")
    # and he appeals, and the discipline secretary upholds the decision
    finish(town, iid, "appeal", {"appeal_filed": "提出申诉", "appeal_reason": "已有改正"}, by="m1")
    review = task(town, iid, "appeal_review")
    assert (review.candidates, review.due_at) == (("ji",), clock.now() + timedelta(days=30))
    town.complete(review.id, {"appeal_reviewed_on": "2027-03-30", "appeal_result": "维持",
                              "appeal_opinion": "申诉理由不成立"}, by="ji")
    # then the branch talks him into leaving — he refuses
    persuade = task(town, iid, "persuade")
    assert persuade.candidates == ("zhang",)
    town.complete(persuade.id, {"persuaded_on": "2027-04-02", "member_response": "坚持不退",
                                "persuade_record": "本人坚持不退党"}, by="zhang")
    # then 除名 goes to the branch meeting and the town committee, and a new appeal window
    assert town.get_instance(iid).data["disposal"] == "除名"
    finish(town, iid, "vote", {**MEETING, **PASS}, by="zhang")
    finish(town, iid, "approve", APPROVED, by="zhao")
    finish(town, iid, "talk", TALK, by="zhang")
    advance_to(town, clock, clock.now() + timedelta(days=15))
    finish(town, iid, "remove", {"removed_on": "2027-04-30", "remove_note": "转出组织关系"},
           by="zhang")
    assert completed(town, iid) == (
        ["start", "init"] + EVALUATION + DECISION
        + ["appeal", "appeal_gw", "merge_effect", "effect_gw", "help", "correction_over",
           "next_round"]
        + EVALUATION + ["merge_proposal", "proposal", "proposal_gw", "merge_proposal"]
        + DECISION[1:]
        + ["appeal", "appeal_gw", "appeal_review", "appeal_review_gw", "merge_effect",
           "effect_gw", "persuade", "persuade_gw", "to_removal", "merge_vote", "vote", "vote_gw",
           "approve", "approve_gw", "talk", "appeal_expired", "merge_effect", "effect_gw",
           "remove", "end_removed"])
    assert town.get_instance(iid).state == "completed"


def test_a_member_advised_to_leave_agrees(town, p3, clock):
    # given 劝其退党 passed, approved and told; no appeal within 15 days
    iid = start(town)
    evaluate(town, iid, UNQUALIFIED)
    decide(town, iid, "劝其退党")
    advance_to(town, clock, clock.now() + timedelta(days=15))
    # when the member agrees to leave, then the branch handles the formalities
    finish(town, iid, "persuade", {"persuaded_on": "2026-03-20", "member_response": "同意退党",
                                   "persuade_record": "本人同意退党"}, by="zhang")
    withdraw = task(town, iid, "withdraw")
    town.complete(withdraw.id, {"withdrawn_on": "2026-03-25", "withdraw_note": "已办理"},
                  by="zhang")
    assert completed(town, iid)[-8:] == ["talk", "appeal_expired", "merge_effect", "effect_gw",
                                         "persuade", "persuade_gw", "withdraw", "end_withdrawn"]


def test_removal_proposed_at_once_and_carried_out(town, p3):
    # given 除名 proposed at the first finding, passed, approved and told;
    # when the member declares he will not appeal, then the branch removes him
    iid = start(town)
    evaluate(town, iid, UNQUALIFIED)
    decide(town, iid, "除名")
    finish(town, iid, "appeal", {"appeal_filed": "不申诉"}, by="m1")
    finish(town, iid, "remove", {"removed_on": "2026-03-25", "remove_note": "已办理"}, by="zhang")
    assert completed(town, iid) == (["start", "init"] + EVALUATION + DECISION
                                    + ["appeal", "appeal_gw", "merge_effect", "effect_gw",
                                       "remove", "end_removed"])


def test_an_appeal_that_succeeds_revokes_the_disposal(town, p3):
    # given 除名 decided; when the member appeals, the window's timer goes away,
    # and the town's 纪委书记 revokes the decision: the procedure ends there
    iid = start(town)
    evaluate(town, iid, UNQUALIFIED)
    decide(town, iid, "除名")
    finish(town, iid, "appeal", {"appeal_filed": "提出申诉", "appeal_reason": "事实不清"}, by="m1")
    assert [j for j in town.list_jobs() if j.kind == "timer"] == []
    finish(town, iid, "appeal_review", {"appeal_reviewed_on": "2026-03-30", "appeal_result": "撤销",
                                        "appeal_opinion": "认定事实不清"}, by="ji")
    assert completed(town, iid)[-5:] == ["appeal", "appeal_gw", "appeal_review",
                                         "appeal_review_gw", "end_revoked"]
    assert town.get_instance(iid).state == "completed"
    assert town.open_tasks(instance_id=iid) == []


def test_the_town_committee_may_refuse_approval(town, p3):
    # given 除名 passed by the branch meeting; then the town's 组织委员 puts it to the town
    # committee within 10 working days; when it is refused, the procedure ends with that record
    iid = start(town)
    evaluate(town, iid, UNQUALIFIED)
    finish(town, iid, "proposal", proposal("除名"), by="zhang")
    finish(town, iid, "vote", {**MEETING, **PASS}, by="zhang")
    approve = task(town, iid, "approve")
    assert approve.candidates == ("zhao",)
    assert approve.due_at == end_of("2026-03-16")  # Mar 3–6, 9–13, 16
    town.complete(approve.id, {"approved": "不批准", "approval_opinion": "宜先限期改正"}, by="zhao")
    assert completed(town, iid)[-3:] == ["approve", "approve_gw", "end_not_approved"]


@pytest.mark.parametrize("numbers, quorate, end", [
    # 12 of 20 came; 7 for is more than half of those present but not of all 20 members
    (votes(20, 12, 7, 3, 2), True, "end_vote_rejected"),
    # 10 of 20 for is not more than half of 20
    (votes(20, 20, 10, 10, 0), True, "end_vote_rejected"),
])
def test_the_branch_meeting_counts_the_majority_over_all_members(town, p3, numbers, quorate, end):
    # given a disposal before the branch meeting; when too few of ALL members vote for it,
    # then it is not passed and the procedure ends with the vote on record
    iid = start(town)
    evaluate(town, iid, UNQUALIFIED)
    finish(town, iid, "proposal", proposal("劝其退党"), by="zhang")
    finish(town, iid, "vote", {**MEETING, **numbers}, by="zhang")
    inst = town.get_instance(iid)
    assert (inst.data["members_quorate"], inst.data["members_passed"]) == (quorate, False)
    assert completed(town, iid)[-3:] == ["vote", "vote_gw", end]
    assert inst.state == "completed"


def test_a_branch_meeting_without_a_quorum_is_held_again(town, p3):
    # given a disposal before the branch meeting; when only 8 of 20 come, it is held again
    # (bad counts refused on the way), and the passed vote goes to the town committee
    iid = start(town)
    evaluate(town, iid, UNQUALIFIED)
    finish(town, iid, "proposal", proposal("除名"), by="zhang")
    first = task(town, iid, "vote")
    town.complete(first.id, {**MEETING, **votes(20, 8, 8, 0, 0)}, by="zhang")
    second = task(town, iid, "vote")
    assert second.id != first.id
    with pytest.raises(ValidationError) as err:
        town.complete(second.id, {**MEETING, **votes(20, 15, 12, 2, 2)}, by="zhang")
    assert "members_for" in err.value.fields
    town.complete(second.id, {**MEETING, **PASS}, by="zhang")
    assert completed(town, iid)[-6:] == ["merge_vote", "vote", "vote_gw", "merge_vote", "vote",
                                         "vote_gw"]
    assert open_elements(town, iid) == ["approve"]
    with pytest.raises(ConflictError):
        town.complete(first.id, {**MEETING, **PASS}, by="zhang")


def test_a_branch_meeting_of_exactly_half_the_members_cannot_decide(town, p3):
    # 有表决权的党员到会超过半数: 10 of 20 is not more than half
    iid = start(town)
    evaluate(town, iid, UNQUALIFIED)
    finish(town, iid, "proposal", proposal("除名"), by="zhang")
    finish(town, iid, "vote", {**MEETING, **votes(20, 10, 10, 0, 0)}, by="zhang")
    assert town.get_instance(iid).data["members_quorate"] is False
