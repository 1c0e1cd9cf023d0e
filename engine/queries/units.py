"""The scope of a report and the units (承办单位) it is broken down by.

A report (dashboard, ledger, circular) is about one organisation the asking
person may see — its *scope* — and the *units* directly under it. Each child
organisation is a unit, except offices (党建工作站, 督查室, 纪委), whose work
counts for the organisation they belong to: in a town's report the town's own
row (镇本级) holds the town and its offices, and each village or community
branch has a row. Anything deeper counts for the unit it lies under.

A person may report on an organisation they see (:func:`engine.permissions.
visible_org_paths`: where they hold a role and everything below; an office
sees its town); administrators and the ``system`` actor see everything.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import permissions
from engine.errors import NotFound, PermissionDenied, ValidationError
from engine.models import Organisation
from engine.organisations import SYSTEM_ACTOR, OrgRef


def _ref(org: Organisation) -> OrgRef:
    return OrgRef(org.id, org.code, org.name, org.kind, org.parent_id, org.path)


@dataclass(frozen=True)
class Scope:
    org: OrgRef
    #: every organisation of the subtree (id → ref)
    orgs: dict[int, OrgRef]
    #: every organisation of the subtree (id) → the unit it counts for
    unit_of: dict[int, OrgRef]
    #: the units, the scope's own row first, then the others by code
    units: tuple[OrgRef, ...]

    def unit_ids(self, code: str) -> list[int]:
        """Ids of the organisations that count for the unit *code*.

        :raise NotFound: *code* is not a unit of this scope.
        """
        ids = [org_id for org_id, unit in self.unit_of.items() if unit.code == code]
        if not ids:
            raise NotFound(f"{code!r} is not a unit of {self.org.code}")
        return ids

    def contains(self, path: str | None) -> bool:
        return path is not None and path.startswith(self.org.path)


def sees_everything(session: Session, username: str) -> bool:
    return username == SYSTEM_ACTOR or permissions.is_admin(session, username)


def visible_paths(session: Session, username: str) -> list[str]:
    """Path prefixes *username* may report on; ``["/"]`` for everything."""
    if sees_everything(session, username):
        return ["/"]
    return permissions.visible_org_paths(session, username)


def may_see(session: Session, username: str, path: str) -> bool:
    return any(path.startswith(p) for p in visible_paths(session, username))


def _default_org(session: Session, username: str) -> Organisation:
    paths = visible_paths(session, username)
    # a role in a town and one in its village: the town is the top
    paths = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
    if paths == ["/"]:
        roots = session.execute(select(Organisation).where(Organisation.parent_id.is_(None))
                                .order_by(Organisation.code).limit(2)).scalars().all()
    else:
        roots = session.execute(select(Organisation).where(Organisation.path.in_(paths))
                                .order_by(Organisation.code).limit(2)).scalars().all()
    if not roots:
        raise PermissionDenied(f"{username} holds no role in any organisation")
    if len(roots) > 1:
        raise ValidationError({"org": "choose an organisation: you see several"})
    return roots[0]


def resolve(session: Session, username: str, org: str | None) -> Scope:
    """The scope of a report on *org* (a code) asked for by *username*.

    Without *org*: the one organisation the person sees from the top.

    :raise NotFound: no such organisation.
    :raise PermissionDenied: *username* may not see it.
    :raise ValidationError: no *org* given and the person sees several trees.
    """
    if not username:
        raise ValidationError({"username": "who asks must be given"})
    if org is None:
        root = _default_org(session, username)
    else:
        root = session.execute(select(Organisation).where(Organisation.code == org)
                               ).scalar_one_or_none()
        if root is None:
            raise NotFound(f"no organisation {org!r}")
        if not may_see(session, username, root.path):
            raise PermissionDenied(f"{username} may not see {org}")
    rows = session.execute(select(Organisation).where(
        Organisation.path.startswith(root.path, autoescape=True))).scalars().all()
    orgs = {o.id: _ref(o) for o in rows}
    scope = orgs[root.id]
    depth = len(root.path.strip("/").split("/"))
    unit_of: dict[int, OrgRef] = {}
    for ref in orgs.values():
        ids = [int(p) for p in ref.path.strip("/").split("/")]
        child = orgs.get(ids[depth]) if len(ids) > depth else None
        unit_of[ref.id] = scope if child is None or child.kind == "office" else child
    others = sorted({u.id: u for u in unit_of.values() if u.id != scope.id}.values(),
                    key=lambda u: u.code)
    return Scope(scope, orgs, unit_of, (scope, *others))


def unit_for(scope: Scope, org_id: int | None, responsible_org_id: int | None) -> OrgRef | None:
    """The unit an item counts for: its responsible unit's, when that lies in the
    scope, else its organisation's (None when neither lies in the scope)."""
    if responsible_org_id is not None and responsible_org_id in scope.unit_of:
        return scope.unit_of[responsible_org_id]
    return scope.unit_of.get(org_id) if org_id is not None else None


__all__ = ["Scope", "resolve", "unit_for", "visible_paths", "may_see", "sees_everything"]
