"""整顿软弱涣散党组织 (processes/p6_weak_branch_rectification.bpmn): every path.

One instance is one town's year: score every branch (支部自查, then 镇党委摸排评分),
classify (一类 ≥ 85, 二类 ≥ 70, 三类 below), propose the lowest 10 % (at least one),
the town committee names the branches to rectify, and each named branch goes through
联点领导/第一书记 → 整顿方案 → 整顿落实 ‖ four visits of the lead leader → 验收 →
销号 or another round.

The town t1 has v1 (zhang), v2 (wang), v3 (zhou); zhao is the town's 组织委员, sun its
书记 and 领导, liu the county's 领导. The town's per-branch tasks all go to zhao, so a
test tells them apart by the command that opened them (:func:`complete`).
"""
from __future__ import annotations

from datetime import timezone

import pytest

from engine import ValidationError
from tests.fixtures.time import BJ, advance_to, bj, end_of
from tests.fixtures.walk import completed, tasks_of

KEY = "weak_branch_rectification"
SECRETARY = {"v1": "zhang", "v2": "wang", "v3": "zhou"}
BRANCH_OF = {who: branch for branch, who in SECRETARY.items()}


def utc(text: str):
    return bj(text).astimezone(timezone.utc)


def the_task(eng, iid: int, element: str, holder: str | None = None):
    """The one open task of *element* (held by, or offered to, *holder*)."""
    found = [t for t in tasks_of(eng, iid, element)
             if holder is None or holder == t.assignee or holder in t.candidates]
    assert len(found) == 1, (element, holder, [(t.element_id, t.assignee, t.candidates)
                                               for t in eng.open_tasks(instance_id=iid)])
    return found[0]


def complete(eng, iid: int, task_id: str, data: dict, by: str) -> list:
    """Complete a task; return the tasks this command opened."""
    before = {t.id for t in eng.open_tasks(instance_id=iid)}
    eng.complete(task_id, data, by=by)
    return [t for t in eng.open_tasks(instance_id=iid) if t.id not in before]


def notices(eng, who: str) -> list[tuple[str, int | None, str]]:
    return [(n.kind, n.level, n.created_at.astimezone(BJ).strftime("%m-%d %H:%M"))
            for n in reversed(eng.notifications(who))]


def score_all(eng, iid: int, scores: dict[str, float]) -> None:
    """Each branch checks itself, then the town scores it (in the order of *scores*)."""
    town_task = {}
    for branch in scores:
        who = SECRETARY[branch]
        [opened] = complete(eng, iid, the_task(eng, iid, "self_check", who).id,
                            {"self_score": 80, "self_report": f"{branch} 自查：班子基本健全"}, by=who)
        assert (opened.element_id, opened.candidates) == ("town_score", ("zhao",))
        town_task[branch] = opened.id
    for branch, score in scores.items():
        eng.complete(town_task[branch], {"score": score, "findings": f"{branch} 摸排问题"},
                     by="zhao")


def name(eng, iid: int, codes: str) -> None:
    eng.complete(the_task(eng, iid, "name_targets").id,
                 {"year": 2026, "meeting_on": "2026-03-18", "named_codes": codes,
                  "naming_note": "按量化评分倒排，经党委会研究确定"}, by="zhao")


def support(eng, iid: int, task_id: str, **changes) -> str:
    """Complete a 落实联点领导 task; return the branch it was for (its plan's owner)."""
    [plan_task] = complete(eng, iid, task_id, {**SUPPORT, **changes}, by="zhao")
    assert plan_task.element_id == "plan"
    return BRANCH_OF[plan_task.candidates[0]]


SUPPORT = {"lead_leader": "sun", "support_type": "第一书记", "first_secretary": "dang",
           "support_members": "第一书记：党站长（镇党建工作站）"}
RECTIFIED = {"progress": "整顿措施全部落实", "household_coverage": 100}


def plan(due: str) -> dict:
    return {"weaknesses": "班子战斗力不强，组织生活不规范", "measures": "选优配强书记，规范三会一课",
            "due_date": due}


