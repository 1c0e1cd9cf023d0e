"""Turning a BPMN file into validated process specs, or a list of problems.

Reading a file happens in three passes, and nothing is stored unless all pass:

1. safe XML parsing (no DTDs, no entities, no network, size-bounded);
2. our own checks over the whole document, collecting every problem at once:
   ``duban:`` extensions, conditions and scripts (through the restricted
   evaluator's static check), dangling references;
3. SpiffWorkflow's parser per executable process (it stops at its first
   problem, which is why pass 2 exists).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.parser.event_parsers import (
    CONDITIONAL_EVENT_XPATH, ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH, MESSAGE_EVENT_XPATH,
    SIGNAL_EVENT_XPATH, StartEventParser, TIMER_EVENT_XPATH,
)
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, ServiceTask, StartEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine import scripting
from engine.bpmn.extensions import BPMN_NS, parse_extensions
from engine.bpmn.specs import DubanBoundaryEvent, DubanServiceTask, DubanStartEvent
from engine.bpmn.timers import TIMER_CLASSES, check_timer_text
from engine.timetext import looks_like_iso
from engine.errors import DefinitionError, Problem

MAX_XML_BYTES = 5 * 1024 * 1024
MAX_ELEMENTS = 20_000
NS = {"bpmn": BPMN_NS}
#: BPMN elements whose text is an expression
EXPRESSION_TAGS = ("conditionExpression", "loopCardinality", "completionCondition",
                   "loopCondition")
FLOW_NODE_TAGS = (
    "startEvent", "endEvent", "userTask", "task", "subProcess", "manualTask",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "callActivity",
    "transaction", "adHocSubProcess", "scriptTask", "serviceTask",
    "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "receiveTask", "sendTask", "eventBasedGateway", "businessRuleTask",
)


class _ExtensionsMixin:
    """Gives every Spiff node parser our ``duban:`` extensions and our timers."""

    node: etree._Element
    filename: str | None
    #: the zone in which timer dates without an offset are read
    timezone = "Asia/Shanghai"

    def parse_extensions(self, node: etree._Element | None = None) -> dict[str, Any]:
        extensions, _problems = parse_extensions(self.node if node is None else node)
        return extensions

    def parse_timer_event(self, event: etree._Element) -> Any:
        name = self.node.get("name", self.node.get("id"))
        description = self.get_event_description(event)  # type: ignore[attr-defined]
        for element, cls in TIMER_CLASSES.items():
            found = event.find(f"bpmn:{element}", NS)
            if found is None:
                continue
            text = (found.text or "").strip()
            reason = check_timer_text(element, text, self.timezone)
            if reason:
                raise ValidationException(reason, node=self.node, file_name=self.filename)
            iso = looks_like_iso(text)
            if iso:
                text = text.strip("'\"")
            return cls(name, text, iso=iso, description=description)
        raise ValidationException("a timer needs timeDate, timeDuration or timeCycle",
                                  node=self.node, file_name=self.filename)


class _StartEventParser(StartEventParser):
    """Also reads error and escalation start events (event subprocesses), which
    SpiffWorkflow 3.2 silently parses as none start events, and isInterrupting."""

    def create_task(self) -> Any:
        definition = self.get_event_definition(
            [MESSAGE_EVENT_XPATH, SIGNAL_EVENT_XPATH, TIMER_EVENT_XPATH, CONDITIONAL_EVENT_XPATH,
             ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH])
        task = self._create_task(definition)
        task.interrupting = self.node.get("isInterrupting", "true") != "false"
        self.spec.start.connect(task)
        return task


def _override_classes() -> dict[str, tuple[type, type]]:
    overrides = {}
    for tag, (parser_cls, spec_cls) in BpmnParser.PARSER_CLASSES.items():
        if parser_cls is StartEventParser:
            parser_cls = _StartEventParser
        parser_sub = type(f"Duban{parser_cls.__name__}", (_ExtensionsMixin, parser_cls), {})
        if spec_cls is ServiceTask:
            spec_cls = DubanServiceTask
        elif spec_cls is StartEvent:
            spec_cls = DubanStartEvent
        elif spec_cls is BoundaryEvent:
            spec_cls = DubanBoundaryEvent
        overrides[tag] = (parser_sub, spec_cls)
    return overrides


class DubanBpmnParser(BpmnParser):
    OVERRIDE_PARSER_CLASSES = _override_classes()


@dataclass
class ParsedProcess:
    key: str
    name: str | None
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    #: processes of other deployments this one calls, resolved by the caller
    external_calls: set[str] = field(default_factory=set)


@dataclass
class ParsedFile:
    xml: str
    xml_hash: str
    processes: list[ParsedProcess]
    #: the process a caller most likely means: the first one nobody calls
    primary_key: str


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=False)


def read_xml(data: str | bytes) -> etree._Element:
    """Parse untrusted XML: no DTD, no entities, no network, bounded size."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_XML_BYTES:
        raise DefinitionError(f"the file is {len(raw)} bytes; the limit is {MAX_XML_BYTES}")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if b"<!DOCTYPE" in raw[:4096].upper() or b"<!ENTITY" in raw.upper():
        raise DefinitionError("DOCTYPE and ENTITY declarations are not allowed in a BPMN file")
    try:
        root = etree.fromstring(raw, _safe_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if hasattr(exc, "lineno") else None
        raise DefinitionError(Problem(None, f"not well-formed XML: {exc.msg}", line=line)) from None
    if etree.QName(root).namespace != BPMN_NS or etree.QName(root).localname != "definitions":
        raise DefinitionError("the root element must be bpmn:definitions "
                              f"({BPMN_NS})")
    count = sum(1 for _ in root.iter())
    if count > MAX_ELEMENTS:
        raise DefinitionError(f"the file has {count} elements; the limit is {MAX_ELEMENTS}")
    return root


def _check_document(root: etree._Element, known_processes: Iterable[str],
                    service_handlers: Iterable[str],
                    timezone: str) -> tuple[list[Problem], set[str]]:
    """Pass 2: every problem our own rules find, plus the external processes called."""
    problems: list[Problem] = []
    handlers = set(service_handlers)
    ids_in_file = {e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    processes_in_file = {p.get("id") for p in root.iterfind("bpmn:process", NS)}
    known = set(known_processes)
    external_calls: set[str] = set()

    for tag in FLOW_NODE_TAGS:
        for node in root.iterfind(f".//bpmn:{tag}", NS):
            extensions, found = parse_extensions(node)
            problems.extend(found)
            service = extensions.get("service")
            if tag == "serviceTask" and not service:
                problems.append(Problem(node.get("id"), "a service task needs "
                                        "<duban:service handler=\"...\"/>", line=node.sourceline))
            if service and service.get("handler") and service["handler"] not in handlers:
                problems.append(Problem(node.get("id"), f"no service handler named "
                                        f"{service['handler']!r} is registered", line=node.sourceline))

    for flow in root.iterfind(".//bpmn:sequenceFlow", NS):
        for end in ("sourceRef", "targetRef"):
            ref = flow.get(end)
            if ref not in ids_in_file:
                problems.append(Problem(flow.get("id"), f"{end} {ref!r} names no element in this file",
                                        line=flow.sourceline))

    for tag in EXPRESSION_TAGS:
        for expr in root.iterfind(f".//bpmn:{tag}", NS):
            owner = expr.getparent()
            if tag in ("loopCardinality", "completionCondition", "loopCondition"):
                owner = owner.getparent()
            text = (expr.text or "").strip()
            if not text:
                if tag == "conditionExpression":
                    problems.append(Problem(owner.get("id"), "empty condition", line=expr.sourceline))
                continue
            try:
                scripting.check_expression(text)
            except Exception as exc:  # ScriptError with a reason and maybe a line
                problems.append(Problem(owner.get("id"), f"condition {text!r} is refused: "
                                        f"{getattr(exc, 'reason', exc)}", line=expr.sourceline))

    for script_task in root.iterfind(".//bpmn:scriptTask", NS):
        script = script_task.find("bpmn:script", NS)
        text = script.text if script is not None else None
        if not text or not text.strip():
            problems.append(Problem(script_task.get("id"), "a script task needs a script",
                                    line=script_task.sourceline))
            continue
        try:
            scripting.check_script(text)
        except Exception as exc:
            line = getattr(exc, "line", None)
            problems.append(Problem(script_task.get("id"), f"script is refused: "
                                    f"{getattr(exc, 'reason', exc)}"
                                    + (f" (script line {line})" if line else ""),
                                    line=script_task.sourceline))

    for call in root.iterfind(".//bpmn:callActivity", NS):
        called = call.get("calledElement")
        if not called:
            problems.append(Problem(call.get("id"), "a call activity needs calledElement",
                                    line=call.sourceline))
        elif called not in processes_in_file:
            if called in known:
                external_calls.add(called)
            else:
                problems.append(Problem(call.get("id"), f"calls process {called!r}, which is "
                                        "neither in this file nor deployed", line=call.sourceline))

    for ref_attr, what in (("messageRef", "message"), ("signalRef", "signal"),
                           ("errorRef", "error"), ("escalationRef", "escalation")):
        for elem in root.iterfind(f".//bpmn:*[@{ref_attr}]", NS):
            if elem.get(ref_attr) not in ids_in_file:
                owner = elem.getparent() if elem.get("id") is None else elem
                problems.append(Problem(owner.get("id"), f"refers to {what} "
                                        f"{elem.get(ref_attr)!r}, which is not defined",
                                        line=elem.sourceline))

    for tag in ("inputDataItem", "outputDataItem"):
        for item in root.iterfind(f".//bpmn:{tag}", NS):
            if item.get("name") and item.get("name") != item.get("id"):
                owner = item.getparent().getparent()
                problems.append(Problem(owner.get("id"), f"the {tag}'s id {item.get('id')!r} is "
                                        f"the data name the engine uses; its name "
                                        f"{item.get('name')!r} differs — make them the same",
                                        line=item.sourceline))

    for definition in root.iterfind(".//bpmn:timerEventDefinition", NS):
        owner = definition.getparent()
        parts = [c for c in definition if isinstance(c.tag, str)
                 and etree.QName(c).localname in TIMER_CLASSES]
        if len(parts) != 1:
            problems.append(Problem(owner.get("id"), "a timer needs exactly one of timeDate, "
                                    "timeDuration, timeCycle", line=definition.sourceline))
            continue
        reason = check_timer_text(etree.QName(parts[0]).localname, parts[0].text, timezone)
        if reason:
            problems.append(Problem(owner.get("id"), f"timer: {reason}",
                                    line=parts[0].sourceline))

    for boundary in root.iterfind(".//bpmn:boundaryEvent", NS):
        if boundary.get("attachedToRef") not in ids_in_file:
            problems.append(Problem(boundary.get("id"), "attachedToRef names no element",
                                    line=boundary.sourceline))
    return problems, external_calls


def _spiff_problem(exc: Exception) -> Problem:
    if isinstance(exc, ValidationException):
        line = exc.line_number if isinstance(exc.line_number, int) else None
        return Problem(exc.id or None, str(exc.args[0]) if exc.args else str(exc), line=line)
    return Problem(getattr(exc, "id", None), str(exc))


def parse_file(data: str | bytes, *, known_processes: Iterable[str] = (),
               service_handlers: Iterable[str] = (),
               timezone: str = "Asia/Shanghai") -> ParsedFile:
    """Validate and parse a BPMN file.

    :param known_processes: keys already deployed, which call activities may call.
    :param service_handlers: names of registered service task handlers.
    :raise DefinitionError: with every problem found; nothing was parsed.
    """
    root = read_xml(data)
    known = list(known_processes)
    problems, external_calls = _check_document(root, known, service_handlers, timezone)
    executable = [p for p in root.iterfind("bpmn:process", NS)
                  if p.get("isExecutable", "true") == "true"]
    if not executable:
        problems.append(Problem(None, "the file has no executable process "
                                "(set isExecutable=\"true\" on a bpmn:process)"))
    if problems:
        raise DefinitionError(problems)

    # lxml keeps line numbers on the element as .sourceline; Spiff reads .line_number
    parser = DubanBpmnParser()
    try:
        parser.add_bpmn_xml(root, filename=None)
    except (ValidationException, SpiffWorkflowException) as exc:
        raise DefinitionError(_spiff_problem(exc)) from None

    called: set[str] = set()
    for proc in executable:
        called.update(c.get("calledElement") for c in proc.iterfind(".//bpmn:callActivity", NS))
    parsed: list[ParsedProcess] = []
    for proc in executable:
        key = proc.get("id")
        try:
            spec = parser.get_spec(key)
            subs = parser.get_subprocess_specs(key, require_call_activity_specs=False)
        except (ValidationException, SpiffWorkflowException) as exc:
            raise DefinitionError(_spiff_problem(exc)) from None
        except Exception as exc:  # Spiff raises bare errors on some malformed graphs
            raise DefinitionError(Problem(key, f"cannot be parsed: {exc}")) from None
        ext = {name for name, sub in subs.items() if sub is None}
        subs = {name: sub for name, sub in subs.items() if sub is not None}
        parsed.append(ParsedProcess(key, proc.get("name"), spec, subs, ext))

    collab = root.find("bpmn:collaboration", NS)
    primary = None
    if collab is not None:
        for participant in collab.iterfind("bpmn:participant", NS):
            ref = participant.get("processRef")
            if any(p.key == ref for p in parsed):
                primary = ref
                break
    if primary is None:
        uncalled = [p.key for p in parsed if p.key not in called]
        primary = (uncalled or [parsed[0].key])[0]
    text = etree.tostring(root, encoding="unicode")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return ParsedFile(text, digest, parsed, primary)



def elements(spec: BpmnProcessSpec, subprocess_specs: dict[str, Any]
             ) -> Iterable[dict[str, Any]]:
    """One row per BPMN flow node of a process and the processes it embeds or calls."""
    seen: set[str] = set()
    for spec in [spec, *subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            if bpmn_id is None or bpmn_id in seen:
                continue
            seen.add(bpmn_id)
            name = type(task_spec).__name__
            yield {"element_id": bpmn_id,
                   "element_type": name[5:] if name.startswith("Duban") else name,
                   "name": getattr(task_spec, "bpmn_name", None),
                   "extensions": json.dumps(getattr(task_spec, "extensions", None) or {},
                                            ensure_ascii=False)}
