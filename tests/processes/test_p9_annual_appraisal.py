"""党组织书记年度述职测评 (processes/p9_annual_appraisal.bpmn): every path.

At year end (Dec 20, 09:00) the timer start event starts one instance per town; the town
can also start one by hand. Each branch secretary (v1 zhang, v2 wang, v3 zhou) reports
(述职), the town's 组织委员 zhao records the score, the results are circulated, and a
secretary who scored under 70 writes an explanation and a time-limited rectification
commitment (at most 30 working days), then rectifies until the town's check passes.
"""
from __future__ import annotations

from datetime import timezone

import pytest

from engine import ValidationError
from tests.fixtures.time import BJ, advance_to, bj, end_of
from tests.fixtures.walk import completed, tasks_of

KEY = "annual_appraisal"
SECRETARY = {"v1": "zhang", "v2": "wang", "v3": "zhou"}
RESTRICTIONS = ("1年内党建工作不得评先进；党组织书记和分管党建工作的负责人1年内不提拔、不重用、"
                "不调动、不评优")


def utc(text: str):
    return bj(text).astimezone(timezone.utc)


def the_task(eng, iid: int, element: str, holder: str | None = None):
    found = [t for t in tasks_of(eng, iid, element)
             if holder is None or holder == t.assignee or holder in t.candidates]
    assert len(found) == 1, (element, holder)
    return found[0]


def complete(eng, iid: int, task_id: str, data: dict, by: str) -> list:
    """Complete a task; return the tasks this command opened."""
    before = {t.id for t in eng.open_tasks(instance_id=iid)}
    eng.complete(task_id, data, by=by)
    return [t for t in eng.open_tasks(instance_id=iid) if t.id not in before]


def notices(eng, who: str) -> list[tuple[str, int | None, str]]:
    return [(n.kind, n.level, n.created_at.astimezone(BJ).strftime("%m-%d %H:%M"))
            for n in reversed(eng.notifications(who))]


DEBRIEF = {"year": 2026, "debrief_report": "全年抓基层党建工作情况"}


def rating(score: float) -> dict:
    return {"rated_on": "2026-11-13", "score": score, "rating_comment": "测评意见"}


def explanation(days: int) -> dict:
    return {"explanation": "组织生活不规范，原因是书记主业意识不强", "commitment": "规范三会一课",
            "commit_days": days}


CIRCULAR = {"circular": "2026 年度村党组织书记述职测评结果通报", "circulated_on": "2026-11-16"}
FIXED = {"fix_report": "已按承诺整改"}


def appraise(eng, iid: int, scores: dict[str, float]) -> None:
    """Every secretary reports; the town scores each (in the order of *scores*)."""
    rate = {}
    for branch in scores:
        who = SECRETARY[branch]
        [rate[branch]] = complete(eng, iid, the_task(eng, iid, "debrief", who).id, DEBRIEF,
                                  by=who)
    for branch, score in scores.items():
        eng.complete(rate[branch].id, rating(score), by="zhao")


APPRAISAL = ["start", "list_branches", "any_branches", "appraise_start", "appraise_start",
             "appraise_start", "debrief", "debrief", "debrief",
             "rate", "record_rating", "appraise_end", "appraise_each",
             "rate", "record_rating", "appraise_end", "appraise_each",
             "rate", "record_rating", "appraise_end", "appraise_each", "appraise_each", "rank"]
FIX_ROUND = ["merge_fix", "fix", "check", "count_check", "fixed"]


@pytest.fixture
def p9a(procedure, town):
    procedure("p9_annual_appraisal")
    return town


def test_the_file_deploys_and_schedules_the_year_end_start(procedure, town):
    version = procedure("p9_annual_appraisal")
    assert (version.process_key, version.name) == (KEY, "党组织书记年度述职测评")
    assert [(j.kind, j.due_at) for j in town.list_jobs()] == [
        ("start_timer", utc("2026-12-20T09:00"))]
    assert procedure("p9_annual_appraisal").created is False


def test_the_year_end_timer_starts_one_appraisal_per_town(p9a, clock):
    eng = p9a
    eng.add_organisation("t2", "白水镇党委", "town", parent="c1")
    # when: Sun 2026-12-20 09:00
    advance_to(eng, clock, bj("2026-12-20T09:00"))
    # then: t1's instance asks every secretary to report; 10 working days run into 2027,
    # whose calendar is not loaded: Dec 21–25, 28–31, Jan 1 (provisional)
    t1, t2 = eng.get_instance(1), eng.get_instance(2)
    assert (t1.started_by, t1.state, t2.started_by, t2.state) == (
        "system", "running", "system", "completed")
    debriefs = tasks_of(eng, t1.id, "debrief")
    assert sorted(t.candidates for t in debriefs) == [("wang",), ("zhang",), ("zhou",)]
    assert {(t.due_at, t.due_provisional) for t in debriefs} == {(end_of("2027-01-01"), True)}
    # the town's steps go to the town's 组织委员: the instance concerns t1
    appraise(eng, t1.id, {"v1": 80, "v2": 80, "v3": 80})
    assert the_task(eng, t1.id, "circulate").candidates == ("zhao",)
    # t2 has no branch
    assert completed(eng, t2.id) == ["start", "list_branches", "any_branches", "no_branches"]
    assert [j.due_at for j in eng.list_jobs() if j.kind == "start_timer"] == [
        utc("2027-12-20T09:00")]


