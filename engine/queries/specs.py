"""Element facts of deployed versions (forms, names), from the process_elements rows."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from engine.models import ProcessElement


def form_of(session: Session, version_id: int, element_id: str) -> list[dict[str, Any]]:
    row = session.get(ProcessElement, (version_id, element_id))
    if row is None:
        return []
    return list(json.loads(row.extensions).get("form") or [])


def forms_of(session: Session, keys: set[tuple[int, str]]) -> dict[tuple[int, str],
                                                                  list[dict[str, Any]]]:
    """Forms of several (version id, element id) pairs in one query."""
    if not keys:
        return {}
    rows = session.execute(select(ProcessElement).where(or_(*[
        and_(ProcessElement.version_id == v, ProcessElement.element_id == e)
        for v, e in keys]))).scalars()
    return {(r.version_id, r.element_id): list(json.loads(r.extensions).get("form") or [])
            for r in rows}
