"""An instance that tracks an item keeps its row (number, fields, state, light) in step."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.fixtures.time import advance_to, bj

DATA = Path(__file__).resolve().parent / "data"


def step(eng, iid, element, data=None):
    task = next(t for t in eng.open_tasks(instance_id=iid) if t.element_id == element)
    eng.complete(task.id, data or {}, by="admin")


def test_an_item_is_numbered_followed_and_closed_only_by_acceptance(org, clock):
    org.deploy((DATA / "item.bpmn").read_text(encoding="utf-8"), by="admin")
    clock.set(bj("2026-09-01T09:00"))
    first = org.start("item_flow", {"title": "公开栏未更新", "source": "上级点",
                                    "category": "村务公开"}, by="zhang", org="v1")
    second = org.start("item_flow", {"title": "活动室破损", "source": "群众提"}, by="zhang",
                       org="v1")
    item = org.get_item(instance_id=first)
    assert (item.number, item.kind, item.state, item.light) == ("WT-2026-0001", "problem",
                                                                "assigned", "green")
    assert org.get_item(instance_id=second).number == "WT-2026-0002"
    # the light follows the deadline of the step at hand
    advance_to(org, clock, bj("2026-09-05T09:00"))
    assert org.get_item(instance_id=first).light == "red"
    assert [i.number for i in org.items(org="t1", light="red")] == ["WT-2026-0002",
                                                                    "WT-2026-0001"]
    step(org, first, "assign", {"responsible_unit": "v1", "responsible_person": "li",
                                "lead_leader": "sun", "measures": "更新公开栏",
                                "due_date": "2026-09-30"})
    item = org.get_item(instance_id=first)
    assert (item.state, item.responsible_person, item.due_date, item.light) == (
        "rectifying", "li", date(2026, 9, 30), None)
    # sent back twice, then accepted
    for _ in range(2):
        step(org, first, "rectify")
        step(org, first, "review", {"accepted": False})
    step(org, first, "rectify")
    assert org.get_item(instance_id=first).state == "reviewing"
    step(org, first, "review", {"accepted": True})
    item = org.get_item(instance_id=first)
    assert (item.state, item.returns, item.light) == ("closed", 2, None)
    assert item.closed_at == clock.now()
    assert org.get_item(number="WT-2026-0001").instance_id == first
    # cancelling the other closes nothing: it is cancelled
    org.cancel(second, by="admin", reason="重复登记")
    assert org.get_item(instance_id=second).state == "cancelled"
    assert [i.number for i in org.items(org="v1", state="closed")] == ["WT-2026-0001"]
