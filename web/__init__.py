"""The Flask application: thin routes over engine commands and queries.

``create_app(config=None)`` reads defaults, then ``DUBAN_*`` environment
variables (``app.config.from_prefixed_env("DUBAN")``), then the mapping given
(tests pass one); it builds one :class:`engine.Engine` into
``app.extensions["duban"]``.
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask

from engine import Engine


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DATABASE_URL=None, ENGINE=None)
    app.config.from_prefixed_env("DUBAN")
    if config:
        app.config.from_mapping(config)
    engine = app.config["ENGINE"] or Engine(app.config["DATABASE_URL"])
    app.extensions["duban"] = engine

    from web import errors, health

    app.register_blueprint(health.bp)
    errors.register(app)
    return app


def engine_of(app: Flask) -> Engine:
    return app.extensions["duban"]  # type: ignore[no-any-return]
