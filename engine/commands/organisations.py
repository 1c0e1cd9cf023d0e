"""Organisation-tree commands: organisations, people and the roles they hold."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine import organisations, passwords, permissions
from engine.commands.runtime import require_actor
from engine.db.command import CommandContext
from engine.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from engine.models import Membership, Organisation, Person, Role
from engine.organisations import SYSTEM_ACTOR
from engine.views import OrganisationView, PersonView

USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")


def _require_admin(ctx: CommandContext, by: str) -> None:
    require_actor(ctx, by)
    if by != SYSTEM_ACTOR and not permissions.is_admin(ctx.session, by):
        raise PermissionDenied(f"{by} is not an administrator")


def add_organisation(ctx: CommandContext, code: str, name: str, kind: str, *,
                     parent: str | None = None, by: str) -> OrganisationView:
    _require_admin(ctx, by)
    org = organisations.add_organisation(ctx.session, code, name, kind, parent)
    ctx.record("organisation.added", by=by, code=code, name=name, kind=kind, parent=parent)
    return OrganisationView(org.id, org.code, org.name, org.kind, org.parent_id)


def add_person(ctx: CommandContext, username: str, name: str, *, by: str) -> PersonView:
    _require_admin(ctx, by)
    if not username or not USERNAME.match(username) or username == SYSTEM_ACTOR:
        raise ValidationError({"username": "2–64 letters, digits, '.', '_' or '-'"})
    if not name or len(name) > 100:
        raise ValidationError({"name": "required, at most 100 characters"})
    if ctx.session.execute(select(Person).where(Person.username == username)).first():
        raise ConflictError(f"person {username!r} exists already")
    person = Person(username=username, name=name, active=True, created_at=ctx.now)
    ctx.session.add(person)
    ctx.session.flush()
    ctx.record("person.added", by=by, username=username, name=name)
    return PersonView(person.id, username, name, ())


def _membership(ctx: CommandContext, username: str, role: str,
                org: str) -> tuple[Person, str, Organisation, Membership | None]:
    """The person, role code and organisation named, and the membership joining them if any."""
    person = organisations.get_person(ctx.session, username)
    code = organisations.role_code(ctx.session, role)
    target = organisations.get_org(ctx.session, org)
    found = ctx.session.execute(select(Membership).where(
        Membership.person_id == person.id, Membership.org_id == target.id,
        Membership.role_code == code)).scalar_one_or_none()
    return person, code, target, found


def grant_role(ctx: CommandContext, username: str, role: str, org: str, *, by: str) -> None:
    _require_admin(ctx, by)
    person, code, target, exists = _membership(ctx, username, role, org)
    if exists:
        return
    ctx.session.add(Membership(person_id=person.id, org_id=target.id, role_code=code))
    ctx.record("role.granted", by=by, username=username, role=code, org=target.code)


def ensure_roles(ctx: CommandContext, *, by: str = SYSTEM_ACTOR) -> None:
    """Create the default roles that are missing (the migration seeds them too)."""
    have = set(ctx.session.execute(select(Role.code)).scalars())
    for code, name in organisations.DEFAULT_ROLES.items():
        if code not in have:
            ctx.session.add(Role(code=code, name=name))


def set_password(ctx: CommandContext, username: str, password: str, *, by: str,
                 current: str | None = None) -> None:
    """Set a person's sign-in password: an admin for anyone, a person for themself
    (who must give the *current* password when they have one)."""
    require_actor(ctx, by)
    person = organisations.get_person(ctx.session, username)
    if by != username:
        _require_admin(ctx, by)
    elif person.password_hash and not passwords.verify_password(person.password_hash,
                                                                current or ""):
        raise ValidationError({"current": "the current password is wrong"})
    problem = passwords.problem_with(password)
    if problem:
        raise ValidationError({"password": problem})
    person.password_hash = passwords.hash_password(password)
    ctx.record("person.password_set", by=by, username=username)


def set_active(ctx: CommandContext, username: str, active: bool, *, by: str) -> None:
    """Let a person sign in and receive tasks again, or stop them (离任)."""
    _require_admin(ctx, by)
    person = organisations.get_person(ctx.session, username)
    if person.active == active:
        return
    person.active = active
    ctx.record("person.activated" if active else "person.deactivated", by=by, username=username)


def revoke_role(ctx: CommandContext, username: str, role: str, org: str, *, by: str) -> None:
    _require_admin(ctx, by)
    _person, code, target, found = _membership(ctx, username, role, org)
    if found is None:
        raise NotFound(f"{username} holds no {code} role in {target.code}")
    ctx.session.delete(found)
    ctx.record("role.revoked", by=by, username=username, role=code, org=target.code)