def visit(on: str) -> dict:
    return {"visit_on": on, "visit_content": "指导整顿", "visit_solved": "协调活动场所"}


SCORING = ["start", "list_branches", "any_branches", "score_start", "score_start", "score_start",
           "self_check", "self_check", "self_check",
           "town_score", "record_score", "score_end", "score_each",
           "town_score", "record_score", "score_end", "score_each",
           "town_score", "record_score", "score_end", "score_each", "score_each", "classify"]
NAMING = ["merge_name", "name_targets", "check_names", "names_valid"]
ROUND_START = ["merge_round", "new_round"]
ONE_VISIT = ["merge_visit", "visit", "count_visit", "enough_visits"]


@pytest.fixture
def p6(procedure, town):
    procedure("p6_weak_branch_rectification")
    return town


def test_the_file_deploys_and_schedules_the_yearly_start(procedure, town):
    # when: the shipped file is deployed (clock: Mon 2026-03-02)
    version = procedure("p6_weak_branch_rectification")
    # then: the yearly timer start event is scheduled for 2026-12-01 09:00 Beijing time
    assert (version.process_key, version.name) == (KEY, "整顿软弱涣散党组织")
    assert [(j.kind, j.due_at) for j in town.list_jobs()] == [
        ("start_timer", utc("2026-12-01T09:00"))]
    assert procedure("p6_weak_branch_rectification").created is False


def test_the_timer_starts_one_instance_per_town_each_fanning_out_to_its_branches(p6, clock):
    eng = p6
    # given: a second town without any branch yet
    eng.add_organisation("t2", "白水镇党委", "town", parent="c1")

    # when: Tue 2026-12-01 09:00 comes
    advance_to(eng, clock, bj("2026-12-01T09:00"))

    # then: one instance per town (t1, then t2), started by the system for that town
    t1, t2 = eng.get_instance(1), eng.get_instance(2)
    assert (t1.started_by, t2.started_by) == ("system", "system")
    assert (t1.state, t1.data["branches"]) == ("running", ["v1", "v2", "v3"])
    # t1 fans out to its three branches, 10 working days: Dec 2–4, 7–11, 14, 15
    checks = tasks_of(eng, t1.id, "self_check")
    assert sorted(t.candidates for t in checks) == [("wang",), ("zhang",), ("zhou",)]
    assert {t.due_at for t in checks} == {end_of("2026-12-15")}
    # and: the town's steps find the town's 组织委员: the instance concerns t1
    score_all(eng, t1.id, {"v1": 50, "v2": 80, "v3": 90})
    assert the_task(eng, t1.id, "name_targets").candidates == ("zhao",)
    # t2 has no branch: its instance ends with that outcome
    assert (t2.state, t2.data["branches"]) == ("completed", [])
    assert completed(eng, t2.id) == ["start", "list_branches", "any_branches", "no_branches"]
    # and: next year's start is scheduled
    assert [j.due_at for j in eng.list_jobs() if j.kind == "start_timer"] == [
        utc("2027-12-01T09:00")]


