"""督查督办 (processes/p7_supervision_matter.bpmn) and its monthly circular
(processes/p7_monthly_circular.bpmn): every path, with simulated 2026 time.

A matter concerns the unit it is first assigned to (东村 v1, the instance's organisation).
The town's 督查室 t1-dc, whose 督查员 qian registers the matter, reassigns and checks it;
the unit's 书记 signs for it (zhang for 东村 v1, wang for 西村 v2) and names the person who
handles it (chen, 西村's cadre). zhao is the matter's lead leader, ji the 纪委书记 in charge
of supervision, sun the town's 书记.

Working days used below (2026): Jan 1–3 are off and Sun Jan 4 is worked; Mid-autumn
Fri Sep 25 – Sun Sep 27 and National Day Oct 1–7 are off; Sun Sep 20 and Sat Oct 10
are make-up working days.
"""
from __future__ import annotations

from datetime import timezone

import pytest

from tests.fixtures.time import BJ, advance_to, bj, end_of
from tests.fixtures.walk import completed, open_elements

KEY = "supervision_matter"
MATTER = {"title": "落实县委书记关于秸秆禁烧工作的批示", "category": "批示件", "source": "县委书记",
          "document_no": "县委批〔2026〕15号", "content": "全面排查焚烧隐患，9月底前完成",
          "responsible_unit": "v1", "lead_leader": "zhao", "due_date": "2026-09-30",
          "feedback_interval": "P7D"}
SIGNED = {"sign_decision": "签收", "responsible_person": "chen", "measures": "分组包片巡查"}
DONE = {"result": "已完成全村巡查，清理秸秆堆 12 处", "completed_on": "2026-09-18",
        "evidence": ["att-photos"]}
FEEDBACK = {"stage_progress": "已巡查 3 个组", "next_plan": "本周完成其余各组"}


def task_of(eng, iid: int, element: str):
    found = [t for t in eng.open_tasks(instance_id=iid) if t.element_id == element]
    assert len(found) == 1, open_elements(eng, iid)
    return found[0]


def finish(eng, iid: int, element: str, data: dict | None, by: str):
    eng.complete(task_of(eng, iid, element).id, data or {}, by=by)


def notices(eng, who: str, task_id: str | None = None) -> list[tuple[str, int | None, str]]:
    return [(n.kind, n.level, n.created_at.astimezone(BJ).strftime("%m-%d %H:%M"))
            for n in reversed(eng.notifications(who))
            if task_id is None or n.task_id == task_id]


def check(conclusion: str, comment: str, *, on_time: bool = True, new_due: str | None = None):
    data = {"conclusion": conclusion, "check_comment": comment, "on_time": on_time}
    if new_due:
        data["new_due_date"] = new_due
    return data


@pytest.fixture
def p7(procedure, town, clock):
    # Tue 2026-09-01 09:00
    clock.set(bj("2026-09-01T09:00"))
    procedure("p7_supervision_matter")
    return town


def signed_by_v1(eng, clock) -> int:
    """Registered Tue Sep 1 09:00, signed for by 东村 Wed Sep 2 09:00 (chen handles it)."""
    iid = eng.start(KEY, MATTER, by="qian", org="v1")
    clock.set(bj("2026-09-02T09:00"))
    finish(eng, iid, "sign", SIGNED, by="zhang")
    return iid


def test_both_files_deploy_as_duban_deploy_would(procedure):
    # given / when: the shipped files are deployed, the matter twice
    matter = procedure("p7_supervision_matter")
    again = procedure("p7_supervision_matter")
    circular = procedure("p7_monthly_circular")
    # then: two processes named in Chinese; identical XML is not a new version
    assert (matter.process_key, matter.name, matter.version) == (KEY, "督查督办", 1)
    assert (again.version, again.created) == (1, False)
    assert (circular.process_key, circular.name) == ("monthly_circular", "督查督办月度通报")


