"""The one mapping from engine errors and HTTP errors to answers.

Pages get a page in the reader's language; ``/api/`` and JSON clients get
JSON. Nothing ever shows a traceback: an unexpected exception is logged and
answered with a plain 500 page.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import (
    ConflictError, DefinitionError, DubanError, NotFound, PermissionDenied, ScriptError,
    ValidationError,
)

STATUS: list[tuple[type[DubanError], int]] = [
    (NotFound, 404), (PermissionDenied, 403), (ValidationError, 422),
    (DefinitionError, 422), (ConflictError, 409), (ScriptError, 422),
]


def status_of(err: DubanError) -> int:
    for cls, status in STATUS:
        if isinstance(err, cls):
            return status
    return 400


def _titles() -> dict[int, str]:
    return {
        400: _("The request could not be understood"),
        401: _("Please sign in"),
        403: _("You may not do this"),
        404: _("Not found"),
        405: _("This action is not allowed here"),
        409: _("Someone else changed this first"),
        413: _("The upload is too large"),
        422: _("Some values are not valid"),
        429: _("Too many attempts"),
        500: _("Something went wrong on our side"),
    }


def _hints() -> dict[int, str]:
    return {
        403: _("It belongs to an organisation you do not hold a role in, or needs a role "
               "you do not have."),
        404: _("It does not exist, or it is not visible to you."),
        409: _("Reload the page to see the current state, then try again."),
        413: _("Files may be at most 10 MB each."),
        500: _("The error has been logged. Please try again later."),
    }


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.path in ("/healthz", "/readyz"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes["text/html"]


def _page(status: int, message: str | None, fields: dict[str, Any] | None = None) -> Any:
    return render_template("error.html", status=status, title=_titles().get(status, ""),
                           message=message, hint=_hints().get(status), fields=fields or {}
                           ), status


def register(app: Flask) -> None:
    @app.errorhandler(DubanError)
    def _duban(err: DubanError) -> Any:
        status = status_of(err)
        if wants_json():
            return jsonify(err.to_dict()), status
        fields = err.fields if isinstance(err, ValidationError) else None
        return _page(status, str(err), fields)

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError) -> Any:
        message = _("The form had expired or was sent from elsewhere. Reload the page and "
                    "send it again.")
        if wants_json():
            return jsonify(error="csrf", message=err.description), 400
        return _page(400, message)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Any:
        status = err.code or 500
        if wants_json():
            return jsonify(error=err.name, message=err.description), status
        default = type(err).description
        message = err.description if err.description != default else None
        return _page(status, message)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Any:
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        if wants_json():
            return jsonify(error="internal", message="unexpected error; it has been logged"), 500
        return _page(500, None)

    # never a debugger page, even if someone sets FLASK_DEBUG
    app.config["PROPAGATE_EXCEPTIONS"] = False