def test_scoring_classifies_and_the_committee_must_name_enough_branches_of_the_town(p6):
    eng = p6
    # given: the town's 组织委员 starts the year's scoring by hand
    iid = eng.start(KEY, by="zhao", org="t1")
    assert completed(eng, iid) == SCORING[:6]

    # when: every branch is scored
    score_all(eng, iid, {"v1": 60, "v2": 65, "v3": 90})

    # then: classified; the lowest 10 % (rounded up: 1 of 3) is proposed
    data = eng.get_instance(iid).data
    assert data["classes"] == {"v1": "三类", "v2": "三类", "v3": "一类"}
    assert (data["quota"], data["proposed"], data["proposed_codes"]) == (1, ["v1"], "v1")
    assert [(s["branch"], s["score"]) for s in data["scores"]] == [
        ("v1", 60), ("v2", 65), ("v3", 90)]
    assert the_task(eng, iid, "name_targets").candidates == ("zhao",)

    # when: the committee names a branch of another town
    name(eng, iid, "v9")
    # then: the list is refused and the step comes back with the reason
    assert eng.get_instance(iid).data["name_error"] == "不是本镇的支部：v9"
    assert the_task(eng, iid, "name_targets").candidates == ("zhao",)

    # when: it names nobody (an empty field, or only separators)
    with pytest.raises(ValidationError) as err:
        name(eng, iid, "")
    assert set(err.value.fields) == {"named_codes"}
    name(eng, iid, " ，")
    # then: refused: villages must be named at no less than 10 %
    assert eng.get_instance(iid).data["name_error"] == "整顿对象不得少于 1 个（村党组织不低于 10%）"

    # when: it names v2 and v1 (Chinese separators, v2 twice)
    name(eng, iid, "v2、v1，v2")

    # then: two branches are named; each gets its own rectification
    data = eng.get_instance(iid).data
    assert (data["named"], data["name_error"]) == (["v2", "v1"], None)
    assert [t.candidates for t in tasks_of(eng, iid, "assign_support")] == [("zhao",)] * 2
    assert completed(eng, iid) == [
        *SCORING, *NAMING, *NAMING, *NAMING,
        "rect_start", "open_ledger", *ROUND_START, "rect_start", "open_ledger", *ROUND_START]


