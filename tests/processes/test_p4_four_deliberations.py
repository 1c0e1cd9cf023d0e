"""四议两公开 (processes/p4_four_deliberations.bpmn) walked through every path.

DOMAIN.md §4, seeds 004 二.2, 001 二.4(4). The town of tests/processes/conftest.py: zhang is
the 书记 of 东村 (v1): he chairs the 支委会 (提议), the joint meeting of the two committees
(商议) and the 党员大会 (审议); li is 东村's 村干部, for the village committee, which convenes
the 村民代表会议, publishes and carries out the resolution. Dates are Beijing time in 2026:
Mid-autumn Sep 25–27 and National Day Oct 1–7 are off; Sun Sep 20 and Sat Oct 10 are
make-up working days.
"""
from __future__ import annotations

from typing import Any

import pytest

from engine import ValidationError
from tests.fixtures.time import advance_to, bj, end_of
from tests.processes.conftest import PROCESSES
from tests.fixtures.walk import completed

KEY = "four_deliberations"

MATTER = {"title": "村集体茶园对外承包", "category": "集体资产资源处置", "origin": "村民委员会提出",
          "description": "村集体茶园 120 亩公开招标承包，期限 10 年", "amount": 36}
PROPOSE = {"propose_on": "2026-09-15", "proposal": "公开招标，底价每亩每年 300 元",
           "propose_result": "提议"}
CONSULT_OK = {"consult_on": "2026-09-18", "consult_attendance": "两委成员 7 人全部到会",
              "consult_result": "同意", "consult_opinion": "同意提交党员大会审议"}
REVIEW = {"review_on": "2026-09-21", "review_minutes": "党员大会审议"}
RESOLVE = {"resolve_on": "2026-09-24", "resolution": "同意公开招标承包", "implement_due": "2026-11-30"}
PUBLISH = {"published_on": "2026-09-28", "publish_channels": ["村务公开栏", "村民微信群"],
           "published_text": "村民代表会议决议：村集体茶园公开招标承包"}
IMPLEMENTED = {"implemented_on": "2026-11-20", "implement_report": "已公开招标，签订承包合同"}
RESULT = {"result_published_on": "2026-11-23", "result_channels": ["村务公开栏"],
          "result_text": "中标人、承包金额、合同期限"}


def members(eligible: int, present: int, yes: int, no: int, abstain: int) -> dict[str, int]:
    return {"members_eligible": eligible, "members_present": present, "members_for": yes,
            "members_against": no, "members_abstain": abstain}


def reps(eligible: int, present: int, yes: int, no: int, abstain: int) -> dict[str, int]:
    return {"reps_eligible": eligible, "reps_present": present, "reps_for": yes,
            "reps_against": no, "reps_abstain": abstain}


PASS_MEMBERS = members(20, 15, 11, 3, 1)
PASS_REPS = reps(45, 31, 20, 8, 3)


def task(eng, iid: int, element: str):
    [found] = [t for t in eng.open_tasks(instance_id=iid) if t.element_id == element]
    return found


def finish(eng, iid: int, element: str, data: dict[str, Any], by: str):
    return eng.complete(task(eng, iid, element).id, data, by=by)


def start(eng) -> int:
    return eng.start(KEY, MATTER, by="zhang", org="v1")


def to_review(eng) -> int:
    iid = start(eng)
    finish(eng, iid, "propose", PROPOSE, by="zhang")
    finish(eng, iid, "consult", CONSULT_OK, by="zhang")
    return iid


DELIBERATIONS = ["start", "merge_propose", "propose", "propose_gw", "consult", "consult_gw",
                 "merge_review", "review", "review_gw", "merge_resolve", "resolve", "resolve_gw"]


@pytest.fixture
def p4(procedure):
    return procedure("p4_four_deliberations")


def test_the_file_deploys_as_duban_deploy_would(town, p4):
    # the shipped file deploys; deploying it again adds nothing
    assert (p4.process_key, p4.version, p4.name) == (KEY, 1, "四议两公开")
    again = town.deploy_file(PROCESSES / "p4_four_deliberations.bpmn", by="admin")
    assert (again.version, again.created) == (1, False)


def test_the_matter_must_be_described(town, p4):
    # a negative amount and a category not on the list are refused; nothing starts
    with pytest.raises(ValidationError) as err:
        town.start(KEY, {**MATTER, "amount": -5, "category": "随便"}, by="zhang", org="v1")
    assert {"amount", "category"} <= set(err.value.fields)
    assert town.open_tasks() == []