def test_a_matter_reassigned_fed_back_returned_and_closed(p7, clock):
    eng = p7
    # given: Tue Sep 1 09:00 the 督查室 registers a 批示件 for 东村 with weekly feedback
    # (an office acts for its town, so its 督查员 may start it for the village)
    iid = eng.start(KEY, MATTER, by="qian", org="v1")
    item = eng.get_item(instance_id=iid)
    assert (item.number, item.kind, item.state, item.category, item.responsible_unit) == (
        "DB-2026-0001", "matter", "assigned", "批示件", "v1")

    # then: 签收 is for 东村's 书记, within 1 working day (Sep 2)
    sign = task_of(eng, iid, "sign")
    assert (sign.candidates, sign.due_at, sign.warn_at) == (
        ("zhang",), end_of("2026-09-02"), end_of("2026-09-01"))

    # when: 东村 says it is not theirs
    finish(eng, iid, "sign", {"sign_decision": "申请改派", "reassign_reason": "涉及西村辖区"},
           by="zhang")

    # then: the 督查室 decides within 1 working day; it reassigns to 西村
    reassign = task_of(eng, iid, "reassign")
    assert (reassign.candidates, reassign.due_at) == (("qian",), end_of("2026-09-02"))
    finish(eng, iid, "reassign", {"responsible_unit": "v2", "reassign_comment": "改由西村承办"},
           by="qian")
    assert task_of(eng, iid, "sign").candidates == ("wang",)

    # when: Wed Sep 2 09:00 西村 signs for it and names chen
    clock.set(bj("2026-09-02T09:00"))
    finish(eng, iid, "sign", SIGNED, by="wang")

    # then: chen handles it until Sep 30, warned 3 working days before (Sep 24)
    work = task_of(eng, iid, "work")
    assert (work.assignee, work.due_at, work.warn_at) == (
        "chen", end_of("2026-09-30"), end_of("2026-09-24"))
    assert eng.get_item(instance_id=iid).state == "rectifying"

    # when: a week passes
    advance_to(eng, clock, bj("2026-09-09T09:00"))
    # then: the first staged feedback is asked for, 2 working days (Sep 10, 11)
    feedback = task_of(eng, iid, "feedback")
    assert (feedback.assignee, feedback.due_at) == ("chen", end_of("2026-09-11"))
    clock.set(bj("2026-09-10T15:00"))
    finish(eng, iid, "feedback", FEEDBACK, by="chen")

    # when: the second one is asked for on Sep 16, and chen reports completion Fri Sep 18
    # without filing it
    advance_to(eng, clock, bj("2026-09-16T09:00"))
    stale = task_of(eng, iid, "feedback")
    clock.set(bj("2026-09-18T10:00"))
    finish(eng, iid, "work", DONE, by="chen")

    # then: the unfiled feedback is withdrawn; the 督查员 checks within 3 working days:
    # Sun Sep 20 (make-up), Sep 21, 22
    assert eng.get_task(stale.id).state == "cancelled"
    check_task = task_of(eng, iid, "check")
    assert (check_task.candidates, check_task.due_at) == (("qian",), end_of("2026-09-22"))
    assert open_elements(eng, iid) == ["check"]
    assert eng.get_item(instance_id=iid).state == "reviewing"

    # when: Mon Sep 21 it is returned with a new limit of Oct 16
    clock.set(bj("2026-09-21T09:00"))
    finish(eng, iid, "check", check("退回", "南片仍有秸秆堆未清理", on_time=False,
                                    new_due="2026-10-16"), by="qian")

    # then: the unit works on it again under the new limit; weekly feedback restarts
    work = task_of(eng, iid, "work")
    assert (work.assignee, work.due_at) == ("chen", end_of("2026-10-16"))
    item = eng.get_item(instance_id=iid)
    assert (item.state, item.returns, str(item.due_date)) == ("rectifying", 1, "2026-10-16")
    assert [j.due_at for j in eng.list_jobs() if j.kind == "timer"] == [
        bj("2026-09-28T09:00").astimezone(timezone.utc)]

    # when: completion is reported again and accepted
    clock.set(bj("2026-09-24T10:00"))
    finish(eng, iid, "work", {**DONE, "completed_on": "2026-09-24"}, by="chen")
    finish(eng, iid, "check", check("办结", "已落实到位"), by="qian")

    # then: 办结, the item closed, every round and the reassignment kept
    handled = ["merge_handle", "handle_start"]
    assert completed(eng, iid) == [
        "start", "init", "merge_sign", "sign", "sign_gw", "reassign", "record_reassign",
        "merge_sign", "sign", "sign_gw", *handled, "feedback", "feedback_end", "work",
        "handle_end", "handle", "check", "record_check", "check_gw", "send_back", *handled,
        "work", "handle_end", "handle", "check", "record_check", "check_gw", "close",
        "end_closed"]
    data = eng.get_instance(iid).data
    assert [(r["round"], r["conclusion"]) for r in data["check_rounds"]] == [(1, "退回"),
                                                                              (2, "办结")]
    assert data["reassignments"] == [{"unit": "v2", "reason": "涉及西村辖区",
                                      "comment": "改由西村承办"}]
    assert (data["responsible_unit"], data["due_date"]) == ("v2", "2026-10-16")
    item = eng.get_item(instance_id=iid)
    assert (item.state, item.returns, item.closed_at) == ("closed", 1, clock.now())
    # the matter stays in 东村's ledger, where it started; the item names the new unit
    assert [i.number for i in eng.items(org="v1")] == [item.number]
    assert item.responsible_unit == "v2"
    assert eng.get_instance(iid).state == "completed"
    assert eng.list_jobs() == []


