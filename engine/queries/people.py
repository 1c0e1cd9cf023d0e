"""People and the organisation tree as the web pages read them."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine import passwords, permissions
from engine.models import Membership, Organisation, Person, Role
from engine.views import OrganisationView, PersonView

MAX_PAGE = 500


def _person_view(session: Session, person: Person) -> PersonView:
    roles = session.execute(
        select(Membership.role_code, Organisation.code)
        .join(Organisation, Organisation.id == Membership.org_id)
        .where(Membership.person_id == person.id)
        .order_by(Organisation.path, Membership.role_code)).tuples().all()
    return PersonView(person.id, person.username, person.name, tuple(roles),
                      active=person.active, email=person.email, mobile=person.mobile,
                      can_sign_in=person.password_hash is not None)


def person(session: Session, username: str) -> PersonView | None:
    found = session.execute(select(Person).where(Person.username == username)
                            ).scalar_one_or_none()
    return _person_view(session, found) if found is not None else None


def authenticate(session: Session, username: str, password: str) -> PersonView | None:
    """The active person whose password this is, or None (the same answer for a
    wrong name and a wrong password, and about the same time)."""
    found = session.execute(select(Person).where(Person.username == username)
                            ).scalar_one_or_none()
    stored = found.password_hash if found is not None else None
    ok = passwords.verify_password(stored or _DUMMY, password)
    if found is None or not found.active or stored is None or not ok:
        return None
    return _person_view(session, found)


_DUMMY = passwords.hash_password("never a real password 0")


def _org_view(org: Organisation) -> OrganisationView:
    return OrganisationView(org.id, org.code, org.name, org.kind, org.parent_id,
                            path=org.path)


def visible_organisations(session: Session, username: str) -> list[OrganisationView]:
    """The organisations *username* may see, in tree order (an admin: all)."""
    query = select(Organisation).order_by(Organisation.path)
    if not permissions.is_admin(session, username):
        prefixes = permissions.visible_org_paths(session, username)
        if not prefixes:
            return []
        query = query.where(or_(*(Organisation.path.startswith(p) for p in prefixes)))
    return [_org_view(o) for o in session.execute(query).scalars()]


def people(session: Session, *, org: str | None = None, search: str | None = None,
           limit: int = 100, offset: int = 0) -> list[PersonView]:
    """People, by name; those holding a role in *org* or below it when given."""
    query = select(Person).order_by(Person.username)
    if org is not None:
        target = session.execute(select(Organisation).where(Organisation.code == org)
                                 ).scalar_one_or_none()
        if target is None:
            return []
        query = query.where(Person.id.in_(
            select(Membership.person_id).join(Organisation, Organisation.id == Membership.org_id)
            .where(Organisation.path.startswith(target.path))))
    if search:
        like = f"%{search}%"
        query = query.where(Person.username.like(like) | Person.name.like(like))
    rows = session.execute(query.limit(min(max(limit, 1), MAX_PAGE)).offset(max(offset, 0))
                           ).scalars().all()
    return [_person_view(session, p) for p in rows]


def roles(session: Session) -> list[tuple[str, str]]:
    return list(session.execute(select(Role.code, Role.name).order_by(Role.code)).tuples())
