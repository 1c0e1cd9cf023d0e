"""Tracked items (问题、督办事项、信访案件): created with the instance, kept in step with it.

A process whose start event carries ``duban:item kind="problem"`` tracks one
item per instance. Its fields are read from the instance data under fixed
names (title, source, category, responsible_unit, responsible_person,
lead_leader, measures, due_date); its state changes when a step marked
``duban:itemState value="..."`` starts; a step marked ``closed`` closes it
(销号) — the only way an item is closed. Sending it from ``reviewing`` back to
``rectifying`` counts as a return (退回整改). The light follows the instance's.
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from engine.models import Item, ProcessInstance

if TYPE_CHECKING:
    from engine.bpmn.runner import Changes
    from engine.db.command import CommandContext

PREFIXES = {"problem": "WT", "matter": "DB", "petition": "XF"}
TEXT_FIELDS = ("title", "source", "category", "responsible_unit", "responsible_person",
               "lead_leader", "measures")
CLOSED, CANCELLED = "closed", "cancelled"


def _number(ctx: "CommandContext", kind: str) -> str:
    prefix = f"{PREFIXES.get(kind, kind[:2].upper())}-{ctx.now.year}-"
    last = ctx.session.execute(select(func.max(Item.number)).where(
        Item.number.startswith(prefix, autoescape=True))).scalar()
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


def _text(value: Any, limit: int) -> str | None:
    if value is None or value == "":
        return None
    return str(value)[:limit]


def _apply_data(item: Item, data: dict[str, Any]) -> None:
    for name in TEXT_FIELDS:
        if name in data:
            setattr(item, name, _text(data[name], 4000 if name == "measures" else 400))
    due = data.get("due_date")
    if isinstance(due, str):
        try:
            item.due_date = date.fromisoformat(due[:10])
        except ValueError:
            pass
    elif isinstance(due, date):
        item.due_date = due


def sync(ctx: "CommandContext", row: ProcessInstance, kind: str, changes: "Changes",
         data: dict[str, Any], element_extensions: dict[str, dict[str, Any]]) -> Item:
    """Create or update the item of an instance after a command moved it."""
    item = ctx.session.execute(select(Item).where(Item.instance_id == row.id)).scalar_one_or_none()
    if item is None:
        item = Item(instance_id=row.id, kind=kind, number=_number(ctx, kind), org_id=row.org_id,
                    state="registered", returns=0, created_at=ctx.now, updated_at=ctx.now)
        ctx.session.add(item)
    before = (item.state, item.light)
    _apply_data(item, data)
    for event in changes.events:
        if event.kind != "started":
            continue
        mark = (element_extensions.get(event.element_id) or {}).get("itemState")
        if not mark or item.state == CLOSED:
            continue
        if item.state == "reviewing" and mark["value"] == "rectifying":
            item.returns += 1
        item.state = mark["value"]
        if item.state == CLOSED:
            item.closed_at = ctx.now
    if row.state == "cancelled" and item.state != CLOSED:
        item.state = CANCELLED
    item.light = None if item.state in (CLOSED, CANCELLED) else row.light
    item.updated_at = ctx.now
    if (item.state, item.light) != before:
        ctx.record("item.changed", by="system", instance_id=row.id, number=item.number,
                   state=[before[0], item.state], light=[before[1], item.light])
    return item