def test_a_matter_from_proposal_to_published_result(town, p4, clock):
    # given the village committee raises a matter on Mon Sep 14
    clock.set(bj("2026-09-14T09:00"))
    iid = start(town)
    # then the branch committee proposes within 10 working days (Sun Sep 20 counts, the
    # Mid-autumn days do not): Sep 15–18, 20–24, 28
    propose = task(town, iid, "propose")
    assert (propose.candidates, propose.due_at) == (("zhang",), end_of("2026-09-28"))
    advance_to(town, clock, bj("2026-09-15T10:00"))
    town.complete(propose.id, PROPOSE, by="zhang")

    # when the two committees send it back twice for changes
    advance_to(town, clock, bj("2026-09-16T10:00"))
    finish(town, iid, "consult", {**CONSULT_OK, "consult_result": "退回修改",
                                  "consult_opinion": "底价偏低"}, by="zhang")
    finish(town, iid, "propose", {**PROPOSE, "proposal": "底价每亩每年 350 元"}, by="zhang")
    finish(town, iid, "consult", {**CONSULT_OK, "consult_result": "退回修改",
                                  "consult_opinion": "承包期限过长"}, by="zhang")
    again = task(town, iid, "propose")
    # (each round has a limit of its own: 10 working days from Sep 16)
    assert again.due_at == end_of("2026-09-30")
    advance_to(town, clock, bj("2026-09-17T10:00"))
    town.complete(again.id, {**PROPOSE, "proposal": "底价每亩每年 350 元，期限 8 年"}, by="zhang")
    # and then agree
    advance_to(town, clock, bj("2026-09-18T10:00"))
    finish(town, iid, "consult", CONSULT_OK, by="zhang")

    # then the party members' meeting deliberates: 15 of 20 came, 11 for
    review = task(town, iid, "review")
    assert review.due_at == end_of("2026-10-09")  # Sep 20–24, 28–30, Oct 8, 9
    advance_to(town, clock, bj("2026-09-22T10:00"))
    town.complete(review.id, {**REVIEW, **PASS_MEMBERS}, by="zhang")
    # then the village representatives resolve, convened by the village committee:
    # 31 of 45 came (≥ 2/3), 20 for (> half of 31)
    resolve = task(town, iid, "resolve")
    assert (resolve.candidates, resolve.due_at) == (("li",), end_of("2026-10-13"))
    advance_to(town, clock, bj("2026-09-24T10:00"))
    town.complete(resolve.id, {**RESOLVE, **PASS_REPS}, by="li")

    # then the resolution is published within 2 working days (Sep 28, 29)
    publish = task(town, iid, "publish")
    assert (publish.candidates, publish.due_at) == (("li",), end_of("2026-09-29"))
    advance_to(town, clock, bj("2026-09-28T09:00"))
    town.complete(publish.id, PUBLISH, by="li")
    # then it stays published for 7 days before it is carried out
    [timer] = [j for j in town.list_jobs() if j.kind == "timer"]
    assert timer.due_at == bj("2026-10-05T09:00")
    advance_to(town, clock, bj("2026-10-05T08:59"))
    assert town.open_tasks(instance_id=iid) == []
    advance_to(town, clock, bj("2026-10-05T09:00"))

    # then it is carried out by the limit the representatives set, warned 5 working days ahead
    implement = task(town, iid, "implement")
    assert (implement.candidates, implement.due_at, implement.warn_at) == (
        ("li",), end_of("2026-11-30"), end_of("2026-11-23"))
    advance_to(town, clock, bj("2026-11-24T09:00"))
    assert task(town, iid, "implement").light == "yellow"
    advance_to(town, clock, bj("2026-11-25T16:00"))
    town.complete(implement.id, IMPLEMENTED, by="li")
    # then the result is published within 5 working days: Nov 26, 27, 30, Dec 1, 2
    result = task(town, iid, "publish_result")
    assert result.due_at == end_of("2026-12-02")
    town.complete(result.id, RESULT, by="li")

    assert completed(town, iid) == [
        "start", "merge_propose", "propose", "propose_gw", "consult", "consult_gw",
        "merge_propose", "propose", "propose_gw", "consult", "consult_gw",
        "merge_propose", "propose", "propose_gw", "consult", "consult_gw",
        "merge_review", "review", "review_gw", "merge_resolve", "resolve", "resolve_gw",
        "publish", "publicity_over", "implement", "publish_result", "end_done"]
    inst = town.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data["proposal"] == "底价每亩每年 350 元，期限 8 年"
    assert (inst.data["members_passed"], inst.data["reps_passed"]) == (True, True)
    assert town.list_jobs() == []
    assert town.verify_audit().ok


