"""公开承诺 (processes/p5_public_commitment.bpmn): every path, with simulated 2026 time.

One instance is one party member's commitments for one year (seeds/003: 党员提 →
群众评 → 组织定, then 公开, and at year end 践诺评议). The member is m1 of 东村党支部 v1;
the branch secretary zhang convenes the meetings and records them.

Working days used below (2026): Jan 1 is off; the Spring Festival holiday runs
Feb 15–23 with Sat Feb 14 and Sat Feb 28 worked; 2027's calendar is not loaded,
so a limit running into 2027 counts weekends only and is provisional.
"""
from __future__ import annotations

from datetime import timezone

import pytest

from engine import PermissionDenied, ValidationError
from tests.fixtures.time import BJ, advance_to, bj, end_of
from tests.fixtures.walk import completed

KEY = "public_commitment"


def open_task(eng, iid: int, element: str | None = None):
    tasks = eng.open_tasks(instance_id=iid)
    assert len(tasks) == 1, [t.element_id for t in tasks]
    if element is not None:
        assert tasks[0].element_id == element
    return tasks[0]


def notices(eng, who: str) -> list[tuple[str, int | None, str]]:
    return [(n.kind, n.level, n.created_at.astimezone(BJ).strftime("%m-%d %H:%M"))
            for n in reversed(eng.notifications(who))]


PROPOSAL = {"commitments": "带头发展油茶产业，帮扶 2 户困难群众", "basis": ["岗位职责", "能力特长"]}
MASS_REVIEW = {"review_meeting_on": "2026-01-15", "mass_reps": 12, "fit": "相符",
               "mass_opinion": "承诺事项与其能力特长相符"}
APPROVED = {"committee_meeting_on": "2026-01-20", "decision": "同意", "decision_opinion": "同意公开"}
RETURNED = {"committee_meeting_on": "2026-01-20", "decision": "退回修改",
            "decision_opinion": "承诺事项过于笼统，请细化到户"}
PUBLISHED = {"pledge_forms": ["书面承诺", "宣誓承诺"],
             "published_in": ["党员会上公开", "群众会上公开", "公示牌上公开"],
             "published_on": "2026-01-23"}
REPORT = {"fulfilment": "油茶基地扩种 50 亩，帮扶 2 户已脱贫"}


def review(score: float) -> dict:
    return {"fulfil_meeting_on": "2027-01-06", "score": score, "fulfil_opinion": "群众认可"}


@pytest.fixture
def p5(procedure, town):
    procedure("p5_public_commitment")
    return town


def test_the_file_deploys_as_duban_deploy_would(procedure):
    # given / when: the shipped file is deployed twice
    first = procedure("p5_public_commitment")
    again = procedure("p5_public_commitment")
    # then: one process, named in Chinese; identical XML is not a new version
    assert (first.process_key, first.name, first.version) == (KEY, "公开承诺", 1)
    assert (again.version, again.created) == (1, False)


