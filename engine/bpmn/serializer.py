"""Specs and instance states as JSON.

Specs are serialized once per deployed version; instance states carry only
their (compacted) task tree and data, never the spec, and are stamped with
:data:`STATE_FORMAT` so a future format change can migrate old rows, the way
SpiffWorkflow migrates its own versions.
"""
from __future__ import annotations

import json
from typing import Any, Callable
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.task_spec import (
    BoundaryEventConverter, BpmnTaskSpecConverter, EventConverter,
)
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_VERSION
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from engine.bpmn.specs import DubanBoundaryEvent, DubanServiceTask, DubanStartEvent
from engine.bpmn.timers import DubanCycle, DubanDuration, DubanTimeDate, TimerConverter

#: stamped on every stored state; bump and add a migration when the shape changes
STATE_FORMAT = f"duban-1/spiff-{SPIFF_VERSION}"
SPEC_FORMAT = STATE_FORMAT


class StateConverter(BpmnWorkflowConverter):
    """Like Spiff's workflow converter, but the spec is not part of the state."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: BpmnProcessSpec | None = None,
                  subprocess_specs: dict[str, BpmnProcessSpec] | None = None) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class StartEventConverter(EventConverter):
    def to_dict(self, spec: Any) -> dict[str, Any]:
        dct = super().to_dict(spec)
        dct["interrupting"] = spec.interrupting
        return dct


def _registry() -> Any:
    config = dict(DEFAULT_CONFIG)
    config[BpmnWorkflow] = StateConverter
    config[DubanServiceTask] = BpmnTaskSpecConverter
    config[DubanStartEvent] = StartEventConverter
    config[DubanBoundaryEvent] = BoundaryEventConverter
    for timer in (DubanTimeDate, DubanDuration, DubanCycle):
        config[timer] = TimerConverter
    return BpmnWorkflowSerializer.configure(config)


_REGISTRY = _registry()
_ENCODER = create_encoder(_REGISTRY)
#: per stored format: a function bringing an older state dict up to date
STATE_MIGRATIONS: dict[str, Callable[[dict[str, Any]], None]] = {}


def _dumps(obj: Any) -> str:
    _REGISTRY._encoder_mode = True
    try:
        dct = _REGISTRY.convert(obj)
        return json.dumps(dct, cls=_ENCODER, ensure_ascii=False, separators=(",", ":"))
    finally:
        _REGISTRY._encoder_mode = False


def dump_specs(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> str:
    _REGISTRY._encoder_mode = True
    try:
        dct = {
            "spec": _REGISTRY.convert(spec),
            "subprocess_specs": {k: _REGISTRY.convert(v) for k, v in subprocess_specs.items()},
        }
        return json.dumps(dct, cls=_ENCODER, ensure_ascii=False, separators=(",", ":"))
    finally:
        _REGISTRY._encoder_mode = False


def load_specs(text: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    dct = json.loads(text)
    spec = _REGISTRY.restore(dct["spec"])
    subs = {k: _REGISTRY.restore(v) for k, v in dct["subprocess_specs"].items()}
    for one in (spec, *subs.values()):
        wire_event_subprocesses(one)
    return spec, subs


def wire_event_subprocesses(spec: BpmnProcessSpec) -> None:
    """Connect each event subprocess started by a message, signal or error now.

    SpiffWorkflow connects one only when it first fires
    (``BpmnStartTask.trigger_wf``), and then also makes it an output of the
    process start: the shared spec changes, every later instance started from
    it gets a listener that keeps it from ever completing, and an engine that
    loads the spec afresh cannot finish a fired one ("No input task
    connected"). Giving it its input and its way to the end here, without the
    start output, makes ``trigger_wf`` leave the spec alone.
    """
    start = spec.start
    for name in getattr(start, "trigger_specs", ()):
        task_spec = spec.task_specs.get(name)
        if task_spec is None:
            continue
        if start.name not in task_spec._inputs:
            task_spec._inputs.append(start.name)
        if spec.end.name not in task_spec._outputs:
            task_spec.connect(spec.end)


def dump_state(workflow: BpmnWorkflow) -> str:
    return _dumps(workflow)


def load_state(text: str, fmt: str, spec: BpmnProcessSpec,
               subprocess_specs: dict[str, BpmnProcessSpec]) -> BpmnWorkflow:
    dct = json.loads(text)
    while fmt != STATE_FORMAT:
        if fmt not in STATE_MIGRATIONS:
            raise ValueError(f"instance state format {fmt!r} is unknown to this version of duban")
        fmt = STATE_MIGRATIONS[fmt](dct)  # type: ignore[func-returns-value]
    return _REGISTRY.restore(dct, spec=spec, subprocess_specs=subprocess_specs)


def dump_data(data: Any) -> str:
    """Instance data as JSON, with dates and times the way states store them."""
    return _dumps(data) if not isinstance(data, dict) else json.dumps(
        data, cls=_ENCODER, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def load_data(text: str) -> Any:
    return _REGISTRY.restore(json.loads(text))


__all__ = ["STATE_FORMAT", "SPEC_FORMAT", "dump_specs", "load_specs", "dump_state",
           "load_state", "dump_data", "load_data", "MIGRATIONS"]
