"""Send back (退回) and withdraw (撤回): moving work back to an earlier step.

Every walk runs twice: with one Engine, and with a fresh Engine for each step, so the
stored (compacted) tree left by a move must load and run on from the database alone.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import select

from engine import ConflictError, Engine, FrozenClock, PermissionDenied, ValidationError
from engine.models import AuditEvent, Comment
from tests.engine.test_repository import diagram
from tests.fixtures.walk import completed, open_elements

PROCESSES = Path(__file__).resolve().parent.parent.parent / "processes"


def flow(*pairs: tuple[str, str]) -> str:
    return "".join(f'<bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}"/>'
                   for a, b in pairs)


def user(element: str, name: str, role: str | None = None, org: str = "instance",
         extra: str = "") -> str:
    rule = f'<duban:assignment role="{role}" org="{org}"/>' if role else ""
    ext = f"<bpmn:extensionElements>{rule}{extra}</bpmn:extensionElements>" if rule or extra \
        else ""
    return f'<bpmn:userTask id="{element}" name="{name}">{ext}</bpmn:userTask>'


def timer(element: str, attached: str, duration: str, *, interrupting: bool = True) -> str:
    return (f'<bpmn:boundaryEvent id="{element}" attachedToRef="{attached}" '
            f'cancelActivity="{"true" if interrupting else "false"}"><bpmn:timerEventDefinition>'
            f"<bpmn:timeDuration>{duration}</bpmn:timeDuration></bpmn:timerEventDefinition>"
            "</bpmn:boundaryEvent>")


# step1 by the village secretary, step2 by a village cadre, step3 by the town
THREE_STEPS = diagram(
    '<bpmn:startEvent id="s"/>' + user("step1", "填报", "书记") + user("step2", "初审", "村干部")
    + user("step3", "审核", "组织委员", "town") + '<bpmn:endEvent id="e"/>'
    + flow(("s", "step1"), ("step1", "step2"), ("step2", "step3"), ("step3", "e")),
    pid="three_steps")

# the same, with a 2-day timer on step3 and a 1-day timer on step1, each leading to a late end
TIMED = diagram(
    '<bpmn:startEvent id="s"/>' + user("step1", "填报", "书记") + timer("t1", "step1", "P1D")
    + user("step2", "初审", "村干部") + user("step3", "审核", "组织委员", "town")
    + timer("t3", "step3", "P2D") + '<bpmn:endEvent id="e"/><bpmn:endEvent id="late"/>'
    + flow(("s", "step1"), ("step1", "step2"), ("step2", "step3"), ("step3", "e"),
           ("t1", "late"), ("t3", "late")),
    pid="timed")

# step1 → split → (a1 → a2 | b) → join → after
PARALLEL = diagram(
    '<bpmn:startEvent id="s"/>' + user("step1", "填报", "书记")
    + '<bpmn:parallelGateway id="split"/>' + user("a1", "甲一") + user("a2", "甲二")
    + user("b", "乙") + '<bpmn:parallelGateway id="join"/>' + user("after", "汇总")
    + '<bpmn:endEvent id="e"/>'
    + flow(("s", "step1"), ("step1", "split"), ("split", "a1"), ("a1", "a2"), ("a2", "join"),
           ("split", "b"), ("b", "join"), ("join", "after"), ("after", "e")),
    pid="parallel")

# step1 → subprocess (in1 → in2) → after
SUBPROCESS = diagram(
    '<bpmn:startEvent id="s"/>' + user("step1", "填报", "书记")
    + '<bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/>' + user("in1", "内一")
    + user("in2", "内二") + '<bpmn:endEvent id="se"/>'
    + flow(("ss", "in1"), ("in1", "in2"), ("in2", "se")) + "</bpmn:subProcess>"
    + user("after", "汇总") + '<bpmn:endEvent id="e"/>'
    + flow(("s", "step1"), ("step1", "sub"), ("sub", "after"), ("after", "e")),
    pid="subprocess")


class Steps:
    """Drives one test; in ``fresh`` mode every call gets a new Engine on the same database."""

    def __init__(self, url: str, clock: FrozenClock, base: Engine, fresh: bool) -> None:
        self.url, self.clock, self.base, self.fresh = url, clock, base, fresh
        self.made: list[Engine] = []

    @property
    def eng(self) -> Engine:
        if not self.fresh:
            return self.base
        engine = Engine(self.url, clock=self.clock)
        self.made.append(engine)
        return engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self.eng, name)

    def task(self, iid: int, element: str) -> Any:
        found = [t for t in self.base.open_tasks(instance_id=iid) if t.element_id == element]
        assert len(found) == 1, open_elements(self.base, iid)
        return found[0]

    def finish(self, iid: int, element: str, by: str, data: dict | None = None) -> None:
        self.eng.complete(self.task(iid, element).id, data or {}, by=by)

    def kinds(self, iid: int, element: str) -> list[str]:
        return [e.kind for e in self.base.history(iid) if e.element_id == element]


@pytest.fixture(params=[False, True], ids=["one-engine", "fresh-engine"])
def steps(request: pytest.FixtureRequest, org: Engine, db_url: str,
          clock: FrozenClock) -> Iterator[Steps]:
    driver = Steps(db_url, clock, org, request.param)
    yield driver
    for engine in driver.made:
        engine.dispose()


def audit_actions(eng: Engine, iid: int) -> list[tuple[str, dict]]:
    import json

    with eng.sessions() as s:
        rows = s.execute(select(AuditEvent).where(AuditEvent.instance_id == iid)
                         .order_by(AuditEvent.seq)).scalars().all()
        return [(r.action, json.loads(r.detail)) for r in rows]


def started_three(steps: Steps, xml: str = THREE_STEPS, key: str = "three_steps") -> int:
    steps.deploy(xml, by="admin")
    iid = steps.start(key, {"title": "公开栏"}, by="zhang", org="v1")
    steps.finish(iid, "step1", "zhang", {"facts": "初稿"})
    steps.finish(iid, "step2", "li", {"opinion": "同意"})
    return iid


# -- send back -------------------------------------------------------------------


def test_send_back_to_the_first_step_then_to_the_previous_one_and_finish(steps):
    # given: step3 open at the town after step1 (zhang) and step2 (li)
    iid = started_three(steps)
    step3 = steps.task(iid, "step3")
    assert [t.element_id for t in steps.send_back_targets(step3.id)] == ["step2", "step1"]
    assert steps.send_back_targets(step3.id)[1].completed_by == "zhang"

    # when: zhao sends it back to step1
    back = steps.send_back(step3.id, to_element="step1", reason="事实不清", by="zhao")

    # then: step1 is open again for zhang (who did it), with the data as it is now
    assert (back.element_id, back.assignee, back.candidates) == ("step1", "zhang", ("zhang",))
    assert open_elements(steps.base, iid) == ["step1"]
    assert steps.get_task(step3.id).state == "cancelled"
    assert steps.kinds(iid, "step3") == ["started", "sent_back", "cancelled"]
    data = steps.get_instance(iid).data
    assert (data["facts"], data["opinion"]) == ("初稿", "同意")

    # when: step1 and step2 are done again, and step3 is sent back by default (to step2)
    steps.finish(iid, "step1", "zhang", {"facts": "补充"})
    steps.finish(iid, "step2", "li", {"opinion": "同意"})
    back = steps.send_back(steps.task(iid, "step3").id, reason="意见太简单", by="zhao")
    assert (back.element_id, back.assignee) == ("step2", "li")

    # then: the instance runs on to its end
    steps.finish(iid, "step2", "li", {"opinion": "同意，已核实"})
    steps.finish(iid, "step3", "zhao")
    assert steps.get_instance(iid).state == "completed"
    assert completed(steps.base, iid) == ["s", "step1", "step2", "step1", "step2", "step2",
                                          "step3", "e"]
    assert steps.get_instance(iid).data["facts"] == "补充"
    sent = [d for a, d in audit_actions(steps.base, iid) if a == "task.sent_back"]
    assert [(d["from_element"], d["to_element"], d["reason"]) for d in sent] == [
        ("step3", "step1", "事实不清"), ("step3", "step2", "意见太简单")]
    assert steps.verify_audit().ok


def test_send_back_needs_a_reason_a_done_target_and_the_holder(steps):
    iid = started_three(steps)
    step3 = steps.task(iid, "step3")
    with pytest.raises(ValidationError) as err:
        steps.send_back(step3.id, to_element="step1", reason="  ", by="zhao")
    assert "reason" in err.value.fields
    # step3 itself and a step not in the diagram were never done before
    for target in ("step3", "nowhere"):
        with pytest.raises(ValidationError) as err:
            steps.send_back(step3.id, to_element=target, reason="退回", by="zhao")
        assert "step2 (初审), step1 (填报)" in err.value.fields["to_element"]
    # wang, of the other village, may not act on the task
    with pytest.raises(PermissionDenied):
        steps.send_back(step3.id, to_element="step1", reason="退回", by="wang")
    # nothing changed
    assert open_elements(steps.base, iid) == ["step3"]
    assert steps.kinds(iid, "step3") == ["started"]


def test_a_target_not_yet_done_is_refused(steps):
    steps.deploy(THREE_STEPS, by="admin")
    iid = steps.start("three_steps", by="zhang", org="v1")
    steps.finish(iid, "step1", "zhang")
    step2 = steps.task(iid, "step2")
    with pytest.raises(ValidationError) as err:
        steps.send_back(step2.id, to_element="step3", reason="退回", by="li")
    assert "step1 (填报)" in err.value.fields["to_element"]


def test_no_send_back_on_a_suspended_instance(steps):
    iid = started_three(steps)
    step3 = steps.task(iid, "step3")
    steps.suspend(iid, by="admin")
    with pytest.raises(ConflictError):
        steps.send_back(step3.id, to_element="step1", reason="退回", by="zhao")
    assert steps.send_back_targets(step3.id) == []
    steps.resume(iid, by="admin")
    version = steps.get_instance(iid).lock_version
    steps.send_back(step3.id, to_element="step1", reason="退回", by="zhao")
    assert steps.get_instance(iid).lock_version > version


def timer_jobs(eng: Engine, iid: int) -> list[tuple[str, Any]]:
    return [(j.task_id, j.due_at) for j in eng.list_jobs() if j.kind == "timer"
            and j.instance_id == iid]


def test_boundary_timers_of_the_current_task_and_of_the_target(steps, clock):
    # given: step3 waits with its 2-day timer armed
    iid = started_three(steps, TIMED, "timed")
    [(old_timer, due)] = timer_jobs(steps.base, iid)
    assert due == clock.now() + timedelta(days=2)

    # when: it is sent back a day later to step1, which has a 1-day timer
    clock.advance(days=1)
    steps.send_back(steps.task(iid, "step3").id, to_element="step1", reason="重填", by="zhao")

    # then: step3's timer job is gone, step1's is there, due a day from now
    [(new_timer, due)] = timer_jobs(steps.base, iid)
    assert new_timer != old_timer and due == clock.now() + timedelta(days=1)
    assert steps.kinds(iid, "t3") == ["started", "cancelled"]
    assert steps.kinds(iid, "t1") == ["started", "cancelled", "started"]

    # when: the day passes, step1's timer fires as it would on a normal arrival
    clock.advance(days=1)
    steps.fire_due_jobs()
    assert steps.get_instance(iid).state == "completed"
    assert completed(steps.base, iid)[-2:] == ["t1", "late"]
    assert steps.list_jobs() == []


def test_the_target_timer_is_cancelled_when_the_work_moves_on(steps, clock):
    iid = started_three(steps, TIMED, "timed")
    steps.send_back(steps.task(iid, "step3").id, to_element="step1", reason="重填", by="zhao")
    steps.finish(iid, "step1", "zhang")
    # step1's timer went with it; step2 has none
    assert timer_jobs(steps.base, iid) == []
    steps.finish(iid, "step2", "li")
    assert len(timer_jobs(steps.base, iid)) == 1
    steps.finish(iid, "step3", "zhao")
    assert steps.get_instance(iid).state == "completed" and steps.list_jobs() == []


def test_subprocess_levels_are_kept_apart(steps):
    steps.deploy(SUBPROCESS, by="admin")
    iid = steps.start("subprocess", by="zhang", org="v1")
    steps.finish(iid, "step1", "zhang")
    steps.finish(iid, "in1", "zhang")
    in2 = steps.task(iid, "in2")
    # from inside the subprocess, the step outside is another process level
    with pytest.raises(ConflictError, match="another \\(sub\\)process"):
        steps.send_back(in2.id, to_element="step1", reason="退回", by="zhang")
    assert [t.element_id for t in steps.send_back_targets(in2.id)] == ["in1"]
    # within the subprocess it works, and the subprocess finishes normally
    steps.send_back(in2.id, to_element="in1", reason="退回", by="zhang")
    steps.finish(iid, "in1", "zhang")
    steps.finish(iid, "in2", "zhang")
    after = steps.task(iid, "after")
    # from outside, the steps inside the (ended) subprocess are out of reach
    with pytest.raises(ConflictError, match="another \\(sub\\)process"):
        steps.send_back(after.id, to_element="in1", reason="退回", by="zhang")
    assert [t.element_id for t in steps.send_back_targets(after.id)] == ["step1"]
    steps.finish(iid, "after", "zhang")
    assert steps.get_instance(iid).state == "completed"
    assert completed(steps.base, iid).count("in1") == 2


def test_parallel_branches(steps):
    steps.deploy(PARALLEL, by="admin")
    iid = steps.start("parallel", by="zhang", org="v1")
    steps.finish(iid, "step1", "zhang")
    steps.finish(iid, "a1", "zhang", {"a": 1})
    a2 = steps.task(iid, "a2")
    # from inside a branch while b is open: not out of the branch
    with pytest.raises(ConflictError, match="parallel branch"):
        steps.send_back(a2.id, to_element="step1", reason="退回", by="zhang")
    assert [t.element_id for t in steps.send_back_targets(a2.id)] == ["a1"]
    # within its own branch it works, and the join still waits for both branches
    steps.send_back(a2.id, to_element="a1", reason="退回", by="zhang")
    assert open_elements(steps.base, iid) == ["a1", "b"]
    steps.finish(iid, "b", "zhang")
    steps.finish(iid, "a1", "zhang", {"a": 2})
    assert open_elements(steps.base, iid) == ["a2"]
    steps.finish(iid, "a2", "zhang")
    after = steps.task(iid, "after")
    # after the join, a step inside a branch would leave the join waiting forever
    with pytest.raises(ConflictError, match="joins at"):
        steps.send_back(after.id, to_element="a1", reason="退回", by="zhang")
    assert [t.element_id for t in steps.send_back_targets(after.id)] == ["step1"]
    # back before the split: both branches run again
    steps.send_back(after.id, reason="重来", by="zhang")
    steps.finish(iid, "step1", "zhang")
    assert open_elements(steps.base, iid) == ["a1", "b"]
    for element in ("a1", "b", "a2", "after"):
        steps.finish(iid, element, "zhang")
    assert steps.get_instance(iid).state == "completed"
    assert completed(steps.base, iid).count("join") == 2
    assert steps.get_instance(iid).data["a"] == 2


def test_a_multi_instance_step_is_no_target(steps):
    xml = diagram(
        '<bpmn:startEvent id="s"/><bpmn:userTask id="vote" name="表决">'
        '<bpmn:multiInstanceLoopCharacteristics isSequential="false"><bpmn:loopCardinality>2'
        "</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"
        + user("after", "汇总") + '<bpmn:endEvent id="e"/>'
        + flow(("s", "vote"), ("vote", "after"), ("after", "e")), pid="mi")
    steps.deploy(xml, by="admin")
    iid = steps.start("mi", by="zhang", org="v1")
    votes = [t for t in steps.base.open_tasks(instance_id=iid)]
    # one instance of the multi-instance step cannot be sent back on its own
    assert len(votes) == 2 and steps.send_back_targets(votes[0].id) == []
    for task in votes:
        steps.complete(task.id, by="zhang")
    after = steps.task(iid, "after")
    with pytest.raises(ConflictError, match="multi-instance"):
        steps.send_back(after.id, to_element="vote", reason="重新表决", by="zhang")


def test_sending_back_again_and_again_keeps_the_stored_tree_small(org):
    from sqlalchemy import func

    from engine.models import ProcessInstance

    def size() -> int:
        with org.sessions() as s:
            return s.execute(select(func.length(ProcessInstance.state_json)).where(
                ProcessInstance.id == iid)).scalar_one()

    org.deploy(TIMED, by="admin")
    iid = org.start("timed", by="zhang", org="v1")
    org.complete(org.open_tasks(instance_id=iid)[0].id, by="zhang")
    org.complete(org.open_tasks(instance_id=iid)[0].id, by="li")
    small = 0
    for round_ in range(60):
        step3 = org.open_tasks(instance_id=iid)[0]
        org.send_back(step3.id, reason=f"第{round_}次", by="zhao")
        org.complete(org.open_tasks(instance_id=iid)[0].id, by="li")
        if round_ == 5:
            small = size()
    assert size() < small * 1.05
    assert len(timer_jobs(org, iid)) == 1


# -- withdraw --------------------------------------------------------------------


def test_withdraw_while_the_next_step_is_untouched(steps):
    steps.deploy(THREE_STEPS, by="admin")
    iid = steps.start("three_steps", {"title": "公开栏"}, by="zhang", org="v1")
    step1 = steps.task(iid, "step1")
    steps.finish(iid, "step1", "zhang", {"facts": "初稿"})
    step2 = steps.task(iid, "step2")
    # the button shows for zhang only
    assert steps.withdrawable(iid, by="zhang").id == step1.id
    assert steps.withdrawable(iid, by="li") is None
    with pytest.raises(PermissionDenied):
        steps.withdraw(step1.id, by="wang")

    # when: zhang withdraws step1
    again = steps.withdraw(step1.id, by="zhang", reason="漏填附件")

    # then: step2 is cancelled, step1 is his again with what he filled
    assert (again.element_id, again.assignee, again.state) == ("step1", "zhang", "open")
    assert steps.get_task(step2.id).state == "cancelled"
    assert open_elements(steps.base, iid) == ["step1"]
    assert steps.get_instance(iid).data["facts"] == "初稿"
    assert steps.kinds(iid, "step1")[-3:] == ["completed", "withdrawn", "started"]
    assert steps.withdrawable(iid, by="zhang") is None
    with pytest.raises(ConflictError):
        steps.withdraw(step1.id, by="zhang")  # it is the old task: done with

    # and the instance runs on
    steps.finish(iid, "step1", "zhang", {"facts": "补附件"})
    steps.finish(iid, "step2", "li")
    steps.finish(iid, "step3", "zhao")
    assert steps.get_instance(iid).state == "completed"
    withdrawn = [d for a, d in audit_actions(steps.base, iid) if a == "task.withdrawn"]
    assert [(d["element_id"], d["cancelled"], d["reason"]) for d in withdrawn] == [
        ("step1", [step2.id], "漏填附件")]
    assert steps.verify_audit().ok


def test_the_starter_may_withdraw_the_first_step_done_for_him(steps):
    steps.deploy(THREE_STEPS, by="admin")
    iid = steps.start("three_steps", by="zhang", org="v1")
    step1 = steps.task(iid, "step1")
    steps.finish(iid, "step1", "admin")
    assert steps.withdraw(step1.id, by="zhang").assignee == "zhang"
    # but not a later step someone else completed
    steps.finish(iid, "step1", "zhang")
    step2 = steps.task(iid, "step2")
    steps.finish(iid, "step2", "li")
    with pytest.raises(PermissionDenied):
        steps.withdraw(step2.id, by="zhang")
    assert steps.withdraw(step2.id, by="li").element_id == "step2"


@pytest.mark.parametrize("act", ["claim", "complete", "comment"])
def test_withdraw_is_refused_once_the_next_step_was_acted_on(steps, clock, act):
    steps.deploy(THREE_STEPS, by="admin")
    iid = steps.start("three_steps", by="zhang", org="v1")
    step1 = steps.task(iid, "step1")
    steps.finish(iid, "step1", "zhang")
    step2 = steps.task(iid, "step2")
    if act == "claim":
        steps.claim(step2.id, by="li")
    elif act == "complete":
        steps.complete(step2.id, by="li")
    else:
        with steps.base.sessions() as s:
            s.add(Comment(instance_id=iid, task_id=step2.id, author="li", body="收到",
                          created_at=clock.now()))
            s.commit()
    assert steps.withdrawable(iid, by="zhang") is None
    with pytest.raises(ConflictError, match="the next step has already been acted on"):
        steps.withdraw(step1.id, by="zhang")
    assert steps.kinds(iid, "step1") == ["started", "completed"]


def test_withdraw_takes_the_next_step_timer_away(steps):
    iid = started_three(steps, TIMED, "timed")
    step2 = [e for e in steps.base.history(iid) if e.element_id == "step2"][0]
    assert len(timer_jobs(steps.base, iid)) == 1
    again = steps.withdraw(step2.task_id, by="li")
    assert timer_jobs(steps.base, iid) == [] and again.assignee == "li"
    steps.finish(iid, "step2", "li")
    steps.finish(iid, "step3", "zhao")
    assert steps.get_instance(iid).state == "completed"


def test_withdraw_across_a_parallel_split(steps):
    steps.deploy(PARALLEL, by="admin")
    iid = steps.start("parallel", by="zhang", org="v1")
    step1 = steps.task(iid, "step1")
    steps.finish(iid, "step1", "zhang")
    assert open_elements(steps.base, iid) == ["a1", "b"]
    steps.withdraw(step1.id, by="zhang")
    assert open_elements(steps.base, iid) == ["step1"]
    for element in ("step1", "a1", "b", "a2", "after"):
        steps.finish(iid, element, "zhang")
    assert steps.get_instance(iid).state == "completed"
    assert completed(steps.base, iid).count("join") == 1


def test_withdraw_into_and_out_of_a_subprocess(steps):
    steps.deploy(SUBPROCESS, by="admin")
    iid = steps.start("subprocess", by="zhang", org="v1")
    step1 = steps.task(iid, "step1")
    steps.finish(iid, "step1", "zhang")
    # the completion entered the subprocess: taking it back cancels the subprocess
    steps.withdraw(step1.id, by="zhang")
    assert open_elements(steps.base, iid) == ["step1"]
    assert steps.kinds(iid, "in1")[-1] == "cancelled"
    steps.finish(iid, "step1", "zhang")
    steps.finish(iid, "in1", "zhang")
    in2 = steps.task(iid, "in2")
    steps.finish(iid, "in2", "zhang")
    # the completion of in2 ended the subprocess: its next step is a level up
    assert steps.withdrawable(iid, by="zhang") is None
    with pytest.raises(ConflictError, match="another \\(sub\\)process"):
        steps.withdraw(in2.id, by="zhang")
    steps.finish(iid, "after", "zhang")
    assert steps.get_instance(iid).state == "completed"


def test_a_delegated_task_is_not_sent_back_until_it_is_back(steps):
    from engine.models import HumanTask

    iid = started_three(steps)
    step3 = steps.task(iid, "step3")
    with steps.base.sessions() as s:
        row = s.get(HumanTask, step3.id)
        row.owner, row.assignee, row.delegation = "zhao", "sun", "pending"
        s.commit()
    # the delegate works on it for zhao: only zhao, once it is back, may send it back
    with pytest.raises(ConflictError, match="delegated"):
        steps.send_back(step3.id, to_element="step1", reason="退回", by="sun")


# -- a shipped procedure -----------------------------------------------------------


def test_rectification_sent_back_from_acceptance(steps):
    # given: 问题整改销号, applied for closing and now at 审核验收 with the town's zhao
    steps.deploy_file(PROCESSES / "p2_problem_rectification.bpmn", by="admin")
    iid = steps.start("problem_rectification", {
        "title": "村务公开栏内容未及时更新", "source": "上级点", "description": "三季度未公开"},
        by="zhang", org="v1")
    steps.finish(iid, "assign", "zhao", {
        "responsible_unit": "v1", "responsible_person": "li", "lead_leader": "sun",
        "measures": "补公开", "due_date": "2026-04-30"})
    steps.finish(iid, "rectify", "li", {"progress": "已补公开", "completion_percent": 100,
                                        "next_step": "申请销号"})
    steps.finish(iid, "apply_close", "li", {"completion_summary": "已完成",
                                            "completed_on": "2026-03-02",
                                            "evidence": ["att-1"]})
    review = steps.task(iid, "review")
    assert [t.element_id for t in steps.send_back_targets(review.id)] == [
        "apply_close", "rectify", "assign"]

    # when: the acceptance sends the rectification back, with a reason
    back = steps.send_back(review.id, to_element="rectify", reason="佐证材料不全", by="zhao")

    # then: 整改 is li's again, with its limit; the item counts one return
    assert (back.element_id, back.assignee) == ("rectify", "li")
    assert back.due_at is not None
    item = steps.get_item(instance_id=iid)
    assert (item.state, item.returns) == ("rectifying", 1)
    assert steps.get_instance(iid).data["progress_reports"][0]["progress"] == "已补公开"

    # when: sent back again, now to 申请销号 (no item state of its own): one more return
    steps.finish(iid, "rectify", "li", {"progress": "补齐材料", "completion_percent": 100,
                                        "next_step": "申请销号"})
    steps.finish(iid, "apply_close", "li", {"completion_summary": "已完成",
                                            "completed_on": "2026-03-02",
                                            "evidence": ["att-1"]})
    steps.send_back(steps.task(iid, "review").id, to_element="apply_close",
                    reason="完成日期有误", by="zhao")
    assert steps.get_item(instance_id=iid).returns == 2
    steps.finish(iid, "apply_close", "li", {"completion_summary": "已完成",
                                            "completed_on": "2026-03-03",
                                            "evidence": ["att-1"]})

    # then: accepted, the item is closed; withdrawing the acceptance cannot reopen it
    review = steps.task(iid, "review")
    steps.finish(iid, "review", "zhao", {"conclusion": "通过", "review_comment": "整改到位",
                                         "poor_performance": False})
    assert steps.get_item(instance_id=iid).state == "closed"
    with pytest.raises(ConflictError, match="closed"):
        steps.withdraw(review.id, by="zhao")
    assert steps.withdrawable(iid, by="zhao") is None
    assert open_elements(steps.base, iid) == ["publish"]
