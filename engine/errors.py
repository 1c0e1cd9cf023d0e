"""The errors every engine command may raise.

All of them derive from one base, so a caller can catch ``DubanError`` and map
each subclass to one answer (``web/errors.py`` maps them to HTTP, ``engine/cli.py``
to an exit code)::

    DubanError
     ├── NotFound            no such definition, instance, task, person ...
     ├── DefinitionError     a BPMN file was refused at deploy   (.problems)
     ├── ValidationError     form data was refused               (.fields)
     ├── ConflictError       someone else changed it first
     ├── PermissionDenied    the actor may not do this
     ├── ScriptError         a condition or script failed        (.element_id, .line)
     └── JobError            a background job failed             (.job_id)

A command that raises one of these has changed nothing: the transaction is
rolled back before the error reaches the caller.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class DubanError(Exception):
    """Base of every error the engine raises on purpose."""

    #: short stable code, used by the HTTP mapping and by the CLI
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}


class NotFound(DubanError):
    """The thing asked for does not exist (or is not visible to the actor)."""

    code = "not_found"


@dataclass(frozen=True)
class Problem:
    """One reason a definition was refused."""

    element_id: str | None
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.element_id or "definition"
        if self.line:
            where += f" (line {self.line})"
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"element_id": self.element_id, "message": self.message,
                "line": self.line, "column": self.column}


class DefinitionError(DubanError):
    """A BPMN file was refused at deploy; nothing was stored.

    :ivar problems: every :class:`Problem` found, each naming its element.
    """

    code = "definition_error"

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @property
    def element_ids(self) -> list[str]:
        return [p.element_id for p in self.problems if p.element_id]

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "problems": [p.to_dict() for p in self.problems]}


class ValidationError(DubanError):
    """Submitted data was refused; the task stays open.

    :ivar fields: field name → reason, one entry per bad field.
    """

    code = "validation_error"

    def __init__(self, fields: dict[str, str], message: str | None = None) -> None:
        self.fields = dict(fields)
        if message is None:
            message = "invalid data: " + "; ".join(f"{k}: {v}" for k, v in self.fields.items())
        super().__init__(message)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "fields": self.fields}


class ConflictError(DubanError):
    """Another command changed the same thing first; reload and try again."""

    code = "conflict"


class PermissionDenied(DubanError):
    """The actor may not do this."""

    code = "permission_denied"


class ScriptError(DubanError):
    """A condition or script was refused or failed.

    :ivar element_id: the BPMN element whose script failed, when known.
    :ivar line: the line of the script, when known.
    """

    code = "script_error"

    def __init__(self, message: str, *, element_id: str | None = None,
                 line: int | None = None) -> None:
        self.element_id = element_id
        self.line = line
        self.reason = message
        where = []
        if element_id:
            where.append(element_id)
        if line:
            where.append(f"line {line}")
        super().__init__(f"{' '.join(where)}: {message}" if where else message)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "element_id": self.element_id, "line": self.line}


class JobError(DubanError):
    """A background job failed."""

    code = "job_error"

    def __init__(self, message: str, *, job_id: int | None = None) -> None:
        self.job_id = job_id
        super().__init__(message)


__all__ = [
    "DubanError", "NotFound", "Problem", "DefinitionError", "ValidationError",
    "ConflictError", "PermissionDenied", "ScriptError", "JobError",
]