def test_without_a_named_person_the_units_secretary_handles_it(p7, clock):
    eng = p7
    # given / when: 东村 signs without naming anyone
    iid = eng.start(KEY, MATTER, by="qian", org="v1")
    finish(eng, iid, "sign", {"sign_decision": "签收"}, by="zhang")
    # then: the unit's 书记 holds it
    assert task_of(eng, iid, "work").candidates == ("zhang",)


def test_a_matter_filed_under_the_supervision_office_routes_the_same(p7, clock):
    eng = p7
    # given: the matter is filed under the 督查室 itself, not under the unit
    iid = eng.start(KEY, MATTER, by="qian", org="t1-dc")
    # then: the unit still signs, and the 督查室 still checks
    assert task_of(eng, iid, "sign").candidates == ("zhang",)
    finish(eng, iid, "sign", SIGNED, by="zhang")
    finish(eng, iid, "work", DONE, by="chen")
    assert task_of(eng, iid, "check").candidates == ("qian",)
    assert [i.number for i in eng.items(org="t1-dc")] == ["DB-2026-0001"]


def test_a_reassigned_matter_forgets_the_first_units_person(p7, clock):
    eng = p7
    # given: 东村 names li but asks for the matter to be reassigned; it goes to 西村
    iid = eng.start(KEY, MATTER, by="qian", org="v1")
    finish(eng, iid, "sign", {"sign_decision": "申请改派", "responsible_person": "li",
                              "reassign_reason": "不属本村"}, by="zhang")
    finish(eng, iid, "reassign", {"responsible_unit": "v2", "reassign_comment": "改派西村"},
           by="qian")
    # when: 西村 signs without naming anyone
    finish(eng, iid, "sign", {"sign_decision": "签收"}, by="wang")
    # then: 西村's 书记 handles it, not 东村's cadre
    work = task_of(eng, iid, "work")
    assert (work.assignee, work.candidates) == (None, ("wang",))


