"""The one mapping from engine errors to HTTP answers."""
from __future__ import annotations

from flask import Flask, jsonify
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


def register(app: Flask) -> None:
    @app.errorhandler(DubanError)
    def _duban(err: DubanError) -> tuple[object, int]:
        return jsonify(err.to_dict()), status_of(err)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> tuple[object, int]:
        return jsonify(error=err.name, message=err.description), err.code or 500
