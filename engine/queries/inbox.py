"""The inbox: 待办 (to do), 已办 (done), 我发起的 (started), 抄送我的 (copied to me).

Reads projection rows only (tasks, candidates, instances, items, copies,
organisations, people), never a workflow. Each tab is one query led by an
index on the person: the assignee and candidate indexes (待办), ``ended_by``
(已办), ``started_by`` (我发起的), the copy recipient (抄送我的); every list is
paged with a hard maximum.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import ColumnElement, Select, and_, case, func, select, union
from sqlalchemy.orm import Session

from engine.errors import ValidationError
from engine.models import (
    HumanTask, Item, Organisation, Person, ProcessInstance, ProcessVersion, TaskCandidate,
    TaskCopy,
)
from engine.views import InboxPage, InboxRow

TABS = ("todo", "done", "started", "copied")
SORTS = ("due", "created", "light")
LIGHTS = ("red", "yellow", "green", "none")
#: the most rows one page may hold
MAX_SIZE = 100

T, I, V, O, P = HumanTask, ProcessInstance, ProcessVersion, Organisation, Person


# -- the tabs ------------------------------------------------------------------------

def _todo_ids(username: str) -> Any:
    """Open tasks *username* holds, or may claim while nobody holds them."""
    return union(
        select(T.id).where(T.assignee == username, T.state == "open"),
        select(TaskCandidate.task_id).join(T, T.id == TaskCandidate.task_id)
        .where(TaskCandidate.username == username, T.assignee.is_(None), T.state == "open"))


def _task_query(where: ColumnElement[bool]) -> Select[Any]:
    return (select(I.id.label("instance_id"), I.state.label("instance_state"), I.business_key,
                   V.process_key, V.name.label("process_name"), T.created_at,
                   T.id.label("task_id"), T.name.label("task_name"),
                   T.state.label("task_state"), Item.number.label("item_number"),
                   Item.title.label("item_title"), O.code.label("org_code"),
                   O.name.label("org_name"), T.assignee, P.name.label("assignee_name"),
                   T.due_at, T.light, T.due_provisional, T.escalation_level, T.ended_at,
                   I.started_by)
            .select_from(T).join(I, I.id == T.instance_id)
            .join(V, V.id == T.process_version_id)
            .outerjoin(O, O.id == T.org_id).outerjoin(Item, Item.instance_id == T.instance_id)
            .outerjoin(P, P.username == T.assignee).where(where))


def _earliest_due() -> Any:
    return (select(func.min(T.due_at)).where(T.instance_id == I.id, T.state == "open")
            .correlate(I).scalar_subquery())


def _started_query(username: str) -> Select[Any]:
    return (select(I.id.label("instance_id"), I.state.label("instance_state"), I.business_key,
                   V.process_key, V.name.label("process_name"),
                   I.started_at.label("created_at"), Item.number.label("item_number"),
                   Item.title.label("item_title"), O.code.label("org_code"),
                   O.name.label("org_name"), _earliest_due().label("due_at"), I.light,
                   I.ended_at, I.started_by)
            .select_from(I).join(V, V.id == I.process_version_id)
            .outerjoin(O, O.id == I.org_id).outerjoin(Item, Item.instance_id == I.id)
            .where(I.started_by == username))


def _copied_query(username: str) -> Select[Any]:
    light = case((TaskCopy.task_id.is_(None), I.light), else_=T.light)
    return (select(I.id.label("instance_id"), I.state.label("instance_state"), I.business_key,
                   V.process_key, V.name.label("process_name"),
                   TaskCopy.created_at, T.id.label("task_id"), T.name.label("task_name"),
                   T.state.label("task_state"), Item.number.label("item_number"),
                   Item.title.label("item_title"), O.code.label("org_code"),
                   O.name.label("org_name"), T.assignee, T.due_at, light.label("light"),
                   T.escalation_level, I.started_by, TaskCopy.id.label("copy_id"),
                   TaskCopy.sent_by.label("copy_sent_by"), P.name.label("copy_sent_by_name"),
                   TaskCopy.note.label("copy_note"), TaskCopy.read_at.label("copy_read_at"))
            .select_from(TaskCopy).join(I, I.id == TaskCopy.instance_id)
            .join(V, V.id == I.process_version_id).outerjoin(T, T.id == TaskCopy.task_id)
            .outerjoin(O, O.id == I.org_id).outerjoin(Item, Item.instance_id == I.id)
            .outerjoin(P, P.username == TaskCopy.sent_by)
            .where(TaskCopy.recipient == username))


def _tab(username: str, tab: str) -> tuple[Select[Any], dict[str, Any]]:
    """The tab's query and the columns its filters and sorts use."""
    if tab == "todo":
        return _task_query(T.id.in_(_todo_ids(username))), {
            "due": T.due_at, "light": T.light, "created": T.created_at, "id": T.id,
            "default": "light"}
    if tab == "done":
        return _task_query(and_(T.ended_by == username, T.state != "open")), {
            "due": T.due_at, "light": T.light, "created": T.created_at, "id": T.id,
            "default": "ended", "ended": T.ended_at}
    if tab == "started":
        return _started_query(username), {
            "due": _earliest_due(), "light": I.light, "created": I.started_at, "id": I.id,
            "default": "created"}
    light = case((TaskCopy.task_id.is_(None), I.light), else_=T.light)
    return _copied_query(username), {
        "due": T.due_at, "light": light, "created": TaskCopy.created_at, "id": TaskCopy.id,
        "default": "created"}