def test_an_overdue_matter_is_supervised_up_the_ladder(p7, clock):
    eng = p7
    # given: a matter due Wed Sep 30, handled by chen, with monthly feedback
    iid = eng.start(KEY, {**MATTER, "feedback_interval": "P1M"}, by="qian", org="v1")
    clock.set(bj("2026-09-02T09:00"))
    finish(eng, iid, "sign", SIGNED, by="zhang")
    work = task_of(eng, iid, "work")

    # when: nothing is reported until Wed Oct 14
    advance_to(eng, clock, bj("2026-10-14T09:00"))

    # then: chen was reminded and told it is overdue; 督办 went to the lead leader at
    # once, to the 纪委书记 two working days later (Oct 8, 9) and to the town's 书记
    # two more (Sat Oct 10 make-up, Mon Oct 12)
    assert notices(eng, "chen", work.id) == [("remind", None, "09-24 23:59"),
                                             ("overdue", None, "09-30 23:59")]
    assert notices(eng, "zhao", work.id) == [("escalate", 1, "09-30 23:59")]
    assert notices(eng, "ji", work.id) == [("escalate", 2, "10-09 23:59")]
    assert notices(eng, "sun", work.id) == [("escalate", 3, "10-12 23:59")]
    assert task_of(eng, iid, "work").escalation_level == 3
    assert eng.get_item(instance_id=iid).light == "red"

    # and: the monthly feedback was asked for on Oct 2
    feedback = task_of(eng, iid, "feedback")
    assert feedback.created_at == bj("2026-10-02T09:00").astimezone(timezone.utc)

    # when: the 督查室 urges; the unit reports completion
    assert eng.urge(work.id, by="qian", message="请于本周内办结并报送佐证") == 1
    finish(eng, iid, "work", DONE, by="chen")
    # then: the open feedback goes with it and the check is next
    assert open_elements(eng, iid) == ["check"]


def test_signing_late_is_supervised_by_the_lead_leader(p7, clock):
    eng = p7
    # given: a matter nobody signs for
    iid = eng.start(KEY, MATTER, by="qian", org="v1")
    sign = task_of(eng, iid, "sign")
    # when: time runs to Mon Sep 7
    advance_to(eng, clock, bj("2026-09-07T09:00"))
    # then: overdue at the end of Sep 2; the lead leader first, then the 领导 above the
    # matter's organisation two working days later (Sep 3, 4)
    assert notices(eng, "zhang", sign.id) == [("remind", None, "09-01 23:59"),
                                              ("overdue", None, "09-02 23:59")]
    assert notices(eng, "zhao", sign.id) == [("escalate", 1, "09-02 23:59")]
    assert notices(eng, "sun", sign.id) == [("escalate", 2, "09-04 23:59")]


def test_a_late_check_is_supervised_by_the_discipline_secretary(p7, clock):
    eng = p7
    # given: completion reported Fri Sep 18, the check due Tue Sep 22
    iid = signed_by_v1(eng, clock)
    clock.set(bj("2026-09-18T10:00"))
    finish(eng, iid, "work", DONE, by="chen")
    check_task = task_of(eng, iid, "check")
    # when: the 督查室 lets it lie until Fri Sep 25
    advance_to(eng, clock, bj("2026-09-25T09:00"))
    # then: the 纪委书记 hears of it at once, the town's 书记 two working days later
    # (Sep 23, 24)
    assert notices(eng, "qian", check_task.id) == [("remind", None, "09-21 23:59"),
                                                   ("overdue", None, "09-22 23:59")]
    assert notices(eng, "ji", check_task.id) == [("escalate", 1, "09-22 23:59")]
    assert notices(eng, "sun", check_task.id) == [("escalate", 2, "09-24 23:59")]
    assert notices(eng, "zhao", check_task.id) == []


# -- the monthly circular (一月一调度、一月一通报) -------------------------------------

@pytest.fixture
def circular(procedure, town, clock):
    # a second town with its own 督查室, to show one circular per town
    town.t2 = town.add_organisation("t2", "白石镇党委", "town", parent="c1")
    town.add_organisation("t2-dc", "白石镇督查室", "office", parent="t2")
    town.add_person("bai", "白书记")
    town.grant_role("bai", "书记", "t2")
    town.add_person("tan", "谭督查")
    town.grant_role("tan", "督查员", "t2-dc")
    # deployed at New Year's Eve 2025, before the first occurrence
    clock.set(bj("2025-12-31T12:00"))
    procedure("p7_monthly_circular")
    return town