def test_a_commitment_through_the_year_to_the_year_end_review(p5, clock):
    eng = p5
    # given: Mon 2026-01-05, party member m1 starts her commitment for 2026
    clock.set(bj("2026-01-05T09:00"))
    iid = eng.start(KEY, {"member": "m1", "year": 2026}, by="m1", org="v1")

    # then: 党员提 is hers, 10 working days: Jan 6–9, 12–16, 19
    task = open_task(eng, iid, "propose")
    assert (task.assignee, task.candidates) == ("m1", ())
    assert (task.due_at, task.warn_at) == (end_of("2026-01-19"), end_of("2026-01-16"))
    assert completed(eng, iid) == ["start", "init", "merge_propose"]

    # when: she proposes on Thu Jan 8
    clock.set(bj("2026-01-08T10:00"))
    eng.complete(task.id, PROPOSAL, by="m1")

    # then: 群众评 goes to the branch secretary, 10 working days: Jan 9, 12–16, 19–22
    task = open_task(eng, iid, "mass_review")
    assert (task.assignee, task.candidates, task.due_at) == (None, ("zhang",),
                                                             end_of("2026-01-22"))
    # and: the secretary of another branch cannot record it
    with pytest.raises(PermissionDenied):
        eng.complete(task.id, MASS_REVIEW, by="wang")

    # when: the review meeting is recorded on Fri Jan 16
    clock.set(bj("2026-01-16T16:00"))
    eng.complete(task.id, MASS_REVIEW, by="zhang")

    # then: 组织定 by the branch committee, 5 working days: Jan 19–23
    task = open_task(eng, iid, "org_decide")
    assert (task.candidates, task.due_at) == (("zhang",), end_of("2026-01-23"))

    # when: the committee approves on Tue Jan 20
    clock.set(bj("2026-01-20T15:00"))
    eng.complete(task.id, APPROVED, by="zhang")

    # then: publish, 10 working days: Jan 21–23, 26–30, Feb 2, 3
    task = open_task(eng, iid, "publish")
    assert (task.candidates, task.due_at) == (("zhang",), end_of("2026-02-03"))

    # when: the commitments are published without a review date
    clock.set(bj("2026-01-23T11:00"))
    eng.complete(task.id, PUBLISHED, by="zhang")

    # then: the procedure waits for the year end, 2026-12-31 09:00 Beijing time
    assert eng.open_tasks(instance_id=iid) == []
    [job] = eng.list_jobs()
    assert (job.kind, job.due_at) == ("timer", bj("2026-12-31T09:00").astimezone(timezone.utc))
    data = eng.get_instance(iid).data
    assert (data["review_date"], data["review_at"]) == ("2026-12-31", "2026-12-31T09:00")

    # when: the year passes
    advance_to(eng, clock, bj("2026-12-31T09:00"))

    # then: m1 reports what she kept; 5 working days running into 2027, whose calendar
    # is not loaded yet: Jan 1, 4, 5, 6, 7 (provisional)
    task = open_task(eng, iid, "fulfil_report")
    assert (task.assignee, task.due_at, task.due_provisional) == (
        "m1", end_of("2027-01-07"), True)
    eng.complete(task.id, REPORT, by="m1")

    # when: the branch reviews her commitments with a score of 92
    task = open_task(eng, iid, "fulfil_review")
    assert task.candidates == ("zhang",)
    eng.complete(task.id, review(92), by="zhang")

    # then: graded 优秀, the procedure is over
    inst = eng.get_instance(iid)
    assert inst.state == "completed"
    assert (inst.data["score"], inst.data["fulfil_grade"]) == (92, "优秀")
    assert completed(eng, iid) == [
        "start", "init", "merge_propose", "propose", "mass_review", "org_decide", "decided",
        "publish", "set_review", "year_end", "fulfil_report", "fulfil_review", "grade", "end"]
    assert eng.list_jobs() == []
    assert eng.verify_audit().ok


def test_returned_twice_for_revision_then_published_with_a_review_date(p5, clock):
    eng = p5
    # given: the secretary starts the commitment for member m2
    clock.set(bj("2026-01-05T09:00"))
    iid = eng.start(KEY, {"member": "m2", "year": 2026}, by="zhang", org="v1")

    # when: the committee sends it back twice; each revision passes 群众评 again
    for n in range(1, 3):
        task = open_task(eng, iid, "propose")
        assert task.assignee == "m2"
        eng.complete(task.id, {**PROPOSAL, "revision_note": f"第{n}次提出"}, by="m2")
        eng.complete(open_task(eng, iid, "mass_review").id, MASS_REVIEW, by="zhang")
        eng.complete(open_task(eng, iid, "org_decide").id, RETURNED, by="zhang")

    # then: the proposal is back with the member, and history keeps both rounds
    task = open_task(eng, iid, "propose")
    assert task.assignee == "m2"
    one_round = ["merge_propose", "propose", "mass_review", "org_decide", "decided"]
    assert completed(eng, iid) == ["start", "init", *one_round, *one_round, "merge_propose"]

    # when: the third proposal is approved, and a review date in November is set
    clock.set(bj("2026-02-10T09:00"))
    eng.complete(task.id, {**PROPOSAL, "revision_note": "细化到户"}, by="m2")
    eng.complete(open_task(eng, iid, "mass_review").id, MASS_REVIEW, by="zhang")
    eng.complete(open_task(eng, iid, "org_decide").id, APPROVED, by="zhang")
    eng.complete(open_task(eng, iid, "publish").id, {**PUBLISHED, "review_date": "2026-11-30"},
                 by="zhang")

    # then: the timer waits for that date instead of the year end
    [job] = eng.list_jobs()
    assert job.due_at == bj("2026-11-30T09:00").astimezone(timezone.utc)
    advance_to(eng, clock, bj("2026-11-30T08:59"))
    assert eng.open_tasks(instance_id=iid) == []
    advance_to(eng, clock, bj("2026-11-30T09:00"))
    task = open_task(eng, iid, "fulfil_report")
    # Mon Nov 30 + 5 working days: Dec 1–4, 7
    assert (task.assignee, task.due_at, task.due_provisional) == ("m2", end_of("2026-12-07"),
                                                                  False)
    eng.complete(task.id, REPORT, by="m2")
    eng.complete(open_task(eng, iid, "fulfil_review").id, review(59.5), by="zhang")

    # then
    inst = eng.get_instance(iid)
    assert (inst.state, inst.data["fulfil_grade"], inst.data["revision_note"]) == (
        "completed", "较差", "细化到户")
    assert completed(eng, iid) == [
        "start", "init", *one_round, *one_round, *one_round, "publish", "set_review",
        "year_end", "fulfil_report", "fulfil_review", "grade", "end"]
    # the data of each round is kept in the audit trail; history has three decisions
    decisions = [e for e in eng.history(iid) if e.element_id == "org_decide"
                 and e.kind == "completed"]
    assert [e.by for e in decisions] == ["zhang"] * 3


