"""The organisation tree, people and roles (组织、人员、职务).

County → town (with its offices) → village and community branches. A person
holds roles in organisations; tasks are assigned to a role in an
organisation, never to a fixed name. Subtrees are found by the materialised
``path`` column ("/1/4/17/"), one indexed prefix match.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.errors import ConflictError, NotFound, ValidationError
from engine.models import Membership, Organisation, Person, Role

ORG_KINDS = ("county", "town", "office", "branch")
#: the roles every installation starts with: code → Chinese name
DEFAULT_ROLES = {
    "secretary": "书记",
    "organisation_member": "组织委员",
    "discipline_secretary": "纪委书记",
    "cadre": "村干部",
    "party_member": "党员",
    "inspector": "督查员",
    "leader": "领导",
    "admin": "管理员",
    "designer": "流程设计员",
}
SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class OrgRef:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    path: str


def _ref(org: Organisation) -> OrgRef:
    return OrgRef(org.id, org.code, org.name, org.kind, org.parent_id, org.path)


def get_org(session: Session, code_or_id: str | int) -> Organisation:
    if isinstance(code_or_id, int):
        org = session.get(Organisation, code_or_id)
    else:
        org = session.execute(select(Organisation).where(Organisation.code == code_or_id)
                              ).scalar_one_or_none()
    if org is None:
        raise NotFound(f"no organisation {code_or_id!r}")
    return org


def find_org(session: Session, code: str) -> Organisation | None:
    return session.execute(select(Organisation).where(Organisation.code == code)
                           ).scalar_one_or_none()


def get_person(session: Session, username: str) -> Person:
    person = session.execute(select(Person).where(Person.username == username)
                             ).scalar_one_or_none()
    if person is None:
        raise NotFound(f"no person {username!r}")
    return person


def role_code(session: Session, code_or_name: str) -> str:
    """Accept a role's code (``secretary``) or its Chinese name (``书记``)."""
    role = session.execute(select(Role).where(or_(Role.code == code_or_name,
                                                  Role.name == code_or_name))
                           ).scalar_one_or_none()
    if role is None:
        raise NotFound(f"no role {code_or_name!r}")
    return role.code


def ancestors(session: Session, org: Organisation) -> list[Organisation]:
    """The organisation's ancestors, nearest first."""
    ids = [int(p) for p in org.path.strip("/").split("/")[:-1]]
    if not ids:
        return []
    rows = {o.id: o for o in session.execute(select(Organisation)
                                             .where(Organisation.id.in_(ids))).scalars()}
    return [rows[i] for i in reversed(ids) if i in rows]


def add_organisation(session: Session, code: str, name: str, kind: str,
                     parent: str | None = None) -> Organisation:
    if kind not in ORG_KINDS:
        raise ValidationError({"kind": f"must be one of {', '.join(ORG_KINDS)}"})
    if not code or not name:
        raise ValidationError({"code": "required"} if not code else {"name": "required"})
    if find_org(session, code) is not None:
        raise ConflictError(f"organisation {code!r} exists already")
    parent_org = get_org(session, parent) if parent else None
    org = Organisation(code=code, name=name, kind=kind,
                       parent_id=parent_org.id if parent_org else None, path="")
    session.add(org)
    session.flush()
    org.path = (parent_org.path if parent_org else "/") + f"{org.id}/"
    return org


def holders(session: Session, role: str, org_id: int) -> list[str]:
    """Usernames of active people holding *role* in the organisation, sorted."""
    rows = session.execute(
        select(Person.username).join(Membership, Membership.person_id == Person.id)
        .where(Membership.org_id == org_id, Membership.role_code == role, Person.active.is_(True))
        .order_by(Person.username)).scalars().all()
    return list(rows)


def memberships(session: Session, username: str) -> list[tuple[str, Organisation]]:
    rows = session.execute(
        select(Membership.role_code, Organisation)
        .join(Person, Person.id == Membership.person_id)
        .join(Organisation, Organisation.id == Membership.org_id)
        .where(Person.username == username)).all()
    return [(r, o) for r, o in rows]
