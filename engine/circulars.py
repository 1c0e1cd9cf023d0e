"""The monthly circular (一月一通报): on-time completion by unit, kept as dated records.

For an organisation (a town: its branches and its own row with its offices;
see :mod:`engine.queries.units`) and a month, every tracked item (问题, 督办事项,
信访案件) not cancelled and registered by the cut-off counts for its unit. The
*cut-off* is the end of the month (23:59:59.999999 local), or now for the month
in progress. With ``d`` an item's 时限要求 (due date) and 销号 its closing:

- ``due``: items with ``d`` in the month (应办结);
- ``on_time``: of those, closed by the cut-off on or before ``d`` (local date);
- ``late``: closed by the cut-off, after ``d``;
- ``overdue``: not closed by the cut-off, with ``d`` passed (超期未办结);
- ``pending``: not closed, ``d`` still ahead (only in a month in progress);
  so ``due == on_time + late + overdue + pending``;
- ``carried_over``: items with ``d`` before the month still open at the cut-off
  (往月超期未办结, named in the circular but not in the rate);
- ``on_time_rate`` = on_time / (due − pending), i.e. over the items already
  decided (closed, or past their limit); None when there are none. For a
  finished month that is on_time / due.

Rank: units with a rate, best first; equal rates share a rank and the next
rank skips (1, 1, 3 — "competition" ranking); units without a rate are listed
after, unranked. Within a rank: more items due first, then by unit code.

:func:`generate_circular` stores one :class:`~engine.models.Circular` row per call
(regenerating adds a newer one; the figures are those of the moment). A job at
00:30 local on the 1st generates the previous month's circular of every town
and tells its secretaries and inspectors; the ``monthly_circular`` procedure
(``processes/p7_monthly_circular.bpmn``) then drafts, approves and issues it,
starting from these figures (service handler ``circular.figures``).

The figures are computed from the items projection by
:mod:`engine.queries.circulars`, which also reads the stored circulars. "On
time" is judged by the 销号 date the ledger records, not by the 按期办结 box a
督查室 ticks on a matter's check (that stays in the instance's data).
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine import holidays, jobs, notices, permissions
from engine.commands.runtime import require_actor
from engine.errors import PermissionDenied, ValidationError
from engine.jobs import handler
from engine.models import Circular, Job, Membership, Organisation, Person
from engine.organisations import get_org
from engine.queries import units
from engine.queries.circulars import (
    MAX_TREND_MONTHS, TREND_MONTHS, check_month, compute, previous_month, shift, view,
)
from engine.views import CircularView

if TYPE_CHECKING:
    from engine.db.command import CommandContext

MONTHLY_JOB = "circulars:monthly"
#: when the monthly job runs: this local time on the 1st
RUN_AT = time(0, 30)


# -- the command -------------------------------------------------------------------------

def generate_circular(ctx: "CommandContext", org: str, month: str, *, by: str,
                      trend_months: int = TREND_MONTHS) -> CircularView:
    """Compute and store an organisation's circular for a month (一月一通报).

    :param month: ``"2026-09"``; the month in progress gives figures so far.
    :return: the stored circular.
    :raise NotFound: no such organisation.
    :raise PermissionDenied: *by* does not supervise it.
    :raise ValidationError: a bad or future month, or a bad number of trend months.
    """
    require_actor(ctx, by)
    if not 1 <= trend_months <= MAX_TREND_MONTHS:
        raise ValidationError({"trend_months": f"must be between 1 and {MAX_TREND_MONTHS}"})
    target = get_org(ctx.session, org)
    if not permissions.supervises(ctx.session, by, target.id):
        raise PermissionDenied(f"{by} does not supervise {target.code}")
    tz = ctx.engine.config.timezone
    check_month(month, ctx.now, tz)
    scope = units.resolve(ctx.session, "system", target.code)
    body = compute(ctx.session, scope, month, now=ctx.now, tz=tz,
                   calendar=holidays.calendar(ctx), trend_months=trend_months)
    row = Circular(org_id=target.id, month=month, generated_at=ctx.now, generated_by=by,
                   body_json=json.dumps(body, ensure_ascii=False, sort_keys=True))
    ctx.session.add(row)
    ctx.session.flush()
    totals = body["totals"]
    ctx.record("circular.generated", by=by, org=target.code, month=month, circular_id=row.id,
               due=totals["due"], on_time=totals["on_time"], overdue=totals["overdue"])
    return view(row, target.code, target.name)


# -- the monthly job ---------------------------------------------------------------------

def next_run(after: datetime, tz: str) -> datetime:
    """The first 1st-of-the-month 00:30 (local) strictly after *after*."""
    local = after.astimezone(ZoneInfo(tz))
    candidate = datetime.combine(local.date().replace(day=1), RUN_AT, ZoneInfo(tz))
    while candidate <= local:
        month = shift(candidate.strftime("%Y-%m"), 1)
        candidate = datetime.combine(date(int(month[:4]), int(month[5:]), 1), RUN_AT, ZoneInfo(tz))
    return candidate.astimezone(timezone.utc)


def ensure_schedule(ctx: "CommandContext") -> bool:
    """Schedule the monthly job unless it is scheduled already; True if it was added."""
    if ctx.session.execute(select(Job.id).where(Job.dedupe_key == MONTHLY_JOB)).first():
        return False
    jobs.schedule(ctx, "circular_month", next_run(ctx.now, ctx.engine.config.timezone),
                  dedupe_key=MONTHLY_JOB)
    return True


@handler("circular_month")
def on_month(ctx: "CommandContext", job: Job, payload: dict[str, Any]) -> datetime:
    """On the 1st: one job per town for the month before, each its own transaction."""
    tz = ctx.engine.config.timezone
    month = previous_month(job.due_at, tz)
    for code in ctx.session.execute(select(Organisation.code).where(
            Organisation.kind == "town").order_by(Organisation.code)).scalars():
        jobs.schedule(ctx, "circular_town", ctx.now, payload={"org": code, "month": month},
                      dedupe_key=f"circular:{code}:{month}")
    # after downtime each missed month still gets its circular, one run at a time
    return next_run(job.due_at, tz)


def _readers(session: Session, town: Organisation) -> list[str]:
    """The town's secretaries and the inspectors of the town and its offices."""
    offices = select(Organisation.id).where(Organisation.parent_id == town.id,
                                            Organisation.kind == "office")
    return list(session.execute(
        select(Person.username).distinct().join(Membership, Membership.person_id == Person.id)
        .where(Person.active.is_(True), or_(
            (Membership.role_code == "secretary") & (Membership.org_id == town.id),
            (Membership.role_code == "inspector") & (or_(Membership.org_id == town.id,
                                                         Membership.org_id.in_(offices)))))
        .order_by(Person.username)).scalars())


