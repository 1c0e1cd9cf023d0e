"""Health pages: is the process up, and can it reach its database?"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from web import engine_of

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[object, int]:
    engine = engine_of(current_app)
    try:
        with engine.sessions() as session:
            session.execute(text("select 1"))
        return jsonify(status="ok", database="ok"), 200
    except Exception as exc:  # the point of this page is to report it
        return jsonify(status="error", database=str(exc).splitlines()[0]), 503
