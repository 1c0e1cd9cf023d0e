"""The ``duban:`` extension namespace: what BPMN cannot say.

Read from ``<bpmn:extensionElements>`` of a flow node into plain JSON-able
dicts that travel with the task spec (``task_spec.extensions``). Every element
and attribute is documented in ``docs/extensions.md``; anything else in our
namespace is refused at deploy, so a typo never silently does nothing.
Elements of other namespaces (Camunda, Spiff, ...) are left alone.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from lxml import etree

from engine.errors import Problem

DUBAN_NS = "urn:duban:bpmn:1.0"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

FIELD_TYPES = (
    "string", "text", "integer", "number", "boolean", "date", "datetime",
    "enum", "multienum", "attachments", "person", "organisation",
)
#: where an assignment looks for its role holders
ORG_SCOPES = ("instance", "parent", "town", "county")
PERSON_SCOPES = ("starter",)
IDENTIFIER = re.compile(r"^[A-Za-z\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]{0,63}$")
#: an office of the instance's town, by the end of its name: office:党建工作站
OFFICE_REF = re.compile(r"^office:\S{1,40}$")
DATA_REF = re.compile(r"^data:([A-Za-z\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]{0,63})$")


FLOW_NODES = ("startEvent", "endEvent", "userTask", "manualTask", "task", "scriptTask",
              "serviceTask", "callActivity", "subProcess", "intermediateCatchEvent",
              "intermediateThrowEvent", "boundaryEvent", "sendTask", "receiveTask")


def _q(tag: str) -> str:
    return f"{{{DUBAN_NS}}}{tag}"


def _bool(value: str | None, default: bool, what: str, problems: list[str]) -> bool:
    if value is None:
        return default
    if value in ("true", "false"):
        return value == "true"
    problems.append(f"{what} must be 'true' or 'false', not {value!r}")
    return default


def _number(value: str | None, what: str, problems: list[str]) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        problems.append(f"{what} must be a number, not {value!r}")
        return None


def _check_attrs(elem: etree._Element, allowed: set[str], problems: list[str]) -> None:
    for name in elem.attrib:
        if name not in allowed:
            problems.append(f"unknown attribute {name!r} on duban:{etree.QName(elem).localname}")


def parse_form(elem: etree._Element, problems: list[str]) -> list[dict[str, Any]]:
    _check_attrs(elem, set(), problems)
    fields: list[dict[str, Any]] = []
    seen: set[str] = set()
    for child in elem:
        if not isinstance(child.tag, str):
            continue  # comments
        if child.tag != _q("field"):
            problems.append(f"unexpected element {etree.QName(child).localname!r} in duban:form")
            continue
        _check_attrs(child, {"name", "label", "type", "required", "min", "max",
                             "maxLength", "placeholder", "default", "readonly"}, problems)
        name = child.get("name")
        if not name or not IDENTIFIER.match(name):
            problems.append(f"form field name {name!r} is not a valid identifier")
            continue
        if name in seen:
            problems.append(f"form field {name!r} is defined twice")
        seen.add(name)
        ftype = child.get("type", "string")
        if ftype not in FIELD_TYPES:
            problems.append(f"form field {name!r} has unknown type {ftype!r} "
                            f"(known: {', '.join(FIELD_TYPES)})")
        field: dict[str, Any] = {
            "name": name,
            "label": child.get("label") or name,
            "type": ftype,
            "required": _bool(child.get("required"), False, f"field {name!r} required", problems),
            "readonly": _bool(child.get("readonly"), False, f"field {name!r} readonly", problems),
        }
        for attr in ("min", "max"):
            num = _number(child.get(attr), f"field {name!r} {attr}", problems)
            if num is not None:
                field[attr] = num
        if child.get("maxLength") is not None:
            try:
                field["max_length"] = int(child.get("maxLength", ""))
                if field["max_length"] <= 0:
                    raise ValueError
            except ValueError:
                problems.append(f"field {name!r} maxLength must be a positive integer")
        if child.get("placeholder"):
            field["placeholder"] = child.get("placeholder")
        if child.get("default") is not None:
            field["default"] = child.get("default")
        options = []
        for opt in child:
            if not isinstance(opt.tag, str):
                continue
            if opt.tag != _q("option"):
                problems.append(f"unexpected element {etree.QName(opt).localname!r} in field {name!r}")
                continue
            _check_attrs(opt, {"value", "label"}, problems)
            value = opt.get("value")
            if value is None or value == "":
                problems.append(f"an option of field {name!r} has no value")
                continue
            options.append({"value": value, "label": opt.get("label") or value})
        if ftype in ("enum", "multienum"):
            if not options:
                problems.append(f"field {name!r} of type {ftype} needs at least one duban:option")
            field["options"] = options
        elif options:
            problems.append(f"field {name!r} of type {ftype} cannot have options")
        fields.append(field)
    return fields


def parse_assignment(elem: etree._Element, problems: list[str],
                     what: str = "duban:assignment") -> dict[str, Any]:
    if what == "duban:assignment":
        _check_attrs(elem, {"role", "org", "person", "fallbackRole"}, problems)
    role, org, person = elem.get("role"), elem.get("org", "instance"), elem.get("person")
    if not role and not person:
        problems.append(f"{what} needs a role or a person")
    scopes = ORG_SCOPES + (("above",) if what == "duban:level" else ())
    if org not in scopes and not DATA_REF.match(org) and not OFFICE_REF.match(org):
        problems.append(f"{what} org {org!r} is unknown "
                        f"(use {', '.join(scopes)}, office:NAME or data:FIELD)")
    if person is not None and person not in PERSON_SCOPES and not DATA_REF.match(person):
        problems.append(f"{what} person {person!r} is unknown (use starter or data:FIELD)")
    result: dict[str, Any] = {"org": org}
    if role:
        result["role"] = role
    if person:
        result["person"] = person
    if elem.get("fallbackRole"):
        result["fallback_role"] = elem.get("fallbackRole")
    return result


def parse_service(elem: etree._Element, problems: list[str]) -> dict[str, Any]:
    _check_attrs(elem, {"handler", "resultVariable"}, problems)
    handler = elem.get("handler")
    if not handler or not IDENTIFIER.match(handler.replace(".", "_")):
        problems.append(f"duban:service handler {handler!r} is not a valid handler name")
    result = {"handler": handler}
    if elem.get("resultVariable"):
        if not IDENTIFIER.match(elem.get("resultVariable", "")):
            problems.append("duban:service resultVariable is not a valid identifier")
        result["result_variable"] = elem.get("resultVariable")
    return result


def _duration_problem(text: str, what: str) -> str | None:
    from engine.timetext import TimeTextError, parse_duration

    try:
        parse_duration(text)
    except TimeTextError as exc:
        return f"{what}: {exc}"
    return None


def _positive_int(text: str, what: str, problems: list[str], limit: int = 1000) -> int | None:
    try:
        value = int(text)
    except ValueError:
        problems.append(f"{what} must be a whole number of days, not {text!r}")
        return None
    if not 1 <= value <= limit:
        problems.append(f"{what} must be between 1 and {limit}, not {value}")
        return None
    return value


def parse_deadline(elem: etree._Element, problems: list[str]) -> dict[str, Any]:
    """A time limit: calendar time, Chinese working days, or an expression."""
    _check_attrs(elem, {"duration", "workingDays", "expression", "warn", "warnWorkingDays"},
                 problems)
    given = [a for a in ("duration", "workingDays", "expression") if elem.get(a)]
    result: dict[str, Any] = {}
    if len(given) != 1:
        problems.append("duban:deadline needs exactly one of duration, workingDays, expression")
        return result
    if elem.get("duration"):
        reason = _duration_problem(elem.get("duration", ""), "deadline duration")
        if reason:
            problems.append(reason)
        result["duration"] = elem.get("duration")
    elif elem.get("workingDays"):
        result["working_days"] = _positive_int(elem.get("workingDays", ""), "workingDays",
                                               problems)
    else:
        from engine import scripting

        try:
            scripting.check_expression(elem.get("expression", ""))
        except Exception as exc:
            problems.append(f"deadline expression is refused: {getattr(exc, 'reason', exc)}")
        result["expression"] = elem.get("expression")
    if elem.get("warn") and elem.get("warnWorkingDays"):
        problems.append("give warn or warnWorkingDays, not both")
    elif elem.get("warn"):
        reason = _duration_problem(elem.get("warn", ""), "warn")
        if reason:
            problems.append(reason)
        result["warn"] = elem.get("warn")
    elif elem.get("warnWorkingDays"):
        result["warn_working_days"] = _positive_int(elem.get("warnWorkingDays", ""),
                                                    "warnWorkingDays", problems, 100)
    return result


def parse_escalation(elem: etree._Element, problems: list[str]) -> list[dict[str, Any]]:
    """The 督办 ladder: who is told, level by level, while a task stays overdue."""
    _check_attrs(elem, set(), problems)
    levels: list[dict[str, Any]] = []
    for child in elem:
        if not isinstance(child.tag, str):
            continue
        if child.tag != _q("level"):
            problems.append(f"unexpected element {etree.QName(child).localname!r} in "
                            "duban:escalation")
            continue
        _check_attrs(child, {"after", "afterWorkingDays", "role", "org", "person"}, problems)
        level: dict[str, Any] = {}
        if child.get("after") and child.get("afterWorkingDays"):
            problems.append("an escalation level takes after or afterWorkingDays, not both")
        elif child.get("afterWorkingDays"):
            level["after_working_days"] = _positive_int(child.get("afterWorkingDays", ""),
                                                        "afterWorkingDays", problems, 100)
        else:
            after = child.get("after", "PT0S")
            if after not in ("PT0S", "P0D"):
                reason = _duration_problem(after, "after")
                if reason:
                    problems.append(reason)
                level["after"] = after
        target = parse_assignment(child, problems, what="duban:level")
        level.update(target)
        levels.append(level)
    if not levels:
        problems.append("duban:escalation needs at least one duban:level")
    return levels


def parse_vote(elem: etree._Element, problems: list[str]) -> dict[str, Any]:
    """A vote taken at this step (see ``engine.votes``)."""
    from engine.votes import parse_fraction

    _check_attrs(elem, {"name", "label", "quorum", "majority", "threshold"}, problems)
    name = elem.get("name") or "vote"
    if not IDENTIFIER.match(name):
        problems.append(f"duban:vote name {name!r} is not a valid identifier")
    majority = elem.get("majority", "present")
    if majority not in ("present", "eligible"):
        problems.append(f"duban:vote majority must be present or eligible, not {majority!r}")
    rule: dict[str, Any] = {"name": name, "majority": majority,
                            "quorum": parse_fraction(elem.get("quorum", "1/2"), "quorum",
                                                     problems),
                            "threshold": parse_fraction(elem.get("threshold", "1/2"),
                                                        "threshold", problems)}
    if str(rule["threshold"] or "").startswith(">"):
        problems.append("threshold is always strict (for > threshold × base); drop the '>'")
    if elem.get("label"):
        rule["label"] = elem.get("label")
    return rule


def parse_starts_for(elem: etree._Element, problems: list[str]) -> dict[str, Any]:
    """Whom a timer start event starts instances for: one per organisation of a kind."""
    _check_attrs(elem, {"kind"}, problems)
    kind = elem.get("kind")
    if kind not in ("county", "town", "office", "branch"):
        problems.append(f"duban:startsFor kind must be county, town, office or branch, "
                        f"not {kind!r}")
    return {"kind": kind}


ITEM_STATE = re.compile(r"^[a-z][a-z_]{1,19}$")


def parse_item(elem: etree._Element, problems: list[str]) -> dict[str, Any]:
    """The instance tracks an item (问题、督办事项、信访案件) of this kind."""
    _check_attrs(elem, {"kind"}, problems)
    kind = elem.get("kind", "")
    if not ITEM_STATE.match(kind):
        problems.append(f"duban:item kind must be a short lower-case word, not {kind!r}")
    return {"kind": kind}


def parse_item_state(elem: etree._Element, problems: list[str]) -> dict[str, Any]:
    """When this step starts, the instance's item enters this state."""
    _check_attrs(elem, {"value"}, problems)
    value = elem.get("value", "")
    if not ITEM_STATE.match(value):
        problems.append(f"duban:itemState value must be a short lower-case word, not {value!r}")
    return {"value": value}