@handler("circular_town")
def on_town(ctx: "CommandContext", job: Job, payload: dict[str, Any]) -> None:
    town = ctx.session.execute(select(Organisation).where(
        Organisation.code == payload["org"])).scalar_one_or_none()
    if town is None:
        return None
    done = ctx.session.execute(select(func.count()).select_from(Circular).where(
        Circular.org_id == town.id, Circular.month == payload["month"],
        Circular.generated_by == "system")).scalar_one()
    if done:
        return None  # the scheduled circular of that month exists: never twice
    made = generate_circular(ctx, town.code, payload["month"], by="system")
    year, month = made.month.split("-")
    t = made.totals
    rate = f"{t.on_time_rate:.1%}" if t.on_time_rate is not None else "—"
    notices.notify(ctx, _readers(ctx.session, town), kind="info",
                   title=f"【通报】{town.name} {year}年{int(month)}月督查督办通报已生成",
                   body=f"应办结 {t.due} 件，按期办结 {t.on_time} 件（按期办结率 {rate}），"
                        f"逾期办结 {t.late} 件，超期未办结 {t.overdue} 件，"
                        f"往月超期未办结 {t.carried_over} 件。",
                   event_key=f"circular:{made.id}")
    return None


# -- the monthly_circular procedure ----------------------------------------------------

def figures(body: dict[str, Any] | None, circular_id: int | None) -> dict[str, Any]:
    """Data for the procedure's 汇总排名 step, from a stored circular's body."""
    if body is None:
        return {"circular_id": None}
    year, month = body["month"].split("-")
    matters = body["by_kind"].get("matter", {})
    ranking = "；".join(
        f"{u['rank']}. {u['name']} {u['counts']['on_time_rate']:.0%}"
        f"（{u['counts']['on_time']}/{u['counts']['due']}）"
        for u in body["units"] if u["rank"] is not None)
    overdue = "\n".join(f"{o['number']} {o['title'] or ''}（{o['unit_name']}，"
                        f"超期 {o['overdue_working_days']} 个工作日）"
                        for o in body["overdue_items"][:50])
    return {"circular_id": circular_id, "circular_month": body["month"],
            "period": f"{year}年{int(month)}月",
            "matters_due": matters.get("due", 0),
            "matters_on_time": matters.get("on_time", 0),
            "matters_overdue": matters.get("overdue", 0) + matters.get("carried_over", 0),
            "ranking": ranking or "本月无到期事项", "overdue_list": overdue}


__all__ = ["generate_circular", "ensure_schedule", "next_run", "figures", "previous_month",
           "MONTHLY_JOB"]