def test_secretaries_under_70_explain_commit_and_rectify_until_checked(p9a, clock):
    eng = p9a
    # given: Mon 2026-11-02, the town starts its appraisal by hand
    clock.set(bj("2026-11-02T09:00"))
    iid = eng.start(KEY, by="zhao", org="t1")
    # then: each secretary reports within 10 working days: Nov 3–6, 9–13, 16
    assert {(t.due_at) for t in tasks_of(eng, iid, "debrief")} == {end_of("2026-11-16")}

    # when: Fri Nov 6 they report; Fri Nov 13 the town scores v1 65, v2 82, v3 69.5
    clock.set(bj("2026-11-06T10:00"))
    rate = {}
    for branch, who in SECRETARY.items():
        [rate[branch]] = complete(eng, iid, the_task(eng, iid, "debrief", who).id, DEBRIEF,
                                  by=who)
    # the scores within 10 working days: Nov 9–13, 16–20
    assert {(t.element_id, t.candidates, t.due_at) for t in rate.values()} == {
        ("rate", ("zhao",), end_of("2026-11-20"))}
    clock.set(bj("2026-11-13T16:00"))
    for branch, score in {"v1": 65, "v2": 82, "v3": 69.5}.items():
        eng.complete(rate[branch].id, rating(score), by="zhao")

    # then: ranked; v1 and v3 are under 70; the results are circulated within 5 working
    # days (Nov 16–20)
    data = eng.get_instance(iid).data
    assert (data["ranking"], data["below_70"]) == (["v2", "v3", "v1"], ["v1", "v3"])
    circulate = the_task(eng, iid, "circulate")
    assert (circulate.candidates, circulate.due_at) == (("zhao",), end_of("2026-11-20"))

    # when: Mon Nov 16 the results are circulated
    clock.set(bj("2026-11-16T10:00"))
    eng.complete(circulate.id, CIRCULAR, by="zhao")
    # then: zhang and zhou explain in writing within 5 working days: Nov 17–20, 23
    explain = tasks_of(eng, iid, "explain")
    assert sorted((t.candidates, t.due_at) for t in explain) == [
        (("zhang",), end_of("2026-11-23")), (("zhou",), end_of("2026-11-23"))]

    # when: Wed Nov 18 zhang commits to 30 working days, zhou to 20
    clock.set(bj("2026-11-18T10:00"))
    [fix_v1] = complete(eng, iid, the_task(eng, iid, "explain", "zhang").id, explanation(30),
                        by="zhang")
    [fix_v3] = complete(eng, iid, the_task(eng, iid, "explain", "zhou").id, explanation(20),
                        by="zhou")
    # then: the limits they committed to: Nov 19–20, 23–27, Nov 30–Dec 4, 7–11, 14–18,
    # 21–25 make 27; Dec 28, 29, 30 make 30; and 20 end on Wed Dec 16
    assert (fix_v1.candidates, fix_v1.due_at) == (("zhang",), end_of("2026-12-30"))
    assert (fix_v3.candidates, fix_v3.due_at) == (("zhou",), end_of("2026-12-16"))

    # when: Mon Dec 14 zhou reports; the town checks it within 10 working days (to Dec 28)
    clock.set(bj("2026-12-14T10:00"))
    [check_v3] = complete(eng, iid, fix_v3.id, FIXED, by="zhou")
    assert (check_v3.candidates, check_v3.due_at) == (("zhao",), end_of("2026-12-28"))
    eng.complete(check_v3.id, {"check_result": "整改到位", "check_opinion": "已整改到位"},
                 by="zhao")

    # when: Tue Dec 29 zhang reports, but the check on Wed Dec 30 finds it not done
    clock.set(bj("2026-12-29T10:00"))
    [check_v1] = complete(eng, iid, fix_v1.id, FIXED, by="zhang")
    clock.set(bj("2026-12-30T10:00"))
    [again] = complete(eng, iid, check_v1.id,
                       {"check_result": "未整改到位", "check_opinion": "党员活动室仍未规范"},
                       by="zhao")
    # then: zhang rectifies again within the same 30 working days (into 2027: provisional)
    assert (again.element_id, again.candidates, again.due_provisional) == (
        "fix", ("zhang",), True)

    # when: zhang reports again and the second check passes
    [check_v1] = complete(eng, iid, again.id, FIXED, by="zhang")
    eng.complete(check_v1.id, {"check_result": "整改到位", "check_opinion": "第二次核查到位"},
                 by="zhao")

    # then: the appraisal is over; v1 took two checks, v3 one
    inst = eng.get_instance(iid)
    assert inst.state == "completed"
    assert sorted((r["branch"], r["commit_days"], r["checks"], r["check_opinion"])
                  for r in inst.data["rectifications"]) == [
        ("v1", 30, 2, "第二次核查到位"), ("v3", 20, 1, "已整改到位")]
    assert {r["restrictions"] for r in inst.data["rectifications"]} == {RESTRICTIONS}
    assert sorted((a["branch"], a["score"], a["below_70"]) for a in inst.data["appraisals"]) == [
        ("v1", 65, True), ("v2", 82, False), ("v3", 69.5, True)]
    assert completed(eng, iid) == [
        *APPRAISAL, "circulate", "rectify_start", "consequences", "rectify_start",
        "consequences", "explain", "merge_fix", "explain", "merge_fix",
        "fix", "check", "count_check", "fixed", "record_fix", "rectify_end", "rectify_each",
        "fix", "check", "count_check", "fixed", *FIX_ROUND, "record_fix", "rectify_end",
        "rectify_each", "rectify_each", "done"]
    assert eng.verify_audit().ok