def test_the_branch_may_decline_to_propose(town, p4):
    # when the branch committee declines, the matter ends with its reason on record
    iid = start(town)
    finish(town, iid, "propose", {**PROPOSE, "propose_result": "不予提议",
                                  "propose_opinion": "不属于村级重大事项"}, by="zhang")
    assert completed(town, iid) == ["start", "merge_propose", "propose", "propose_gw",
                                    "end_not_proposed"]
    assert town.get_instance(iid).state == "completed"


def test_the_two_committees_may_reject(town, p4):
    # when the two committees disagree, the matter ends with their opinion on record
    iid = start(town)
    finish(town, iid, "propose", PROPOSE, by="zhang")
    finish(town, iid, "consult", {**CONSULT_OK, "consult_result": "不同意",
                                  "consult_opinion": "条件不成熟"}, by="zhang")
    assert completed(town, iid) == ["start", "merge_propose", "propose", "propose_gw",
                                    "consult", "consult_gw", "end_consult_rejected"]
    assert town.get_instance(iid).data["consult_opinion"] == "条件不成熟"


def test_the_members_meeting_may_reject(town, p4):
    # given a matter before the party members' meeting
    iid = to_review(town)
    # 15 of 20 came; 7 for is not more than half of 15
    finish(town, iid, "review", {**REVIEW, **members(20, 15, 7, 6, 2)}, by="zhang")
    assert completed(town, iid)[-3:] == ["review", "review_gw", "end_review_rejected"]
    data = town.get_instance(iid).data
    assert (data["members_quorate"], data["members_passed"]) == (True, False)


def test_a_members_meeting_without_a_quorum_is_held_again(town, p4):
    # when only 9 of 20 members come, the meeting is held again as a new task
    iid = to_review(town)
    first = task(town, iid, "review")
    town.complete(first.id, {**REVIEW, **members(20, 9, 9, 0, 0)}, by="zhang")
    second = task(town, iid, "review")
    assert second.id != first.id
    town.complete(second.id, {**REVIEW, **PASS_MEMBERS}, by="zhang")
    assert completed(town, iid)[-7:] == ["merge_review", "review", "review_gw", "merge_review",
                                         "review", "review_gw", "merge_resolve"]


@pytest.mark.parametrize("numbers, quorate, end", [
    # 31 of 45 came; 15 for is not more than half of 31
    (reps(45, 31, 15, 10, 6), True, ["resolve", "resolve_gw", "end_resolve_rejected"]),
    # 29 of 45 is less than two thirds: the meeting is held again
    (reps(45, 29, 29, 0, 0), False, ["resolve", "resolve_gw", "merge_resolve"]),
])
def test_the_representatives_decide_by_their_rule(town, p4, numbers, quorate, end):
    # given a matter passed by the party members' meeting
    iid = to_review(town)
    finish(town, iid, "review", {**REVIEW, **PASS_MEMBERS}, by="zhang")
    finish(town, iid, "resolve", {**RESOLVE, **numbers}, by="li")
    assert completed(town, iid)[-3:] == end
    data = town.get_instance(iid).data
    assert (data["reps_quorate"], data["reps_passed"]) == (quorate, False)
    if quorate:
        assert town.get_instance(iid).state == "completed"
    else:
        assert [t.element_id for t in town.open_tasks(instance_id=iid)] == ["resolve"]


@pytest.mark.parametrize("numbers, field", [
    (reps(45, 50, 40, 5, 5), "reps_present"),
    (reps(45, 31, 20, 8, 2), "reps_for"),
])
def test_representatives_counts_that_do_not_add_up_are_refused(town, p4, numbers, field):
    # counts that do not add up are refused, naming the field; the task stays open
    iid = to_review(town)
    finish(town, iid, "review", {**REVIEW, **PASS_MEMBERS}, by="zhang")
    resolve = task(town, iid, "resolve")
    with pytest.raises(ValidationError) as err:
        town.complete(resolve.id, {**RESOLVE, **numbers}, by="li")
    assert field in err.value.fields
    assert task(town, iid, "resolve").id == resolve.id
