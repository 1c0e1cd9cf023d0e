"""Importing a problem list (问题清单) from Excel: one 问题整改销号 instance per row.

The file has the ledger's layout (see :mod:`engine.ledger_excel`). Every row is
checked before anything is started, and every bad cell is reported, keyed
``"<row>:<column header>"`` (the Excel row number, e.g. ``"5:责任单位"``; whole-file
problems under ``"file"``). A file with any bad row imports nothing. A good
file starts one instance per row, in row order, through the same ``start``
command a person uses, all in this one transaction: if any start fails, none
stays.

What a row becomes: the instance's start data (问题登记) gets the title, source,
category and a description (the 问题描述 column if the file has one, else the
title); the decomposition the list already carries (责任单位, 责任人, 牵头领导,
整改措施, 时限要求) goes into the data too, so the ledger shows it at once. The
instance concerns the responsible unit (``org=``). The procedure's own 责任分解
step still opens for the town's 组织委员, who confirms or corrects it: a list
typed into a spreadsheet is not yet a decision of the town.
"""
from __future__ import annotations

from typing import Any, BinaryIO

from sqlalchemy import or_, select

from engine import ledger_excel
from engine.commands.runtime import require_actor, start
from engine.db.command import CommandContext
from engine.errors import ValidationError
from engine.models import Item, Organisation, Person
from engine.queries import units
from engine.views import ImportReport

PROCESS_KEY = "problem_rectification"
# the layout's facts live with the layout (queries use them too): re-exported here
SOURCES, REQUIRED_COLUMNS = ledger_excel.SOURCES, ledger_excel.REQUIRED_COLUMNS
LIMITS = {"title": 200, "category": 100, "measures": 4000, "description": 20_000}


class _Lookup:
    """Organisations the importer may see and the people a file names, by code or name."""

    def __init__(self, ctx: CommandContext, by: str, rows: list[ledger_excel.SheetRow]) -> None:
        paths = units.visible_paths(ctx.session, by)
        query = select(Organisation.code, Organisation.name)
        if paths != ["/"]:
            query = query.where(or_(*[Organisation.path.startswith(p, autoescape=True)
                                      for p in paths]))
        self.org_codes: dict[str, str] = {}
        self.org_names: dict[str, list[str]] = {}
        for code, name in ctx.session.execute(query):
            self.org_codes[code] = code
            self.org_names.setdefault(name, []).append(code)
        wanted = {str(r.values[f]).strip() for r in rows
                  for f in ("responsible_person", "lead_leader") if r.values.get(f) not in
                  (None, "")}
        self.usernames: set[str] = set()
        self.people_names: dict[str, list[str]] = {}
        if wanted:
            for username, name in ctx.session.execute(
                    select(Person.username, Person.name).where(
                        Person.active.is_(True),
                        or_(Person.username.in_(wanted), Person.name.in_(wanted)))):
                self.usernames.add(username)
                self.people_names.setdefault(name, []).append(username)
        numbers = {str(r.values["number"]).strip() for r in rows if r.values.get("number")}
        self.numbers = set(ctx.session.execute(select(Item.number).where(
            Item.number.in_(numbers))).scalars()) if numbers else set()

    def org(self, value: str) -> str:
        if value in self.org_codes:
            return value
        found = self.org_names.get(value, [])
        if len(found) == 1:
            return found[0]
        if found:
            raise ValueError(f"several organisations are named {value!r}; give the code")
        raise ValueError(f"no organisation {value!r} that you may see")

    def person(self, value: str) -> str:
        if value in self.usernames:
            return value
        found = self.people_names.get(value, [])
        if len(found) == 1:
            return found[0]
        if found:
            raise ValueError(f"several people are named {value!r}; give the username")
        raise ValueError(f"no active person {value!r}")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as a number comes back as 101.0
    text = str(value).strip()
    return text or None


def _check_row(row: ledger_excel.SheetRow, lookup: _Lookup,
               problems: dict[str, str]) -> dict[str, Any]:
    """The start data of one row; its bad cells go into *problems*."""
    data: dict[str, Any] = {}

    def bad(field: str, reason: str) -> None:
        problems[f"{row.number}:{ledger_excel.header(field)}"] = reason

    values = {k: _text(v) if k != "due_date" else v for k, v in row.values.items()}
    for field in ("title", "source", "responsible_unit"):
        if not values.get(field):
            bad(field, "is required")
    if values.get("number") and values["number"] in lookup.numbers:
        bad("number", f"{values['number']} is on the ledger already; leave 编号 empty "
                      "for a new problem")
    kind = values.get("kind")
    if kind and kind not in ("问题", "problem"):
        bad("kind", "only problems (问题) can be imported")
    for field, limit in LIMITS.items():
        if values.get(field) and len(values[field]) > limit:
            bad(field, f"must be at most {limit} characters")
        elif values.get(field):
            data[field] = values[field]
    if values.get("source"):
        if values["source"] not in SOURCES:
            bad("source", f"must be one of {', '.join(SOURCES)}")
        data["source"] = values["source"]
    for field, resolve in (("responsible_unit", lookup.org),
                           ("responsible_person", lookup.person),
                           ("lead_leader", lookup.person)):
        if values.get(field):
            try:
                data[field] = resolve(values[field])
            except ValueError as exc:
                bad(field, str(exc))
    due = values.get("due_date")
    if due not in (None, ""):
        try:
            data["due_date"] = ledger_excel.as_date(due).isoformat()
        except ValueError as exc:
            bad("due_date", str(exc))
    data.setdefault("description", data.get("title"))
    return data


def import_problem_list(ctx: CommandContext, content: bytes | BinaryIO, *,
                        by: str) -> ImportReport:
    """Register every problem of an Excel problem list, or none.

    :return: the instances started and their item numbers, in row order.
    :raise ValidationError: the file is not a usable .xlsx, or rows are bad
        (``fields``: ``"<row>:<column>"`` → reason, every bad cell of every row).
    :raise NotFound: the 问题整改销号 procedure is not deployed.
    :raise PermissionDenied: *by* is unknown or inactive.
    """
    require_actor(ctx, by)
    columns, rows = ledger_excel.read_problem_list(content)
    missing = [ledger_excel.header(c) for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ValidationError({"file": f"has no column {'、'.join(missing)}"})
    lookup = _Lookup(ctx, by, rows)
    problems: dict[str, str] = {}
    prepared = [(row, _check_row(row, lookup, problems)) for row in rows]
    if problems:
        raise ValidationError(problems, f"{len({k.split(':')[0] for k in problems})} of "
                                        f"{len(rows)} rows are bad; nothing was imported")
    started = []
    for row, data in prepared:
        try:
            started.append(start(ctx, PROCESS_KEY, data, by=by, org=data["responsible_unit"]))
        except ValidationError as exc:
            # the procedure's start form refused what the checks above let through
            raise ValidationError({f"{row.number}:{ledger_excel.header(f)}": reason
                                   for f, reason in exc.fields.items()},
                                  "a row was refused by the procedure; nothing was imported"
                                  ) from None
    ctx.session.flush()
    numbers = dict(ctx.session.execute(select(Item.instance_id, Item.number).where(
        Item.instance_id.in_(started))).tuples().all())
    ctx.record("ledger.imported", by=by, rows=len(rows), instances=started)
    return ImportReport(len(rows), tuple(started), tuple(numbers[i] for i in started))


__all__ = ["import_problem_list", "SOURCES", "REQUIRED_COLUMNS", "PROCESS_KEY"]
