"""The Flask application: thin routes over engine commands and queries.

``create_app(config=None)`` reads defaults, then ``DUBAN_*`` environment
variables (``app.config.from_prefixed_env("DUBAN")``), then the mapping given
(tests pass one); it builds one :class:`engine.Engine` into
``app.extensions["duban"]`` and registers one blueprint per audience:

========== ===================================================
auth       sign-in, sign-out, language, own password
inbox      待办 / 已办 / 我发起的 / 抄送我的, the task page and its verbs
instances  the instance page: live diagram, timeline, data, admin actions
supervision the dashboard, the ledger (台账) and the monthly circular
admin      people, roles and organisations
========== ===================================================
"""
from __future__ import annotations

import secrets
from typing import Any, Mapping

from flask import Flask

from engine import Engine

#: a request body above this is refused with 413 before a view runs
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE_URL=None, ENGINE=None,
        # a random key per process unless one is configured: sessions end on restart
        SECRET_KEY=secrets.token_hex(32),
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES + 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        PAGE_SIZE=20,
    )
    app.config.from_prefixed_env("DUBAN")
    if config:
        app.config.from_mapping(config)
    engine = app.config["ENGINE"] or Engine(app.config["DATABASE_URL"])
    app.extensions["duban"] = engine

    from web import auth, errors, health, i18n, vendor

    i18n.init_app(app, engine.config.timezone)
    auth.init_app(app)
    from flask_wtf.csrf import CSRFProtect

    CSRFProtect(app)
    for blueprint in _blueprints():
        app.register_blueprint(blueprint)
    app.register_blueprint(health.bp)
    app.register_blueprint(vendor.bp)
    errors.register(app)
    _add_home_and_context(app)
    return app


def _add_home_and_context(app: Flask) -> None:
    from flask import redirect, url_for
    from flask_login import current_user

    @app.get("/")
    def home() -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        if "inbox.index" in app.view_functions:
            return redirect(url_for("inbox.index"))
        return redirect(url_for("auth.change_password"))

    @app.context_processor
    def _globals() -> dict[str, Any]:
        unread = 0
        if current_user.is_authenticated:
            unread = engine_of(app).unread_count(current_user.username)
        return {"url_endpoints": app.view_functions, "unread_notices": unread}


def _blueprints() -> list[Any]:
    """The audience blueprints that exist (each is a package under web/)."""
    import importlib

    found = []
    for name in ("auth", "inbox", "instances", "supervision", "admin"):
        try:
            module = importlib.import_module(f"web.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"web.{name}":
                raise
            continue
        found.append(module.bp)
    return found


def engine_of(app: Flask) -> Engine:
    return app.extensions["duban"]  # type: ignore[no-any-return]