COMPILED = {"period": "2025年12月", "matters_due": 12, "matters_on_time": 10,
            "matters_overdue": 2, "ranking": "东村、西村按期办结率 100%；南村 50%",
            "overdue_list": "南村：秸秆禁烧批示件超期 5 个工作日",
            "petition_summary": "积案 3 件，化解 2 件", "next_month": "重点调度南村",
            "draft": ["att-draft"]}


def test_a_circular_is_started_for_every_town_on_the_fifth_of_each_month(circular, clock):
    eng = circular
    # given: the calendar is scheduled for Mon 2026-01-05 09:00
    [job] = eng.list_jobs()
    assert (job.kind, job.due_at) == ("start_timer",
                                      bj("2026-01-05T09:00").astimezone(timezone.utc))

    # when: the day comes
    advance_to(eng, clock, bj("2026-01-05T09:00"))

    # then: one circular per town, for its 督查室, each due in 5 working days (Jan 6–9, 12)
    tasks = {t.candidates: t for t in eng.open_tasks()}
    assert sorted(tasks) == [("qian",), ("tan",)]
    assert {t.element_id for t in tasks.values()} == {"compile"}
    assert {t.due_at for t in tasks.values()} == {end_of("2026-01-12")}
    assert eng.get_instance(tasks[("tan",)].instance_id).org_id == eng.t2.id
    # the next month is scheduled
    assert [j.due_at for j in eng.list_jobs() if j.kind == "start_timer"] == [
        bj("2026-02-05T09:00").astimezone(timezone.utc)]

    # when: 青山镇's draft is sent back once by the 纪委书记, then approved and issued
    iid = tasks[("qian",)].instance_id
    finish(eng, iid, "compile", COMPILED, by="qian")
    approve = task_of(eng, iid, "approve")
    assert (approve.candidates, approve.due_at) == (("ji",), end_of("2026-01-07"))
    finish(eng, iid, "approve", {"approval": "退回修改", "approval_comment": "补充整改要求"},
           by="ji")
    finish(eng, iid, "compile", COMPILED, by="qian")
    finish(eng, iid, "approve", {"approval": "同意印发"}, by="ji")
    issue = task_of(eng, iid, "issue")
    assert (issue.candidates, issue.due_at) == (("qian",), end_of("2026-01-06"))
    finish(eng, iid, "issue", {"circular_no": "青督通〔2026〕1号", "issued_on": "2026-01-06",
                               "circular_file": ["att-final"]}, by="qian")

    # then: issued, after two drafts
    assert completed(eng, iid) == ["every_month", "gather", "merge_compile", "compile",
                                   "approve", "approve_gw", "merge_compile", "compile",
                                   "approve", "approve_gw", "issue", "issued"]
    assert eng.get_instance(iid).state == "completed"


def test_the_october_circular_counts_working_days_past_the_national_day(circular, clock):
    eng = circular
    # given: the worker is back at 09:00 on Mon Oct 5, a holiday (missed months fire once)
    clock.set(bj("2026-10-05T09:00"))
    eng.fire_due_jobs()
    # then: each town's circular is due 5 working days on: Oct 8, 9, Sat 10, 12, 13
    tasks = eng.open_tasks()
    assert len(tasks) == 2 and {t.due_at for t in tasks} == {end_of("2026-10-13")}
    assert [j.due_at for j in eng.list_jobs() if j.kind == "start_timer"] == [
        bj("2026-11-05T09:00").astimezone(timezone.utc)]


def test_a_late_circular_is_supervised_by_the_discipline_secretary(circular, clock):
    eng = circular
    advance_to(eng, clock, bj("2026-01-05T09:00"))
    mine = [t for t in eng.open_tasks() if t.candidates == ("qian",)]
    # when: not drafted by Thu Jan 15
    advance_to(eng, clock, bj("2026-01-15T09:00"))
    # then: the 纪委书记 at the due time, the town's 书记 two working days later
    assert notices(eng, "ji", mine[0].id) == [("escalate", 1, "01-12 23:59")]
    assert ("escalate", 2, "01-14 23:59") in notices(eng, "sun", mine[0].id)