def test_when_every_secretary_scores_70_or_more_nobody_rectifies(p9a):
    eng = p9a
    iid = eng.start(KEY, by="zhao", org="t1")
    # 70 exactly is not "under 70"
    appraise(eng, iid, {"v1": 70, "v2": 88, "v3": 95})
    assert eng.get_instance(iid).data["below_70"] == []
    eng.complete(the_task(eng, iid, "circulate").id, CIRCULAR, by="zhao")
    inst = eng.get_instance(iid)
    assert (inst.state, inst.data["rectifications"]) == ("completed", [])
    assert completed(eng, iid) == [*APPRAISAL, "circulate", "rectify_each", "done"]


def test_forms_refuse_bad_data(p9a):
    eng = p9a
    iid = eng.start(KEY, by="zhao", org="t1")
    task = the_task(eng, iid, "debrief", "zhang")
    with pytest.raises(ValidationError) as err:
        eng.complete(task.id, {"year": "二〇二六", "debrief_report": ""}, by="zhang")
    assert set(err.value.fields) == {"year", "debrief_report"}
    [rate] = complete(eng, iid, task.id, DEBRIEF, by="zhang")
    with pytest.raises(ValidationError) as err:
        eng.complete(rate.id, rating(-1), by="zhao")
    assert set(err.value.fields) == {"score"}
    eng.complete(rate.id, rating(50), by="zhao")
    appraise_rest = {"v2": 90, "v3": 90}
    for branch in appraise_rest:
        who = SECRETARY[branch]
        [r] = complete(eng, iid, the_task(eng, iid, "debrief", who).id, DEBRIEF, by=who)
        eng.complete(r.id, rating(90), by="zhao")
    eng.complete(the_task(eng, iid, "circulate").id, CIRCULAR, by="zhao")
    explain = the_task(eng, iid, "explain", "zhang")
    for days in (0, 31):
        with pytest.raises(ValidationError) as err:
            eng.complete(explain.id, explanation(days), by="zhang")
        assert set(err.value.fields) == {"commit_days"}
    [fix] = complete(eng, iid, explain.id, explanation(10), by="zhang")
    [check] = complete(eng, iid, fix.id, FIXED, by="zhang")
    with pytest.raises(ValidationError) as err:
        eng.complete(check.id, {"check_result": "基本到位", "check_opinion": "…"}, by="zhao")
    assert set(err.value.fields) == {"check_result"}


def test_a_rectification_commitment_that_runs_out_is_chased(p9a, clock):
    eng = p9a
    # given: Mon 2026-11-02; v1 scores 60 and commits to 10 working days on Wed Nov 4
    clock.set(bj("2026-11-02T09:00"))
    iid = eng.start(KEY, by="zhao", org="t1")
    appraise(eng, iid, {"v1": 60, "v2": 90, "v3": 90})
    eng.complete(the_task(eng, iid, "circulate").id, CIRCULAR, by="zhao")
    clock.set(bj("2026-11-04T10:00"))
    [fix] = complete(eng, iid, the_task(eng, iid, "explain", "zhang").id, explanation(10),
                     by="zhang")
    # Nov 5, 6, 9–13, 16–18
    assert fix.due_at == end_of("2026-11-18")
    # when: nothing happens until Mon Nov 23
    advance_to(eng, clock, bj("2026-11-23T09:00"))
    # then: zhang was reminded and told; the town's 领导 heard at the limit, the county's
    # two working days later (Nov 19, 20)
    assert notices(eng, "zhang")[-2:] == [("remind", None, "11-17 23:59"),
                                          ("overdue", None, "11-18 23:59")]
    assert notices(eng, "sun") == [("escalate", 1, "11-18 23:59")]
    assert notices(eng, "liu") == [("escalate", 2, "11-20 23:59")]
    assert the_task(eng, iid, "fix").light == "red"