def test_a_named_branch_rectified_in_one_round_is_closed(p6, clock):
    eng = p6
    # given: Mon 2026-03-02 09:00, zhao starts the scoring
    iid = eng.start(KEY, by="zhao", org="t1")
    # then: each branch's secretary checks itself within 10 working days: Mar 3–6, 9–13, 16
    checks = tasks_of(eng, iid, "self_check")
    assert sorted((t.candidates, t.due_at) for t in checks) == [
        (("wang",), end_of("2026-03-16")), (("zhang",), end_of("2026-03-16")),
        (("zhou",), end_of("2026-03-16"))]

    # when: Mon Mar 9 the branches have checked themselves, Fri Mar 13 the town scores
    clock.set(bj("2026-03-09T10:00"))
    town_tasks = {}
    for branch, who in SECRETARY.items():
        [town_tasks[branch]] = complete(eng, iid, the_task(eng, iid, "self_check", who).id,
                                        {"self_score": 85, "self_report": "自查报告"}, by=who)
    # then: the town scores each within 10 working days: Mar 10–13, 16–20, 23
    assert {(t.candidates, t.due_at) for t in town_tasks.values()} == {
        (("zhao",), end_of("2026-03-23"))}
    clock.set(bj("2026-03-13T15:00"))
    for branch, score in {"v1": 58, "v2": 76, "v3": 91}.items():
        eng.complete(town_tasks[branch].id, {"score": score, "findings": "摸排问题"}, by="zhao")
    # then: classes; the committee names the targets within 10 working days: Mar 16–27
    data = eng.get_instance(iid).data
    assert (data["classes"], data["proposed"]) == ({"v1": "三类", "v2": "二类", "v3": "一类"},
                                                   ["v1"])
    assert the_task(eng, iid, "name_targets").due_at == end_of("2026-03-27")

    # when: Wed Mar 18 the committee names v1
    clock.set(bj("2026-03-18T16:00"))
    name(eng, iid, "v1")
    # then: the town sets lead leader and first secretary: Mar 19, 20, 23–27, 30, 31, Apr 1
    task = the_task(eng, iid, "assign_support")
    assert (task.candidates, task.due_at) == (("zhao",), end_of("2026-04-01"))

    # when: Fri Mar 20 sun is made lead leader, dang first secretary
    clock.set(bj("2026-03-20T10:00"))
    assert support(eng, iid, task.id) == "v1"
    # then: v1 draws up its plan: Mar 23–27, Mar 30–Apr 3
    task = the_task(eng, iid, "plan")
    assert (task.candidates, task.due_at) == (("zhang",), end_of("2026-04-03"))

    # when: Fri Mar 27 the plan sets the limit at Mon Nov 30
    clock.set(bj("2026-03-27T10:00"))
    eng.complete(task.id, plan("2026-11-30"), by="zhang")
    # then: the branch works until Nov 30, warned five working days before (Nov 23) ...
    rectify = the_task(eng, iid, "rectify")
    assert (rectify.candidates, rectify.due_at, rectify.warn_at) == (
        ("zhang",), end_of("2026-11-30"), end_of("2026-11-23"))
    # ... and the lead leader's first visit is due within a quarter
    assert (the_task(eng, iid, "visit").assignee, the_task(eng, iid, "visit").due_at) == (
        "sun", utc("2026-06-27T10:00"))

    # when: sun visits four times, each next visit due a quarter after the last
    for day, next_due in [("2026-06-10", "2026-09-10"), ("2026-09-08", "2026-12-08"),
                          ("2026-11-02", "2027-02-02"), ("2026-11-20", None)]:
        advance_to(eng, clock, bj(f"{day}T10:00"))
        opened = complete(eng, iid, the_task(eng, iid, "visit", "sun").id, visit(day), by="sun")
        assert [t.due_at for t in opened] == ([utc(f"{next_due}T10:00")] if next_due else [])
    # then: after four visits only the branch's own work is still open
    assert [t.element_id for t in eng.open_tasks(instance_id=iid)] == ["rectify"]
    assert completed(eng, iid).count("count_visit") == 4

    # when: Wed Nov 25 the limit is near; Thu Nov 26 the branch reports done
    advance_to(eng, clock, bj("2026-11-25T09:00"))
    assert the_task(eng, iid, "rectify").light == "yellow"
    advance_to(eng, clock, bj("2026-11-26T10:00"))
    eng.complete(rectify.id, RECTIFIED, by="zhang")
    # then: acceptance within 10 working days: Nov 27, Nov 30–Dec 4, Dec 7–10
    task = the_task(eng, iid, "accept")
    assert (task.candidates, task.due_at) == (("zhao",), end_of("2026-12-10"))

    # when: Fri Nov 27 the town accepts and closes the number
    clock.set(bj("2026-11-27T10:00"))
    eng.complete(task.id, {"acceptance": "销号", "acceptance_opinion": "整顿达标，予以销号"},
                 by="zhao")

    # then
    inst = eng.get_instance(iid)
    assert inst.state == "completed"
    assert inst.data["closures"] == [{"branch": "v1", "rounds": 1, "lead_leader": "sun",
                                      "support_type": "第一书记", "first_secretary": "dang",
                                      "acceptance_opinion": "整顿达标，予以销号"}]
    assert completed(eng, iid) == [
        *SCORING, *NAMING, "rect_start", "open_ledger", *ROUND_START, "assign_support", "plan",
        "work_split", *ONE_VISIT * 4, "rectify", "work_join", "accept", "accepted", "close",
        "closed_end", "rectify_each", "rectify_each", "done"]
    assert eng.verify_audit().ok


def walk_round(eng, iid: int, branch: str, leader: str, acceptance: str) -> None:
    """Plan, four visits, rectification and the acceptance of one branch's round."""
    who = SECRETARY[branch]
    eng.complete(the_task(eng, iid, "plan", who).id, plan("2026-11-30"), by=who)
    for _ in range(4):
        eng.complete(the_task(eng, iid, "visit", leader).id, visit("2026-06-01"), by=leader)
    [accept] = complete(eng, iid, the_task(eng, iid, "rectify", who).id, RECTIFIED, by=who)
    assert accept.element_id == "accept"
    eng.complete(accept.id, {"acceptance": acceptance, "acceptance_opinion": f"{branch}：{acceptance}"},
                 by="zhao")


