"""Runtime commands: start, cancel, suspend, resume, message, signal, retry."""
from __future__ import annotations

import json
from typing import Any

from typing import Callable

from sqlalchemy import bindparam, select

from engine import forms, permissions, runtime
from engine.bpmn import serializer, workflows
from engine.bpmn.runner import Run
from engine.db.command import CommandContext
from engine.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from engine.models import (
    EventSubscription, Item, Membership, Organisation, Person, ProcessInstance, ProcessVersion,
)
from engine.organisations import SYSTEM_ACTOR
from engine.runtime import CANCELLED, FAILED, RUNNING, SUSPENDED

MAX_DATA_BYTES = 1_000_000


def require_actor(ctx: CommandContext, by: str) -> None:
    if not by or not isinstance(by, str):
        raise ValidationError({"by": "who acts must be given"})
    if by == SYSTEM_ACTOR:
        return
    active = ctx.session.connection().execute(_ACTIVE, {"username": by}).scalar()
    if not active:
        raise PermissionDenied(f"unknown or inactive person {by!r}")


def check_data(data: Any, what: str = "data") -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationError({what: "must be a JSON object"})
    try:
        text = json.dumps(data, ensure_ascii=False, default=str)
    except (TypeError, ValueError) as exc:
        raise ValidationError({what: f"is not JSON: {exc}"}) from None
    if len(text.encode("utf-8")) > MAX_DATA_BYTES:
        raise ValidationError({what: f"is larger than {MAX_DATA_BYTES} bytes"})
    bad = {k: "names must be identifiers not starting with _" for k in data
           if not isinstance(k, str) or not k.isidentifier() or k.startswith("_")}
    if bad:
        raise ValidationError(bad)
    return dict(data)


