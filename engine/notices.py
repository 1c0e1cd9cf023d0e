"""In-app notices (提醒、催办、督办) and their delivery to messaging apps.

A notice is a row for one person, written in the transaction of the event it
reports; the same event never notifies the same person twice (a unique key
per event and recipient). Organisations may configure extra channels (e-mail,
企业微信, 钉钉 group robots, see :mod:`engine.channels`); each delivery is a
``deliver`` job, so it runs only after the commit, retries with back-off, and
ends as an incident if the channel keeps refusing.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable

from sqlalchemy import select

from engine import channels, jobs
from engine.errors import JobError, NotFound, ValidationError
from engine.jobs import handler
from engine.models import ChannelConfig, Job, Membership, Notification, Person
from engine.organisations import get_org

if TYPE_CHECKING:
    from engine.db.command import CommandContext

KINDS = ("remind", "overdue", "urge", "escalate", "extended", "info",
         # a task handed to someone (转办, 委派, 加签), a copy (抄送), 延期申请
         "assigned", "copy", "extension")


def notify(ctx: "CommandContext", recipients: Iterable[str], *, kind: str, title: str,
           body: str, event_key: str, instance_id: int | None = None,
           task_id: str | None = None, level: int | None = None,
           by: str = "system") -> list[int]:
    """Write one notice per recipient for an event, unless that person already has it.

    :param event_key: names the event (``overdue:<task id>``); with the recipient
        it makes the notice's unique key.
    :return: ids of the notices written now.
    """
    written = []
    for recipient in dict.fromkeys(r for r in recipients if r):
        key = f"{event_key}:{recipient}"
        exists = ctx.session.execute(select(Notification.id).where(
            Notification.dedupe_key == key)).first()
        if exists:
            continue
        notice = Notification(recipient=recipient, kind=kind, level=level, title=title,
                              body=body, instance_id=instance_id, task_id=task_id,
                              sent_by=by, created_at=ctx.now, dedupe_key=key)
        ctx.session.add(notice)
        ctx.session.flush()
        written.append(notice.id)
        ctx.record("notice.sent", by=by, instance_id=instance_id, task_id=task_id,
                   recipient=recipient, kind=kind, level=level, title=title)
        for channel_id in _channels_of(ctx, recipient):
            jobs.schedule(ctx, "deliver", ctx.now, instance_id=instance_id,
                          payload={"notification": notice.id, "channel": channel_id},
                          dedupe_key=f"deliver:{notice.id}:{channel_id}", max_attempts=5)
    return written


def _channels_of(ctx: "CommandContext", username: str) -> list[int]:
    """Enabled channels of the organisations where the person holds a role.

    E-mail is skipped for a person without an address: that delivery could only fail.
    """
    rows = ctx.session.execute(
        select(ChannelConfig.id, ChannelConfig.kind, Person.email).distinct()
        .join(Membership, Membership.org_id == ChannelConfig.org_id)
        .join(Person, Person.id == Membership.person_id)
        .where(Person.username == username, ChannelConfig.enabled.is_(True))
        .order_by(ChannelConfig.id)).all()
    return [cid for cid, kind, email in rows if kind != "email" or email]


@handler("deliver")
def deliver(ctx: "CommandContext", job: Job, payload: dict[str, Any]) -> None:
    notice = ctx.session.get(Notification, payload["notification"])
    config = ctx.session.get(ChannelConfig, payload["channel"])
    if notice is None or config is None or not config.enabled:
        return None  # withdrawn meanwhile: nothing to deliver
    person = ctx.session.execute(select(Person).where(Person.username == notice.recipient)
                                 ).scalar_one_or_none()
    message = channels.Notice(
        title=notice.title, body=notice.body, kind=notice.kind,
        recipient_name=person.name if person else notice.recipient,
        recipient_email=person.email if person else None,
        recipient_mobile=person.mobile if person else None)
    try:
        channels.send(config.kind, json.loads(config.settings), message)
    except channels.DeliveryError as exc:
        if not exc.retryable:
            job.attempts = job.max_attempts - 1  # the next failure is final
        raise JobError(f"{config.kind} delivery failed: {exc}", job_id=job.id) from None
    ctx.record("notice.delivered", by="system", instance_id=notice.instance_id,
               task_id=notice.task_id, notification=notice.id, channel=config.kind)
    return None


def configure_channel(ctx: "CommandContext", org: str, kind: str, settings: dict[str, Any], *,
                      enabled: bool = True, by: str) -> int:
    """Add or replace an organisation's channel of one kind.

    :raise ValidationError: the kind is unknown or its settings are incomplete.
    """
    if kind not in channels.CHANNEL_KINDS:
        raise ValidationError({"kind": f"must be one of {', '.join(channels.CHANNEL_KINDS)}"})
    problems = channels.validate_settings(kind, settings)
    if problems:
        raise ValidationError(problems)
    target = get_org(ctx.session, org)
    row = ctx.session.execute(select(ChannelConfig).where(
        ChannelConfig.org_id == target.id, ChannelConfig.kind == kind)).scalar_one_or_none()
    if row is None:
        row = ChannelConfig(org_id=target.id, kind=kind, settings="{}", enabled=enabled)
        ctx.session.add(row)
    row.settings, row.enabled = json.dumps(settings, ensure_ascii=False), enabled
    ctx.session.flush()
    # never put secrets into the audit trail: record which settings, not their values
    ctx.record("channel.configured", by=by, org=target.code, kind=kind, enabled=enabled,
               settings=sorted(settings))
    return row.id


def mark_read(ctx: "CommandContext", notification_id: int, *, by: str) -> None:
    notice = ctx.session.get(Notification, notification_id)
    if notice is None or notice.recipient != by:
        raise NotFound(f"no notice {notification_id}")
    if notice.read_at is None:
        notice.read_at = ctx.now