def test_a_branch_that_fails_acceptance_goes_through_another_round(p6):
    eng = p6
    # given: v1 and v2 are named; one gets sun as lead leader, the other liu and no
    # first secretary but a working team
    iid = eng.start(KEY, by="zhao", org="t1")
    score_all(eng, iid, {"v1": 50, "v2": 61, "v3": 95})
    name(eng, iid, "v1,v2")
    first, second = tasks_of(eng, iid, "assign_support")
    leader = {support(eng, iid, first.id): "sun"}
    leader[support(eng, iid, second.id, lead_leader="liu", support_type="驻点工作组",
                   first_secretary=None)] = "liu"
    assert sorted(leader) == ["v1", "v2"]

    # when: v1 passes in round one, v2 fails
    walk_round(eng, iid, "v1", leader["v1"], "销号")
    walk_round(eng, iid, "v2", leader["v2"], "再整顿")

    # then: v2 starts a new round: support set again, visits counted from zero
    assert support(eng, iid, the_task(eng, iid, "assign_support").id,
                   support_type="第一书记和驻点工作组", support_members="驻点工作组三人") == "v2"
    eng.complete(the_task(eng, iid, "plan", "wang").id, plan("2027-06-30"), by="wang")
    for _ in range(3):
        eng.complete(the_task(eng, iid, "visit", "sun").id, visit("2027-01-10"), by="sun")
    eng.complete(the_task(eng, iid, "rectify", "wang").id, RECTIFIED, by="wang")
    # three visits are not enough for acceptance
    assert [t.element_id for t in eng.open_tasks(instance_id=iid)] == ["visit"]
    [accept] = complete(eng, iid, the_task(eng, iid, "visit", "sun").id, visit("2027-04-10"),
                        by="sun")
    eng.complete(accept.id, {"acceptance": "销号", "acceptance_opinion": "第二轮整顿达标"},
                 by="zhao")

    # then: both closed, v2 after two rounds; history keeps every round
    inst = eng.get_instance(iid)
    assert inst.state == "completed"
    closures = sorted(inst.data["closures"], key=lambda c: c["branch"])
    assert [(c["branch"], c["rounds"], c["lead_leader"], c["support_type"],
             c["first_secretary"]) for c in closures] == [
        ("v1", 1, leader["v1"], "第一书记" if leader["v1"] == "sun" else "驻点工作组",
         "dang" if leader["v1"] == "sun" else None),
        ("v2", 2, "sun", "第一书记和驻点工作组", "dang")]
    done = completed(eng, iid)
    assert [done.count(e) for e in ("new_round", "assign_support", "plan", "visit", "rectify",
                                    "accept", "close")] == [3, 3, 3, 12, 3, 3, 2]
    assert done[-3:] == ["rectify_each", "rectify_each", "done"]


def test_forms_refuse_bad_data(p6):
    eng = p6
    iid = eng.start(KEY, by="zhao", org="t1")
    task = the_task(eng, iid, "self_check", "zhang")
    with pytest.raises(ValidationError) as err:
        eng.complete(task.id, {"self_score": 101}, by="zhang")
    assert set(err.value.fields) == {"self_score", "self_report"}
    score_all(eng, iid, {"v1": 50, "v2": 80, "v3": 90})
    with pytest.raises(ValidationError) as err:
        eng.complete(the_task(eng, iid, "name_targets").id,
                     {"year": 26, "meeting_on": "2026-03-18", "named_codes": "v1"}, by="zhao")
    assert set(err.value.fields) == {"year", "naming_note"}
    name(eng, iid, "v1")
    with pytest.raises(ValidationError) as err:
        eng.complete(the_task(eng, iid, "assign_support").id,
                     {**SUPPORT, "support_type": "挂职", "lead_leader": ""}, by="zhao")
    assert set(err.value.fields) == {"support_type", "lead_leader"}
    support(eng, iid, the_task(eng, iid, "assign_support").id)
    with pytest.raises(ValidationError) as err:
        eng.complete(the_task(eng, iid, "plan").id, plan("2026-11-31"), by="zhang")
    assert set(err.value.fields) == {"due_date"}
    eng.complete(the_task(eng, iid, "plan").id, plan("2026-11-30"), by="zhang")
    with pytest.raises(ValidationError) as err:
        eng.complete(the_task(eng, iid, "rectify").id, {**RECTIFIED, "household_coverage": 120},
                     by="zhang")
    assert set(err.value.fields) == {"household_coverage"}
    with pytest.raises(ValidationError) as err:
        eng.complete(the_task(eng, iid, "visit").id, {"visit_on": "六月"}, by="sun")
    assert set(err.value.fields) == {"visit_on", "visit_content"}
    for n in range(4):
        eng.complete(the_task(eng, iid, "visit").id, visit("2026-06-01"), by="sun")
    eng.complete(the_task(eng, iid, "rectify").id, RECTIFIED, by="zhang")
    with pytest.raises(ValidationError) as err:
        eng.complete(the_task(eng, iid, "accept").id,
                     {"acceptance": "基本合格", "acceptance_opinion": "…"}, by="zhao")
    assert set(err.value.fields) == {"acceptance"}