def check_text(value: Any, what: str, *, limit: int = 4000,
               required: bool = True) -> str | None:
    """Stripped text of at most *limit* characters; None when optional and blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError({what: "is required"})
        return None
    if not isinstance(value, str):
        raise ValidationError({what: "must be text"})
    text = value.strip()
    if len(text) > limit:
        raise ValidationError({what: f"must be at most {limit} characters"})
    return text


_ACTIVE = select(Person.__table__.c.active).where(
    Person.__table__.c.username == bindparam("username"))
_V = ProcessVersion.__table__.c
_LATEST = (select(_V.id, _V.version).where(_V.process_key == bindparam("key"))
           .order_by(_V.version.desc()).limit(1))
_O = Organisation.__table__.c
_ORG_BY_CODE = select(_O.id).where(_O.code == bindparam("code"))
_ORG_BY_ID = select(_O.id).where(_O.id == bindparam("id"))


def latest_version(ctx: CommandContext, process_key: str) -> tuple[int, int]:
    """(version id, version number) of the newest version of a process."""
    row = ctx.session.connection().execute(_LATEST, {"key": process_key}).first()
    if row is None:
        raise NotFound(f"no process {process_key!r} is deployed")
    return row[0], row[1]


def org_id_of(ctx: CommandContext, org: str | int) -> int:
    if isinstance(org, int):
        found = ctx.session.connection().execute(_ORG_BY_ID, {"id": org}).scalar()
    else:
        found = ctx.session.connection().execute(_ORG_BY_CODE, {"code": org}).scalar()
    if found is None:
        raise NotFound(f"no organisation {org!r}")
    return int(found)


def _default_org(ctx: CommandContext, by: str) -> int | None:
    m, p = Membership.__table__.c, Person.__table__.c
    return ctx.session.connection().execute(
        select(m.org_id).join_from(Membership.__table__, Person.__table__, p.id == m.person_id)
        .where(p.username == by).order_by(m.id).limit(1)).scalar()


def start(ctx: CommandContext, process_key: str, data: dict[str, Any] | None = None, *,
          by: str, business_key: str | None = None, org: str | int | None = None) -> int:
    """Start the latest version of a process and run it until it waits.

    :param org: code or id of the organisation the instance concerns; by
        default the first organisation where *by* holds a role.
    :return: the new instance id. A script that fails leaves the instance
        ``failed`` (see its ``error``), it does not raise.
    :raise NotFound: no such process, or no such organisation.
    :raise PermissionDenied: *by* is unknown or may not act for *org*.
    :raise ValidationError: the data is not a JSON object or fails the start form.
    """
    if not by or not isinstance(by, str):
        raise ValidationError({"by": "who acts must be given"})
    payload = check_data(data)
    if business_key is not None and (not isinstance(business_key, str) or len(business_key) > 200):
        raise ValidationError({"business_key": "must be text of at most 200 characters"})
    version_id, version = latest_version(ctx, process_key)
    org_id = org_id_of(ctx, org) if org is not None else _default_org(ctx, by)
    if by != SYSTEM_ACTOR:
        # also refuses unknown and inactive people
        permissions.require_starter(ctx.session, by, org_id)
    cached = ctx.engine.specs.get(ctx, version_id)
    form = workflows.start_form(cached.spec)
    if form:
        payload = {**payload, **forms.validate(form, {k: v for k, v in payload.items()
                                                      if k in {f["name"] for f in form}})}
    row = ProcessInstance(process_version_id=version_id, process_key=process_key,
                          version=version, business_key=business_key, state=RUNNING,
                          org_id=org_id, started_by=by, started_at=ctx.now, updated_at=ctx.now,
                          state_json="{}", state_format=serializer.STATE_FORMAT, data_json="{}")
    ctx.session.add(row)
    ctx.session.flush()
    with cached.lock:
        workflow = workflows.new_workflow(cached.spec, cached.subprocess_specs,
                                          runtime.script_engine(ctx, row), payload)
        run = Run(workflow)
        run.waiting_before = set()  # nothing is stored for a new instance yet
        loaded = runtime.Loaded(row, workflow, run, cached, {})
        ctx.record("instance.started", by=by, instance_id=row.id, process_key=process_key,
                   version=version, business_key=business_key, org_id=org_id,
                   data=payload)
        error = runtime.run_engine(loaded)
        changes = runtime.save(ctx, loaded, by=by, error=error)
    forward_thrown_signals(ctx, row.id, changes, by=by)
    return row.id


def _require_state(row: ProcessInstance, *states: str, verb: str) -> None:
    if row.state not in states:
        raise ConflictError(f"instance {row.id} is {row.state}; cannot {verb} it")


def cancel(ctx: CommandContext, instance_id: int, *, by: str, reason: str) -> None:
    """Cancel an instance: every open task is cancelled, nothing runs further.

    :raise ValidationError: no reason given.
    :raise ConflictError: the instance has already ended.
    """
    require_actor(ctx, by)
    if not reason or not str(reason).strip():
        raise ValidationError({"reason": "a reason is required to cancel"})
    row = runtime.get_row(ctx, instance_id)
    permissions.require_instance_manager(ctx.session, row, by)
    _require_state(row, RUNNING, SUSPENDED, FAILED, verb="cancel")
    loaded = runtime.load(ctx, instance_id)
    with loaded.spec.lock:
        loaded.workflow.cancel()
        runtime.save(ctx, loaded, by=by)
    row.state, row.ended_at = CANCELLED, ctx.now
    item = ctx.session.execute(select(Item).where(Item.instance_id == row.id)).scalar_one_or_none()
    if item is not None and item.state != "closed":
        item.state, item.light, item.updated_at = "cancelled", None, ctx.now
    ctx.record("instance.cancelled", by=by, instance_id=row.id, reason=str(reason))


def suspend(ctx: CommandContext, instance_id: int, *, by: str) -> None:
    """Suspend a running instance: its tasks stay, but nobody may act on them."""
    require_actor(ctx, by)
    row = runtime.get_row(ctx, instance_id)
    permissions.require_instance_manager(ctx.session, row, by)
    _require_state(row, RUNNING, verb="suspend")
    row.state, row.updated_at = SUSPENDED, ctx.now
    ctx.record("instance.suspended", by=by, instance_id=row.id)


def resume(ctx: CommandContext, instance_id: int, *, by: str) -> None:
    require_actor(ctx, by)
    row = runtime.get_row(ctx, instance_id)
    permissions.require_instance_manager(ctx.session, row, by)
    _require_state(row, SUSPENDED, verb="resume")
    row.state, row.updated_at = RUNNING, ctx.now
    ctx.record("instance.resumed", by=by, instance_id=row.id)


def retry(ctx: CommandContext, instance_id: int, *, by: str,
          data: dict[str, Any] | None = None) -> str:
    """Run a failed instance's failed step again, optionally with corrected data.

    :return: the instance state afterwards.
    :raise ConflictError: the instance has not failed.
    """
    require_actor(ctx, by)
    patch = check_data(data)
    row = runtime.get_row(ctx, instance_id)
    permissions.require_instance_manager(ctx.session, row, by)
    _require_state(row, FAILED, verb="retry")
    loaded = runtime.load(ctx, instance_id)
    with loaded.spec.lock:
        elements = workflows.reset_failed(loaded.workflow, patch)
        row.state, row.error_json = RUNNING, None
        ctx.record("instance.retried", by=by, instance_id=row.id, data=patch, elements=elements)
        error = runtime.run_engine(loaded)
        changes = runtime.save(ctx, loaded, by=by, error=error)
    forward_thrown_signals(ctx, row.id, changes, by=by)
    return row.state


def _deliver(ctx: CommandContext, instance_id: int,
             deliver: Callable[[Any, str, dict[str, Any]], None], name: str,
             payload: dict[str, Any], *, by: str, hops: int = 0) -> None:
    loaded = runtime.load(ctx, instance_id)
    with loaded.spec.lock:
        deliver(loaded.workflow, name, payload)
        error = runtime.run_engine(loaded)
        changes = runtime.save(ctx, loaded, by=by, error=error)
    forward_thrown_signals(ctx, instance_id, changes, by=by, hops=hops)


#: how many instances deep one command may pass thrown signals on
MAX_SIGNAL_HOPS = 10


def forward_thrown_signals(ctx: CommandContext, source_id: int, changes: Any, *, by: str,
                           hops: int = 0) -> None:
    """Broadcast the signals an instance threw to the other instances waiting for them.

    SpiffWorkflow delivers a thrown signal only inside the throwing instance;
    a BPMN signal reaches every catcher. (The thrower's own catchers already
    have it.) A signal that sets off further throws is passed on up to
    ``MAX_SIGNAL_HOPS`` instances deep, so two processes signalling each
    other cannot loop forever.
    """
    for name, payload in changes.thrown:
        caught = []
        if hops < MAX_SIGNAL_HOPS:
            for row in _waiting(ctx, "signal", name):
                if row.id == source_id:
                    continue
                _deliver(ctx, row.id, workflows.deliver_signal, name, payload, by=by,
                         hops=hops + 1)
                caught.append(row.id)
        ctx.record("signal.thrown", by=by, instance_id=source_id, signal=name,
                   instances=caught)


def _waiting(ctx: CommandContext, kind: str, name: str) -> list[ProcessInstance]:
    ids = ctx.session.execute(select(EventSubscription.instance_id).distinct().where(
        EventSubscription.kind == kind, EventSubscription.event_name == name)).scalars().all()
    if not ids:
        return []
    return list(ctx.session.execute(select(ProcessInstance).where(
        ProcessInstance.id.in_(ids), ProcessInstance.state == RUNNING)
        .order_by(ProcessInstance.id)).scalars())


def correlate_message(ctx: CommandContext, name: str, data: dict[str, Any] | None = None, *,
                      correlation: str | dict[str, Any] | None = None,
                      by: str = SYSTEM_ACTOR) -> int:
    """Deliver a message to the one running instance waiting for it.

    :param correlation: a business key, or a mapping of data fields the
        instance must hold with these values.
    :return: the id of the instance that caught the message.
    :raise NotFound: no running instance waits for this message (and matches).
    :raise ConflictError: more than one instance matches; give a correlation.
    """
    require_actor(ctx, by)
    payload = check_data(data)
    if not name:
        raise ValidationError({"name": "the message name is required"})
    candidates = _waiting(ctx, "message", name)
    if isinstance(correlation, str):
        candidates = [r for r in candidates if r.business_key == correlation]
    elif isinstance(correlation, dict):
        candidates = [r for r in candidates
                      if all(json.loads(r.data_json).get(k) == v for k, v in correlation.items())]
    elif correlation is not None:
        raise ValidationError({"correlation": "must be a business key or an object"})
    if not candidates:
        raise NotFound(f"no running instance waits for message {name!r}"
                       + (" with that correlation" if correlation is not None else ""))
    if len(candidates) > 1:
        raise ConflictError(f"{len(candidates)} instances wait for message {name!r}; "
                            "give a correlation to choose one")
    target = candidates[0]
    _deliver(ctx, target.id, workflows.deliver_message, name, payload, by=by)
    ctx.record("message.correlated", by=by, instance_id=target.id, message=name, data=payload)
    return target.id


def send_signal(ctx: CommandContext, name: str, data: dict[str, Any] | None = None, *,
                by: str = SYSTEM_ACTOR) -> list[int]:
    """Broadcast a signal to every running instance waiting for it.

    :return: the ids of the instances that caught it (possibly none).
    """
    require_actor(ctx, by)
    payload = check_data(data)
    if not name:
        raise ValidationError({"name": "the signal name is required"})
    caught = []
    for row in _waiting(ctx, "signal", name):
        _deliver(ctx, row.id, workflows.deliver_signal, name, payload, by=by)
        caught.append(row.id)
    ctx.record("signal.sent", by=by, signal=name, data=payload, instances=caught)
    return caught