def _filtered(session: Session, query: Select[Any], cols: dict[str, Any], *,
              process_key: str | None, org: str | None, light: str | None,
              due_before: datetime | None, due_after: datetime | None) -> Select[Any]:
    if process_key:
        query = query.where(V.process_key == process_key)
    if org:
        root = session.execute(select(O.path).where(O.code == org)).scalar()
        if root is None:
            raise ValidationError({"org": f"no organisation {org!r}"})
        query = query.where(O.path.startswith(root, autoescape=True))
    if light:
        query = query.where(cols["light"].is_(None) if light == "none"
                            else cols["light"] == light)
    if due_after is not None:
        query = query.where(cols["due"] >= due_after)
    if due_before is not None:
        query = query.where(cols["due"] < due_before)
    return query


def _ordered(query: Select[Any], cols: dict[str, Any], sort: str) -> Select[Any]:
    due, key = cols["due"], cols["id"]
    if sort == "ended":
        return query.order_by(cols["ended"].desc(), key.desc())
    if sort == "created":
        return query.order_by(cols["created"].desc(), key.desc())
    if sort == "light":
        rank = case((cols["light"] == "red", 0), (cols["light"] == "yellow", 1),
                    (cols["light"] == "green", 2), else_=3)
        return query.order_by(rank, due.is_(None), due, cols["created"], key)
    return query.order_by(due.is_(None), due, cols["created"], key)


def _check(tab: str, sort: str | None, light: str | None, page: int, size: int) -> None:
    bad: dict[str, str] = {}
    if tab not in TABS:
        bad["tab"] = f"must be one of: {', '.join(TABS)}"
    if sort is not None and sort not in SORTS:
        bad["sort"] = f"must be one of: {', '.join(SORTS)}"
    if light is not None and light not in LIGHTS:
        bad["light"] = f"must be one of: {', '.join(LIGHTS)}"
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        bad["page"] = "must be a whole number from 1"
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= MAX_SIZE:
        bad["size"] = f"must be from 1 to {MAX_SIZE}"
    if bad:
        raise ValidationError(bad)