def test_overdue_steps_are_chased(p6, clock):
    eng = p6
    # given: Mon 2026-03-02 the scoring starts; the self checks are due Mon Mar 16
    iid = eng.start(KEY, by="zhao", org="t1")
    # when: nobody acts until Thu Mar 19
    advance_to(eng, clock, bj("2026-03-19T09:00"))
    # then: each secretary is reminded and told; the default ladder tells the town's
    # 领导 at the due time and the county two working days later (Mar 17, 18), per task
    assert notices(eng, "zhang") == [("remind", None, "03-13 23:59"),
                                     ("overdue", None, "03-16 23:59")]
    assert notices(eng, "sun") == [("escalate", 1, "03-16 23:59")] * 3
    assert notices(eng, "liu") == [("escalate", 2, "03-18 23:59")] * 3

    # given: v1 named; dang is its lead leader, the plan is made on Fri Mar 20
    score_all(eng, iid, {"v1": 50, "v2": 80, "v3": 90})
    name(eng, iid, "v1")
    support(eng, iid, the_task(eng, iid, "assign_support").id, lead_leader="dang")
    clock.set(bj("2026-03-20T10:00"))
    eng.complete(the_task(eng, iid, "plan").id, plan("2026-12-31"), by="zhang")
    assert the_task(eng, iid, "visit").due_at == utc("2026-06-20T10:00")

    # when: the quarter passes without a visit (due Sat Jun 20 10:00)
    advance_to(eng, clock, bj("2026-06-25T09:00"))

    # then: the visit's own ladder: the town's 书记 at the due time, the county's 领导
    # two working days later (Mon Jun 22, Tue Jun 23)
    assert notices(eng, "dang")[-1] == ("overdue", None, "06-20 10:00")
    assert notices(eng, "sun")[-1] == ("escalate", 1, "06-20 10:00")
    assert notices(eng, "liu")[-1] == ("escalate", 2, "06-23 23:59")


def test_each_named_branch_escalates_to_its_own_lead_leader(p6, clock):
    eng = p6
    # given: v1 and v2 named; one branch's lead leader is ji, the other's sun
    iid = eng.start(KEY, by="zhao", org="t1")
    score_all(eng, iid, {"v1": 50, "v2": 61, "v3": 95})
    name(eng, iid, "v1,v2")
    first, second = tasks_of(eng, iid, "assign_support")
    leader = {support(eng, iid, first.id, lead_leader="ji"): "ji",
              support(eng, iid, second.id, lead_leader="sun"): "sun"}
    # the branches' limits end on different days
    eng.complete(the_task(eng, iid, "plan", "zhang").id, plan("2026-03-20"), by="zhang")
    eng.complete(the_task(eng, iid, "plan", "wang").id, plan("2026-03-27"), by="wang")

    # when: both limits pass
    advance_to(eng, clock, bj("2026-03-31T09:00"))

    # then: each branch's overdue work is escalated to its own lead leader
    due = {"v1": "03-20 23:59", "v2": "03-27 23:59"}
    for branch, who in leader.items():
        assert ("escalate", 1, due[branch]) in notices(eng, who)
