"""BPMN timers on the engine's clock, written as plain ISO 8601.

SpiffWorkflow 3.2 reads timer text as a Python expression (so a designer's
``PT5M`` fails only when the timer is reached), compares it with the server's
wall clock, and reads dates without an offset in the server's zone. Our timer
definitions instead:

- accept plain ISO 8601 (``PT5M``, ``P3D``, ``2026-12-01T09:00``, ``R3/PT1H``,
  ``R/P1M``), checked at deploy, or an expression over instance data whose
  value is such text (or a date/time);
- take "now" and the zone from the script engine, which the engine gives its
  injectable clock and configured zone;
- for cycles, fire once for a run of occurrences missed during downtime and
  go on from the first occurrence after now (see ``engine.timetext``).

The due time of every waiting timer is read by the runner and written to the
jobs table; the job executor then loads the instance at that time and the
timer finds itself due.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition, DurationTimerEventDefinition, TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.util.task import TaskState

from engine import scripting
from engine.errors import ScriptError
from engine.timetext import TimerSpec, TimeTextError, looks_like_iso, parse_timer

KINDS = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}


def check_timer_text(element: str, text: str | None, tz: str) -> str | None:
    """The reason a timer's text is refused at deploy, or None when it is fine."""
    text = (text or "").strip()
    if not text:
        return f"the {element} is empty"
    if looks_like_iso(text):
        try:
            spec = parse_timer(text, tz)
        except TimeTextError as exc:
            return str(exc)
        if spec.kind != KINDS[element]:
            return f"{element} needs a {KINDS[element]}, but {text!r} is a {spec.kind}"
        return None
    try:
        scripting.check_expression(text)
    except ScriptError as exc:
        return (f"{text!r} is neither ISO 8601 time text (like PT5M, P3D, 2026-12-01T09:00, "
                f"R3/PT1H) nor an allowed expression: {exc.reason}")
    return None


def _engine(my_task: Any) -> Any:
    return my_task.workflow.script_engine


def _now(my_task: Any) -> datetime:
    return _engine(my_task).now()


def _spec(definition: TimerEventDefinition, my_task: Any) -> TimerSpec:
    """Parse the timer's text, evaluating it first when it is an expression."""
    engine = _engine(my_task)
    text: Any = definition.expression
    if not getattr(definition, "iso", True):
        text = engine.evaluate(my_task, definition.expression)
    if isinstance(text, datetime):
        text = text.isoformat()
    elif isinstance(text, date):
        text = text.isoformat()
    elif isinstance(text, timedelta):
        text = f"PT{int(text.total_seconds())}S"
    if not isinstance(text, str):
        raise ScriptError(f"timer {definition.expression!r} gave {text!r}, not ISO 8601 text",
                          element_id=getattr(my_task.task_spec, "bpmn_id", None))
    try:
        return parse_timer(text, engine.tz)
    except TimeTextError as exc:
        raise ScriptError(f"timer text {text!r}: {exc}",
                          element_id=getattr(my_task.task_spec, "bpmn_id", None)) from None


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(timezone.utc)


class DubanTimeDate(TimeDateEventDefinition):
    def __init__(self, name: str, expression: str, iso: bool = True, **kwargs: Any) -> None:
        super().__init__(name, expression, **kwargs)
        self.iso = iso

    def has_fired(self, my_task: Any) -> bool:
        value = my_task._get_internal_data("event_value")
        if value is None:
            due = _spec(self, my_task).first_due(_now(my_task), _engine(my_task).tz)
            if due is None:  # a date or duration always has one; be safe for odd text
                return False
            value = due.isoformat()
            my_task._set_internal_data(event_value=value)
        if _moment(value) <= _now(my_task):
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class DubanDuration(DurationTimerEventDefinition):
    def __init__(self, name: str, expression: str, iso: bool = True, **kwargs: Any) -> None:
        super().__init__(name, expression, **kwargs)
        self.iso = iso

    has_fired = DubanTimeDate.has_fired  # same rule: due = first_due(now) when first reached


class DubanCycle(CycleTimerEventDefinition):
    """A repeating timer; ``event_value`` holds remaining cycles, next due and firings."""

    def __init__(self, name: str, expression: str, iso: bool = True, **kwargs: Any) -> None:
        super().__init__(name, expression, **kwargs)
        self.iso = iso

    def cycle_complete(self, my_task: Any) -> bool:
        value = my_task._get_internal_data("event_value")
        now, tz = _now(my_task), _engine(my_task).tz
        spec = _spec(self, my_task)
        if value is None:
            first = spec.first_due(now, tz)
            value = {"cycles": -1 if spec.repeat is None else spec.repeat,
                     "next": first.isoformat() if first else None, "fired": 0,
                     "anchor": first.isoformat() if first else None}
        if spec.at is None and value.get("anchor"):
            # count every occurrence from the first one, so P1M from Jan 31 does not drift
            spec = replace(spec, at=_moment(value["anchor"]))
        ready = False
        if value["cycles"] != 0 and value["next"] and _moment(value["next"]) <= now:
            value["fired"] += 1
            following, _skipped = spec.next_due(_moment(value["next"]), now, value["fired"], tz)
            value["next"] = following.isoformat() if following else None
            if value["cycles"] > 0:
                value["cycles"] -= 1
            if following is None:
                value["cycles"] = 0
            ready = True
        if value["cycles"] == 0 and not ready:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
            return False
        my_task._set_internal_data(event_value=value)
        return ready

    def details(self, my_task: Any) -> Any:
        return super().details(my_task)


def timer_due(task: Any) -> datetime | None:
    """When a waiting timer task falls due next (None if it is not a pending timer)."""
    if task.state != TaskState.WAITING:
        return None
    definition = getattr(task.task_spec, "event_definition", None)
    timers = [d for d in getattr(definition, "event_definitions", [definition])
              if isinstance(d, TimerEventDefinition)]
    if not timers:
        return None
    value = task._get_internal_data("event_value")
    if isinstance(value, dict):
        value = value.get("next")
    return _moment(value) if isinstance(value, str) else None


class TimerConverter(TimerConditionalEventDefinitionConverter):
    def to_dict(self, event_definition: Any) -> dict[str, Any]:
        dct = super().to_dict(event_definition)
        dct["iso"] = getattr(event_definition, "iso", True)
        return dct


TIMER_CLASSES = {"timeDate": DubanTimeDate, "timeDuration": DubanDuration,
                 "timeCycle": DubanCycle}
