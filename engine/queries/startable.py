"""What a person may start by hand (发起), and each process's start form.

A process is started by hand when the newest version's process has a plain
start event (no timer, message or signal on it): timer-started procedures
start themselves. Its start form is that event's ``duban:form``, as stored
on the version's element rows. Anyone who may see an organisation may start
a process for it (:func:`engine.permissions.require_starter`), so a person
with no role starts nothing.
"""
from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.models import (
    Deployment, Membership, Organisation, Person, ProcessElement, ProcessVersion,
)
from engine.queries.people import visible_organisations
from engine.views import StartableView, StartFormView

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"

#: (file hash, process key) → (start event id, its name), or None: a deployed file never
#: changes, so the answer is kept for the life of the process (keyed by the file's hash,
#: not by row ids, which mean other things in other databases)
_STARTS: dict[tuple[str, str], tuple[str, str | None] | None] = {}
_LOCK = threading.Lock()


def plain_start_event(xml: str, process_key: str) -> tuple[str, str | None] | None:
    """(id, name) of the plain start event of the process *process_key* in a BPMN file."""
    root = ET.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml)
    for process in root.iter(f"{BPMN}process"):
        if process.get("id") != process_key:
            continue
        for event in process.findall(f"{BPMN}startEvent"):
            if not any(child.tag.endswith("EventDefinition") for child in event):
                return event.get("id") or "", event.get("name")
    return None


def _start_of(session: Session, version: ProcessVersion) -> tuple[str, str | None] | None:
    digest = session.execute(select(Deployment.xml_hash).where(
        Deployment.id == version.deployment_id)).scalar_one()
    key = (digest, version.process_key)
    if key not in _STARTS:
        xml = session.execute(select(Deployment.xml).where(
            Deployment.id == version.deployment_id)).scalar_one()
        found = plain_start_event(xml, version.process_key)
        with _LOCK:
            _STARTS[key] = found
    return _STARTS[key]


def _view(session: Session, version: ProcessVersion) -> StartableView | None:
    start = _start_of(session, version)
    if start is None:
        return None
    element = session.get(ProcessElement, (version.id, start[0]))
    ext: dict[str, Any] = json.loads(element.extensions) if element is not None else {}
    return StartableView(process_key=version.process_key, version=version.version,
                         version_id=version.id, name=version.name, start_event_id=start[0],
                         start_event_name=start[1], form=tuple(ext.get("form") or ()),
                         item_kind=(ext.get("item") or {}).get("kind"))


def _has_role(session: Session, username: str) -> bool:
    return session.execute(select(Membership.id).join(Person, Person.id == Membership.person_id)
                           .where(Person.username == username, Person.active.is_(True))
                           .limit(1)).first() is not None


def startable(session: Session, username: str) -> list[StartableView]:
    """The newest version of every process *username* may start by hand, by name."""
    if not _has_role(session, username):
        return []
    v = ProcessVersion
    newest = select(v.process_key, func.max(v.version).label("version")).group_by(
        v.process_key).subquery()
    versions = session.execute(select(v).join(newest, and_(
        v.process_key == newest.c.process_key, v.version == newest.c.version))).scalars()
    found = [view for view in (_view(session, version) for version in versions) if view]
    return sorted(found, key=lambda s: (s.name or s.process_key, s.process_key))


def start_form(session: Session, username: str, process_key: str) -> StartFormView:
    """A process's start form, with the organisations *username* may start it for.

    :raise NotFound: no such process, or not one *username* may start by hand.
    """
    version = session.execute(select(ProcessVersion).where(
        ProcessVersion.process_key == process_key).order_by(ProcessVersion.version.desc())
        .limit(1)).scalar_one_or_none()
    view = _view(session, version) if version is not None else None
    if view is None or not _has_role(session, username):
        raise NotFound(f"no process {process_key!r} to start")
    # the organisation a start concerns by default (as the start command chooses it)
    default = session.execute(
        select(Organisation.code).join(Membership, Membership.org_id == Organisation.id)
        .join(Person, Person.id == Membership.person_id).where(Person.username == username)
        .order_by(Membership.id).limit(1)).scalar()
    return StartFormView(process=view, orgs=tuple(visible_organisations(session, username)),
                         default_org=default)
