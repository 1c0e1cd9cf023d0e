"""The inbox (待办 / 已办 / 我发起的 / 抄送我的) and a task as its page shows it.

The diagram tests/engine/data/inbox.bpmn tracks a problem item: 填报整改情况 goes to
the secretary of the instance's branch (zhang in v1, wang in v2) within 2 working
days, then 审核验收 to the town's 组织委员 (zhao) within 3.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from engine import NotFound, ValidationError
from tests.fixtures.time import bj

DATA = Path(__file__).resolve().parent / "data"
FILLED = {"summary": "已更新", "done": True, "kind": "a"}


@pytest.fixture
def inbox(org):
    org.deploy((DATA / "inbox.bpmn").read_text(encoding="utf-8"), by="admin")
    return org


def start(eng, by: str = "zhang", org: str = "v1", title: str = "公开栏未更新") -> int:
    return eng.start("inbox_case", {"title": title}, by=by, org=org)


def task_of(eng, iid: int):
    (task,) = eng.open_tasks(instance_id=iid)
    return task


def ids(page) -> list[int]:
    return [r.instance_id for r in page.rows]


def test_todo_holds_what_one_holds_or_may_claim_and_counts_every_tab(inbox, clock):
    # given: two problems in v1 (zhang is the candidate) and one in v2 (wang)
    first = start(inbox)
    clock.advance(timedelta(minutes=5))
    second = start(inbox, title="账目未公开")
    other = start(inbox, by="wang", org="v2")
    # when / then: each secretary sees only his branch's tasks, with what the list shows
    page = inbox.inbox("zhang", "todo")
    assert (page.total, page.page, page.size, page.pages) == (2, 1, 20, 1)
    assert set(ids(page)) == {first, second}
    row = next(r for r in page.rows if r.instance_id == first)
    assert (row.kind, row.task_name, row.process_name, row.item_number, row.item_title,
            row.org_name, row.light, row.task_state) == (
        "task", "填报整改情况", "收件箱测试", "WT-2026-0001", "公开栏未更新", "一村党支部",
        "green", "open")
    assert ids(inbox.inbox("wang", "todo")) == [other]
    assert inbox.inbox_counts("zhang") == {"todo": 2, "done": 0, "started": 2, "copied": 0}

    # when: zhang claims one; it stays his (assigned), the other is still claimable
    inbox.claim(task_of(inbox, first).id, by="zhang")
    assert inbox.inbox("zhang", "todo").total == 2


def test_done_is_newest_first_and_started_shows_the_current_step(inbox, clock):
    first, second = start(inbox), start(inbox)
    for iid in (first, second):
        clock.advance(timedelta(hours=1))
        inbox.complete(task_of(inbox, iid).id, FILLED, by="zhang")
    # then: 已办 lists what zhang ended, newest first; 待办 is empty; zhao has both reviews
    done = inbox.inbox("zhang", "done")
    assert ids(done) == [second, first]
    assert all(r.task_state == "completed" and r.ended_at for r in done.rows)
    assert all(r.maybe_withdrawable for r in done.rows)
    assert inbox.inbox("zhang", "todo").total == 0
    assert inbox.inbox_counts("zhao")["todo"] == 2
    # and: 我发起的 shows each instance with its open step
    started = inbox.inbox("zhang", "started")
    assert {r.task_name for r in started.rows} == {"审核验收"}
    assert {r.kind for r in started.rows} == {"instance"}

    # when: zhao completes one review, zhang's completion of it is no longer the latest
    review = task_of(inbox, first)
    inbox.complete(review.id, {"opinion": "同意"}, by="zhao")
    done = inbox.inbox("zhang", "done")
    assert {r.instance_id: r.maybe_withdrawable for r in done.rows} == {first: False,
                                                                        second: True}


def test_copied_lists_copies_to_me(inbox):
    iid = start(inbox)
    inbox.copy_to(["li"], by="zhang", task_id=task_of(inbox, iid).id, note="请知悉")
    page = inbox.inbox("li", "copied")
    (row,) = page.rows
    assert (row.kind, row.instance_id, row.task_name, row.copy_sent_by, row.copy_sent_by_name,
            row.copy_note, row.copy_read_at) == (
        "copy", iid, "填报整改情况", "zhang", "张书记", "请知悉", None)
    assert inbox.inbox_counts("li")["copied"] == 1


def test_red_comes_first_and_filters_narrow_the_list(inbox, clock):
    # given: an early problem that goes overdue and a later one still green
    late = start(inbox)
    clock.set(bj("2026-03-05T09:00"))
    fresh = start(inbox, title="新问题")
    inbox.fire_due_jobs()
    assert task_of(inbox, late).light == "red"
    # then: sorting by light puts red first; by created, newest first
    assert ids(inbox.inbox("zhang", "todo", sort="light")) == [late, fresh]
    assert ids(inbox.inbox("zhang", "todo", sort="created")) == [fresh, late]
    assert ids(inbox.inbox("zhang", "todo", sort="due")) == [late, fresh]
    # and: the filters
    assert ids(inbox.inbox("zhang", "todo", light="red")) == [late]
    assert ids(inbox.inbox("zhang", "todo", light="none")) == []
    assert ids(inbox.inbox("zhang", "todo", due_after=bj("2026-03-06T00:00"))) == [fresh]
    assert ids(inbox.inbox("zhang", "todo", due_before=bj("2026-03-06T00:00"))) == [late]
    assert inbox.inbox("zhang", "todo", process_key="other").total == 0
    assert inbox.inbox("zhang", "todo", org="t1").total == 2  # the town's subtree
    assert inbox.inbox("zhang", "todo", org="v2").total == 0
    # and: paging
    page = inbox.inbox("zhang", "todo", sort="light", size=1, page=2)
    assert (ids(page), page.total, page.pages) == ([fresh], 2, 2)
    assert inbox.inbox("zhang", "todo", page=9).rows == ()


@pytest.mark.parametrize("kwargs, field", [
    ({"tab": "trash"}, "tab"), ({"sort": "name"}, "sort"), ({"light": "blue"}, "light"),
    ({"page": 0}, "page"), ({"size": 101}, "size"), ({"org": "nowhere"}, "org"),
])
def test_bad_arguments_are_refused(inbox, kwargs, field):
    args = {"tab": "todo", **kwargs}
    with pytest.raises(ValidationError) as err:
        inbox.inbox("zhang", args.pop("tab"), **args)
    assert field in err.value.fields


def test_the_inbox_never_loads_a_workflow(inbox, monkeypatch):
    iid = start(inbox)
    inbox.copy_to(["li"], by="zhang", instance_id=iid)
    import engine.runtime

    def refuse(*args, **kwargs):
        raise AssertionError("the inbox loaded a workflow")

    monkeypatch.setattr(engine.runtime, "load", refuse)
    for tab in ("todo", "done", "started", "copied"):
        inbox.inbox("zhang", tab)
    inbox.inbox("li", "copied")
    inbox.task_for("zhang", task_of(inbox, iid).id)


def test_who_may_see_a_task(inbox):
    task = task_of(inbox, start(inbox))
    # the candidate, someone with a role in the branch, the town above it and its office,
    # an administrator
    for who in ("zhang", "li", "sun", "zhao", "qian", "admin"):
        assert inbox.task_for(who, task.id).task.id == task.id
    # never the secretary of another village, nor a task that does not exist
    with pytest.raises(NotFound):
        inbox.task_for("wang", task.id)
    with pytest.raises(NotFound):
        inbox.task_for("zhang", "no-such-task")
    with pytest.raises(NotFound):
        inbox.task_people("wang", task.id)


def test_a_copy_lets_its_recipient_see_the_task(inbox):
    task = task_of(inbox, start(inbox))
    inbox.grant_role("wang", "party_member", "v2")
    inbox.copy_to(["sun"], by="zhang", task_id=task.id)
    with pytest.raises(NotFound):
        inbox.task_for("wang", task.id)
    # wang cannot be sent a copy of a v1 task (he cannot see v1); sun can, and sees it
    assert inbox.task_for("sun", task.id).task.id == task.id


def test_the_verbs_open_to_each_viewer(inbox):
    iid = start(inbox)
    task = task_of(inbox, iid)
    detail = inbox.task_for("zhang", task.id)
    assert (detail.process_name, detail.org_name, detail.item.number, detail.holder) == (
        "收件箱测试", "一村党支部", "WT-2026-0001", None)
    assert {"claim", "complete", "transfer", "delegate", "add_signer", "send_back", "attach",
            "comment", "copy", "request_extension"} <= detail.actions
    assert "urge" not in detail.actions and "unclaim" not in detail.actions
    # a supervisor of the branch urges and may transfer, but does not complete
    sun = inbox.task_for("sun", task.id).actions
    assert {"urge", "transfer"} <= sun and "complete" not in sun
    # li, a cadre of the branch, only reads, comments and copies
    assert inbox.task_for("li", task.id).actions == {"comment", "copy"}

    # when zhang claims it he may give it back; delegated, only the delegate resolves
    inbox.claim(task.id, by="zhang")
    assert "unclaim" in inbox.task_for("zhang", task.id).actions
    inbox.delegate(task.id, "li", by="zhang")
    assert {"resolve", "attach"} <= inbox.task_for("li", task.id).actions
    owner = inbox.task_for("zhang", task.id)
    assert (owner.holder, owner.delegation) == ("zhang", "pending")
    assert "complete" not in owner.actions and "attach" in owner.actions
    inbox.resolve(task.id, by="li", data={"summary": "草稿"})
    back = inbox.task_for("zhang", task.id)
    assert back.draft == {"summary": "草稿"} and "complete" in back.actions

    # an extension request: its maker may withdraw it, a supervisor decides it
    inbox.request_extension(task.id, by="zhang", reason="材料未齐", working_days=2)
    assert "withdraw_extension" in inbox.task_for("zhang", task.id).actions
    sun = inbox.task_for("sun", task.id)
    assert "decide_extension" in sun.actions and sun.extension_request.reason == "材料未齐"

    # once completed, only comments and copies remain
    inbox.complete(task.id, FILLED, by="zhang")
    assert inbox.task_for("zhang", task.id).actions == {"comment", "copy"}


def test_signers_have_the_task_in_turn(inbox):
    task = task_of(inbox, start(inbox))
    inbox.claim(task.id, by="zhang")
    inbox.add_signer(task.id, ["sun"], by="zhang", position="before")
    assert "sign" in inbox.task_for("sun", task.id).actions
    assert inbox.inbox("sun", "todo").total == 1
    detail = inbox.task_for("zhang", task.id)
    assert (detail.signing, detail.holder) == ("before", "zhang")
    assert "complete" not in detail.actions


def test_people_a_task_may_go_to(inbox):
    task = task_of(inbox, start(inbox))
    people = inbox.task_people("zhang", task.id)
    # those who see v1 (its branch, the town, its office, the county), never v2's wang
    assert [u for u, _ in people] == ["admin", "li", "qian", "sun", "zhao"]
    assert dict(people)["li"] == "李四"
    assert inbox.display_names(["zhang", "nobody"]) == {"zhang": "张书记"}
    assert inbox.process_choices() == [("inbox_case", "收件箱测试")]