@pytest.mark.parametrize("score, grade", [(100, "优秀"), (90, "优秀"), (89.5, "良好"),
                                          (80, "良好"), (60, "一般"), (59, "较差"), (0, "较差")])
def test_the_score_decides_the_grade(p5, clock, score, grade):
    eng = p5
    iid = eng.start(KEY, {"member": "m3", "year": 2026}, by="m3", org="v1")
    for element, data, who in [("propose", PROPOSAL, "m3"), ("mass_review", MASS_REVIEW, "zhang"),
                               ("org_decide", APPROVED, "zhang"),
                               ("publish", {**PUBLISHED, "review_date": "2026-06-30"}, "zhang")]:
        eng.complete(open_task(eng, iid, element).id, data, by=who)
    advance_to(eng, clock, bj("2026-06-30T09:00"))
    eng.complete(open_task(eng, iid, "fulfil_report").id, REPORT, by="m3")
    eng.complete(open_task(eng, iid, "fulfil_review").id, review(score), by="zhang")
    inst = eng.get_instance(iid)
    assert (inst.state, inst.data["fulfil_grade"]) == ("completed", grade)


def test_forms_refuse_bad_data_and_the_task_stays_open(p5):
    eng = p5
    # a start without the member or with a nonsense year is refused
    with pytest.raises(ValidationError) as err:
        eng.start(KEY, {"year": 1900}, by="m1", org="v1")
    assert set(err.value.fields) == {"member", "year"}

    iid = eng.start(KEY, {"member": "m1", "year": 2026}, by="m1", org="v1")
    task = open_task(eng, iid, "propose")
    with pytest.raises(ValidationError) as err:
        eng.complete(task.id, {"commitments": "", "basis": ["个人爱好"]}, by="m1")
    assert set(err.value.fields) == {"commitments", "basis"}
    assert open_task(eng, iid, "propose").id == task.id

    eng.complete(task.id, PROPOSAL, by="m1")
    task = open_task(eng, iid, "mass_review")
    with pytest.raises(ValidationError) as err:
        eng.complete(task.id, {**MASS_REVIEW, "mass_reps": 0, "fit": "很好"}, by="zhang")
    assert set(err.value.fields) == {"mass_reps", "fit"}
    eng.complete(task.id, MASS_REVIEW, by="zhang")
    task = open_task(eng, iid, "org_decide")
    with pytest.raises(ValidationError) as err:
        eng.complete(task.id, {**APPROVED, "decision": "再议"}, by="zhang")
    assert set(err.value.fields) == {"decision"}
    eng.complete(task.id, APPROVED, by="zhang")
    task = open_task(eng, iid, "publish")
    with pytest.raises(ValidationError) as err:
        eng.complete(task.id, {**PUBLISHED, "published_in": [], "review_date": "年底"},
                     by="zhang")
    assert set(err.value.fields) == {"published_in", "review_date"}


def test_an_overdue_proposal_is_chased_up_the_tree(p5, clock):
    eng = p5
    # given: Mon 2026-01-05, the proposal is due Mon Jan 19
    clock.set(bj("2026-01-05T09:00"))
    iid = eng.start(KEY, {"member": "m1", "year": 2026}, by="m1", org="v1")

    # when: nobody acts until Thu Jan 22
    advance_to(eng, clock, bj("2026-01-22T09:00"))

    # then: m1 was reminded and told it is overdue; the default 督办 ladder told the
    # town's leader at the due time, and the county two working days later (Jan 20, 21)
    task = open_task(eng, iid, "propose")
    assert (task.light, task.escalation_level) == ("red", 2)
    assert notices(eng, "m1") == [("remind", None, "01-16 23:59"),
                                  ("overdue", None, "01-19 23:59")]
    assert notices(eng, "sun") == [("escalate", 1, "01-19 23:59")]
    assert notices(eng, "liu") == [("escalate", 2, "01-21 23:59")]
