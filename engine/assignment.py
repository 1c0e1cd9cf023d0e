"""Assignment rules → who gets a task (办理人、候选人).

A rule names a role in an organisation relative to the instance (its own
organisation, the one above, its town or county, or one named in the data),
or a person (the starter, or a username in the data). When a rule finds
nobody, the fallback role (``书记`` by default) of that organisation gets the
task, then the same role further up the tree, then the configured fallback
person: a task is never left silently without an owner.

A town with nobody in the role acts through its offices (纪委, 督查室,
党建工作站): their holders are asked before the fallback.

A user task without a rule goes to the person who started the instance.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.config import EngineConfig
from engine.errors import NotFound
from engine.models import Organisation, ProcessInstance
from engine.organisations import ancestors, find_org, get_person, holders, role_code


@dataclass(frozen=True)
class Assignment:
    assignee: str | None
    candidates: tuple[str, ...]
    org_id: int | None
    #: how the owner was found: rule, fallback, default
    source: str


def _data_value(data: dict[str, Any], ref: str) -> Any:
    return data.get(ref.split(":", 1)[1])


def _target_org(session: Session, scope: str, instance: ProcessInstance,
                data: dict[str, Any]) -> Organisation | None:
    base = session.get(Organisation, instance.org_id) if instance.org_id else None
    if scope.startswith("data:"):
        code = _data_value(data, scope)
        return find_org(session, str(code)) if code else None
    if base is None:
        return None
    if scope.startswith("office:"):
        # the office (党建工作站, 督查室, ...) of the instance's town
        suffix = scope.split(":", 1)[1]
        town = next((o for o in [base, *ancestors(session, base)] if o.kind == "town"), None)
        if town is None:
            return None
        return session.execute(select(Organisation).where(
            Organisation.parent_id == town.id, Organisation.kind == "office",
            Organisation.name.endswith(suffix, autoescape=True))
            .order_by(Organisation.id).limit(1)).scalar_one_or_none()
    if scope == "instance":
        return base
    if scope == "parent":
        return session.get(Organisation, base.parent_id) if base.parent_id else None
    for org in [base, *ancestors(session, base)]:
        if org.kind == scope:
            return org
    return None


def _person_exists(session: Session, username: Any) -> bool:
    if not isinstance(username, str) or not username:
        return False
    try:
        return get_person(session, username).active
    except NotFound:
        return False


def resolve(session: Session, config: EngineConfig, rule: dict[str, Any] | None,
            instance: ProcessInstance, data: dict[str, Any]) -> Assignment:
    if not rule:
        return Assignment(instance.started_by, (), instance.org_id, "default")
    person = rule.get("person")
    if person:
        username = instance.started_by if person == "starter" else _data_value(data, person)
        if _person_exists(session, username):
            return Assignment(str(username), (), instance.org_id, "rule")
    org = _target_org(session, rule.get("org", "instance"), instance, data)
    if org is not None and rule.get("role"):
        try:
            code = role_code(session, rule["role"])
        except NotFound:
            code = None
        if code:
            found = holders(session, code, org.id)
            if not found and org.kind == "town":
                # a town acts through its offices (纪委, 督查室, 党建工作站): look there too
                found = _office_holders(session, code, org)
            if found:
                return Assignment(None, tuple(found), org.id, "rule")
    return _fallback(session, config, rule, org or (session.get(Organisation, instance.org_id)
                                                    if instance.org_id else None))


def _office_holders(session: Session, role: str, town: Organisation) -> list[str]:
    offices = session.execute(select(Organisation.id).where(
        Organisation.parent_id == town.id, Organisation.kind == "office")
        .order_by(Organisation.id)).scalars().all()
    return sorted({u for office in offices for u in holders(session, role, office)})


def _fallback(session: Session, config: EngineConfig, rule: dict[str, Any],
              org: Organisation | None) -> Assignment:
    try:
        code = role_code(session, rule.get("fallback_role") or config.fallback_role)
    except NotFound:
        code = None
    if org is not None and code:
        for candidate_org in [org, *ancestors(session, org)]:
            found = holders(session, code, candidate_org.id)
            if found:
                return Assignment(None, tuple(found), org.id, "fallback")
    org_id = org.id if org is not None else None
    if _person_exists(session, config.fallback_person):
        return Assignment(config.fallback_person, (), org_id, "fallback")
    return Assignment(None, (), org_id, "unowned")
