"""Item reads (the rows behind the ledger), paged, newest first."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFound, ValidationError
from engine.models import Item, Organisation
from engine.views import ItemView

MAX_PAGE = 500


def _view(item: Item) -> ItemView:
    return ItemView(item.id, item.instance_id, item.kind, item.number, item.title, item.source,
                    item.category, item.org_id, item.responsible_unit, item.responsible_person,
                    item.lead_leader, item.measures, item.due_date, item.state, item.light,
                    item.returns, item.created_at, item.closed_at)


def get_item(session: Session, *, instance_id: int | None = None,
             number: str | None = None) -> ItemView:
    query = select(Item)
    if instance_id is not None:
        query = query.where(Item.instance_id == instance_id)
    elif number is not None:
        query = query.where(Item.number == number)
    else:
        raise ValidationError({"item": "give an instance id or a number"})
    item = session.execute(query).scalar_one_or_none()
    if item is None:
        raise NotFound(f"no item {number or f'of instance {instance_id}'}")
    return _view(item)


def list_items(session: Session, *, org: str | None = None, kind: str | None = None,
               state: str | None = None, light: str | None = None, limit: int = 100,
               offset: int = 0) -> list[ItemView]:
    """Items under an organisation (its whole subtree), filtered, newest first."""
    if not 0 < limit <= MAX_PAGE or offset < 0:
        raise ValidationError({"limit": f"must be between 1 and {MAX_PAGE}"})
    query = select(Item)
    if org is not None:
        root = session.execute(select(Organisation).where(Organisation.code == org)
                               ).scalar_one_or_none()
        if root is None:
            raise NotFound(f"no organisation {org!r}")
        query = query.join(Organisation, Organisation.id == Item.org_id).where(
            Organisation.path.startswith(root.path, autoescape=True))
    for column, value in ((Item.kind, kind), (Item.state, state), (Item.light, light)):
        if value is not None:
            query = query.where(column == value)
    rows = session.execute(query.order_by(Item.id.desc()).limit(limit).offset(offset)).scalars()
    return [_view(r) for r in rows]