def parse_title(elem: etree._Element, problems: list[str]) -> dict[str, Any]:
    """A task's title computed when it is created (which branch, which item)."""
    from engine import scripting

    _check_attrs(elem, {"expression"}, problems)
    expression = elem.get("expression") or ""
    try:
        scripting.check_expression(expression)
    except Exception as exc:
        problems.append(f"title expression is refused: {getattr(exc, 'reason', exc)}")
    return {"expression": expression}


#: element name → (parser, the BPMN element kinds it may sit on)
PARSERS: dict[str, tuple[Callable[[etree._Element, list[str]], Any], tuple[str, ...]]] = {
    "form": (parse_form, ("userTask", "manualTask", "startEvent")),
    "assignment": (parse_assignment, ("userTask", "manualTask")),
    "service": (parse_service, ("serviceTask",)),
    "deadline": (parse_deadline, ("userTask", "manualTask")),
    "escalation": (parse_escalation, ("userTask", "manualTask")),
    "vote": (parse_vote, ("userTask",)),
    "startsFor": (parse_starts_for, ("startEvent",)),
    "item": (parse_item, ("startEvent",)),
    "itemState": (parse_item_state, FLOW_NODES),
    "title": (parse_title, ("userTask", "manualTask")),
}


def parse_extensions(node: etree._Element) -> tuple[dict[str, Any], list[Problem]]:
    """Read the ``duban:`` extensions of one flow node.

    :return: the extension dict and the problems found (empty when valid).
    """
    result: dict[str, Any] = {}
    problems: list[Problem] = []
    node_kind = etree.QName(node).localname
    element_id = node.get("id")
    for ext in node.findall(f"{{{BPMN_NS}}}extensionElements"):
        for child in ext:
            if not isinstance(child.tag, str) or etree.QName(child).namespace != DUBAN_NS:
                continue
            name = etree.QName(child).localname
            messages: list[str] = []
            if name not in PARSERS:
                messages.append(f"unknown extension element duban:{name}")
            else:
                parser, kinds = PARSERS[name]
                if node_kind not in kinds:
                    messages.append(f"duban:{name} is not allowed on a {node_kind}")
                elif name in result:
                    messages.append(f"duban:{name} appears twice")
                else:
                    result[name] = parser(child, messages)
            problems.extend(Problem(element_id, m, line=child.sourceline) for m in messages)
    if "vote" in result:
        from engine.votes import form_fields

        fields = form_fields(result["vote"])
        taken = {f["name"] for f in result.get("form", [])} & {f["name"] for f in fields}
        for name in sorted(taken):
            problems.append(Problem(element_id, f"form field {name!r} clashes with the vote's"))
        result["form"] = list(result.get("form", [])) + fields
    return result, problems
