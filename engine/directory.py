"""What service handlers may look up in the organisation tree (read only).

Handlers get a :class:`Directory` as the ``directory`` keyword: it answers
questions like "which village branches are under this town?" without giving
a handler the database session itself.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.models import Circular, Organisation
from engine.organisations import get_org, holders, role_code


class Directory:
    def __init__(self, session: Session, org_id: int | None) -> None:
        self._session = session
        self._org_id = org_id

    def _org(self, code: str | None) -> Organisation:
        if code:
            return get_org(self._session, code)
        if self._org_id is None:
            raise NotFound("the instance has no organisation; name one")
        return get_org(self._session, self._org_id)

    def organisation(self, code: str | None = None) -> dict[str, Any]:
        org = self._org(code)
        return {"code": org.code, "name": org.name, "kind": org.kind}

    def below(self, code: str | None = None, kind: str = "branch") -> list[str]:
        """Codes of the organisations of *kind* under *code* (default: the instance's)."""
        org = self._org(code)
        return list(self._session.execute(
            select(Organisation.code).where(Organisation.path.startswith(org.path),
                                            Organisation.id != org.id,
                                            Organisation.kind == kind)
            .order_by(Organisation.code)).scalars())

    def holders(self, role: str, code: str | None = None) -> list[str]:
        return holders(self._session, role_code(self._session, role), self._org(code).id)

    def latest_circular(self, code: str | None = None) -> tuple[int, dict[str, Any]] | None:
        """(id, figures) of the newest stored monthly circular of the organisation
        (newest month, then newest generation), or None."""
        row = self._session.execute(
            select(Circular.id, Circular.body_json).where(Circular.org_id == self._org(code).id)
            .order_by(Circular.month.desc(), Circular.id.desc()).limit(1)).first()
        return (row[0], json.loads(row[1])) if row is not None else None


def branches_under(data: dict[str, Any], *, directory: Directory, **_: Any) -> dict[str, Any]:
    """Built-in handler ``org.branches``: ``branches`` = the branch codes under the
    organisation in data field ``town`` (or the instance's own), and ``branch_names``
    = code → name, for titles like ``branch_names[branch]``."""
    codes = directory.below(data.get("town"), "branch")
    return {"branches": codes,
            "branch_names": {code: directory.organisation(code)["name"] for code in codes}}


def circular_figures(data: dict[str, Any], *, directory: Directory, **_: Any) -> dict[str, Any]:
    """Built-in handler ``circular.figures``: the figures of the organisation's newest
    stored monthly circular (engine/circulars.py), for the monthly_circular procedure's
    汇总排名 step: ``circular_id`` (None when none is stored), ``circular_month``,
    ``period``, ``matters_due``, ``matters_on_time``, ``matters_overdue``, ``ranking``
    and ``overdue_list``."""
    from engine.circulars import figures

    found = directory.latest_circular(data.get("town"))
    return figures(found[1], found[0]) if found is not None else figures(None, None)


BUILTIN_HANDLERS = {"org.branches": branches_under, "circular.figures": circular_figures}