def inbox(session: Session, username: str, tab: str, *, process_key: str | None = None,
          org: str | None = None, light: str | None = None,
          due_before: datetime | None = None, due_after: datetime | None = None,
          sort: str | None = None, page: int = 1, size: int = 20) -> InboxPage:
    """One page of an inbox tab.

    :param tab: ``todo`` (open tasks *username* holds, or may claim while nobody holds
        them), ``done`` (tasks *username* ended, newest first), ``started`` (instances
        *username* started), ``copied`` (抄送: copies sent to *username*, newest first).
    :param org: an organisation code: rows of it and of everything below it.
    :param light: ``red``, ``yellow``, ``green`` or ``none`` (no limit).
    :param due_after: due at or after this moment; *due_before*: due before it.
    :param sort: ``due`` (soonest first, no limit last), ``created`` (newest first) or
        ``light`` (red, yellow, green, none; then by due); by default ``light`` on 待办,
        newest first elsewhere.
    :param size: rows per page, at most :data:`MAX_SIZE`.
    :raise ValidationError: an unknown tab, sort or light, a bad page or size, or an
        unknown organisation.
    """
    _check(tab, sort, light, page, size)
    query, cols = _tab(username, tab)
    query = _filtered(session, query, cols, process_key=process_key, org=org, light=light,
                      due_before=due_before, due_after=due_after)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    found = session.execute(_ordered(query, cols, sort or cols["default"])
                            .limit(size).offset((page - 1) * size)).mappings().all()
    rows = [dict(r) for r in found]
    if tab == "started":
        _add_current_steps(session, rows)
    if tab == "done":
        _mark_latest_completions(session, rows)
    kind = {"started": "instance", "copied": "copy"}.get(tab, "task")
    return InboxPage(tuple(InboxRow(kind=kind, **_typed(r)) for r in rows), total, page, size)


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    row["due_provisional"] = bool(row.get("due_provisional"))
    row["escalation_level"] = row.get("escalation_level") or 0
    return row


def _add_current_steps(session: Session, rows: list[dict[str, Any]]) -> None:
    """我发起的: the open steps of each instance on the page, and who holds them."""
    if not rows:
        return
    steps: dict[int, list[tuple[str, str | None]]] = {}
    for instance_id, name, holder in session.execute(
            select(T.instance_id, T.name, func.coalesce(P.name, T.assignee))
            .outerjoin(P, P.username == T.assignee)
            .where(T.instance_id.in_([r["instance_id"] for r in rows]), T.state == "open")
            .order_by(T.created_at, T.id)):
        steps.setdefault(instance_id, []).append((name, holder))
    for row in rows:
        open_steps = steps.get(row["instance_id"], [])
        row["task_name"] = "、".join(dict.fromkeys(n for n, _ in open_steps if n)) or None
        row["assignee_name"] = "、".join(dict.fromkeys(h for _, h in open_steps if h)) or None


def _mark_latest_completions(session: Session, rows: list[dict[str, Any]]) -> None:
    """已办: a completion may be withdrawn (撤回) only while it is its running instance's
    latest; the engine decides the rest when asked."""
    running = {r["instance_id"] for r in rows
               if r["instance_state"] == "running" and r["task_state"] == "completed"}
    if not running:
        return
    latest = dict(session.execute(
        select(T.instance_id, func.max(T.ended_at))
        .where(T.instance_id.in_(running), T.state == "completed")
        .group_by(T.instance_id)).tuples().all())
    for row in rows:
        row["maybe_withdrawable"] = (row["instance_id"] in running
                                     and row["task_state"] == "completed"
                                     and row["ended_at"] == latest.get(row["instance_id"]))


def inbox_counts(session: Session, username: str) -> dict[str, int]:
    """How many rows each tab holds: ``{"todo": n, "done": n, "started": n, "copied": n}``."""
    def count(query: Any) -> int:
        return int(session.execute(select(func.count()).select_from(query.subquery())
                                   ).scalar_one())

    return {
        "todo": count(_todo_ids(username)),
        "done": count(select(T.id).where(T.ended_by == username, T.state != "open")),
        "started": count(select(I.id).where(I.started_by == username)),
        "copied": count(select(TaskCopy.id).where(TaskCopy.recipient == username)),
    }


def process_choices(session: Session) -> list[tuple[str, str | None]]:
    """(process key, name of its newest version) of every deployed process, by key."""
    newest = (select(V.process_key, func.max(V.version).label("version"))
              .group_by(V.process_key).subquery())
    return list(session.execute(
        select(V.process_key, V.name).join(newest, and_(V.process_key == newest.c.process_key,
                                                        V.version == newest.c.version))
        .order_by(V.process_key)).tuples())


def names_of(session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """Display names of people, by username (unknown names are left out)."""
    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    return dict(session.execute(select(P.username, P.name).where(P.username.in_(wanted)))
                .tuples().all())


def org_names_of(session: Session, codes: Iterable[str | None]) -> dict[str, str]:
    """Names of organisations, by code (unknown codes are left out)."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    return dict(session.execute(select(O.code, O.name).where(O.code.in_(wanted))).tuples().all())
