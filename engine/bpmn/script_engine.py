"""SpiffWorkflow's script engine, replaced by duban's restricted evaluator.

SpiffWorkflow evaluates conditions with ``eval`` and runs scripts with
``exec``; every call here goes through :mod:`engine.scripting` instead, and
service tasks go to Python handlers registered by name.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine import scripting
from engine.errors import ScriptError
from engine.timetext import zone_info

ServiceHandler = Callable[..., Any]


def _element(task: Any) -> str | None:
    return getattr(task.task_spec, "bpmn_id", None) if task is not None else None


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Spiff calls the environment directly for correlation keys and
    conditional starts; those go through the restricted evaluator too."""

    def __init__(self, limits: scripting.Limits) -> None:
        super().__init__({})
        self.limits = limits

    def evaluate(self, expression: str, context: Any, external_context: Any = None) -> Any:
        names = dict(context)
        if external_context:
            names.update(external_context)
        return scripting.compile_expression(expression, self.limits).evaluate(names)

    def execute(self, script: str, context: Any, external_context: Any = None) -> bool:
        scripting.compile_script(script, self.limits).execute(context)
        return True

    def call_service(self, context: Any, **kwargs: Any) -> Any:
        raise ScriptError("service calls go through the engine, not the environment")


class DubanScriptEngine(PythonScriptEngine):
    def __init__(self, handlers: Mapping[str, ServiceHandler],
                 limits: scripting.Limits | None = None,
                 context: dict[str, Any] | None = None, *,
                 now: Callable[[], datetime] | None = None, tz: str = "Asia/Shanghai") -> None:
        self.limits = limits or scripting.Limits()
        #: the engine's clock and zone, for timers (never the server's)
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.tz = tz
        super().__init__(environment=RestrictedEnvironment(self.limits))
        self.handlers = handlers
        #: facts about the running command a service handler may need
        self.context = context or {}

    def validate(self, expression: str) -> None:
        scripting.check_expression(expression, self.limits)

    def today(self) -> str:
        """Today's date in the configured zone, as the ISO text date fields are stored in."""
        return self.now().astimezone(zone_info(self.tz)).date().isoformat()

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        names = {"today": self.today(), **task.data}
        if external_context:
            names.update(external_context)
        try:
            return scripting.compile_expression(expression, self.limits).evaluate(names)
        except ScriptError as err:
            raise ScriptError(f"condition {expression!r}: {err.reason}",
                              element_id=_element(task), line=err.line) from None

    def execute(self, task: Any, script: str, external_context: Any = None) -> bool:
        # `today` is readable in scripts but is not instance data: it is removed again
        # unless the data already had a field of that name
        today = self.today()
        lent = "today" not in task.data
        if lent:
            task.data["today"] = today
        try:
            scripting.compile_script(script, self.limits).execute(task.data)
        except ScriptError as err:
            raise ScriptError(err.reason, element_id=_element(task), line=err.line) from None
        finally:
            if lent and task.data.get("today") == today:
                task.data.pop("today", None)
        return True

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        name = kwargs.get("handler")
        handler = self.handlers.get(name) if name else None
        if handler is None:
            raise ScriptError(f"no service handler named {name!r} is registered",
                              element_id=_element(task))
        result = handler(dict(task.data), element_id=_element(task), **self.context)
        target = kwargs.get("result_variable")
        if target:
            task.data[target] = result
        elif isinstance(result, dict):
            task.data.update(result)
        return result
