#!/usr/bin/env python3
"""Give BPMN files a clean diagram layout (BPMN DI) computed from their semantic model.

Usage::

    python scripts/bpmn_layout.py processes/*.bpmn           # (re)write the DI in place
    python scripts/bpmn_layout.py --check processes/*.bpmn   # exit 1 if some DI is missing

Authors write processes, lanes and collaborations; this tool owns the
``bpmndi:BPMNDiagram`` section and rewrites it whole. The new diagram is spliced
into the file's own text, so everything else (comments, ``duban:`` extensions,
formatting) stays byte for byte; when that cannot be done safely the file is
re-serialised by lxml instead. The layout rules live in ``bpmn_layout_geometry``.
"""
from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path
from typing import Callable

from lxml import etree

from bpmn_layout_geometry import (
    Box, Flow, Graph, Lane, Node, Pool, layout_pools, route_message,
)

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
DI_NSMAP = {"bpmndi": BPMNDI, "dc": DC, "di": DI}
NS = {"bpmn": BPMN}
DIAGRAM = f"{{{BPMNDI}}}BPMNDiagram"

TASKS = frozenset({"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask",
                   "receiveTask", "businessRuleTask", "callActivity"})
EVENTS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent",
                    "intermediateThrowEvent", "boundaryEvent"})
GATEWAYS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway",
                      "eventBasedGateway", "complexGateway"})
SUBPROCESSES = frozenset({"subProcess", "transaction", "adHocSubProcess"})
FLOW_NODES = TASKS | EVENTS | GATEWAYS | SUBPROCESSES
#: artifacts we draw, with their bpmn-js default sizes
ARTIFACTS = {"textAnnotation": (100, 30), "dataObjectReference": (36, 50),
             "dataStoreReference": (50, 50)}

Warn = Callable[[str], None]


class LayoutError(Exception):
    """A file this tool cannot lay out; it is left as it was."""


def _parse(data: bytes) -> etree._Element:
    # the files are ours, but nothing here needs entities, DTDs or the network
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             remove_comments=False, remove_pis=False)
    root = etree.fromstring(data, parser)
    if root.tag != f"{{{BPMN}}}definitions":
        raise LayoutError("the root element is not bpmn:definitions")
    return root


def _children(element: etree._Element) -> list[etree._Element]:
    return [c for c in element if isinstance(c.tag, str) and etree.QName(c).namespace == BPMN]


def _local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


# -- reading the semantic model ------------------------------------------------------------

def _graph(container: etree._Element, warn: Warn, lane_of: dict[str, int] | None = None,
           bands: int = 1) -> Graph:
    """The flow nodes, sequence flows and artifacts directly inside a (sub)process."""
    nodes: dict[str, Node] = {}
    flows: list[Flow] = []
    for child in _children(container):
        tag, cid = _local(child), child.get("id")
        if not cid:
            continue
        if tag in FLOW_NODES:
            w, h = (36, 36) if tag in EVENTS else (50, 50) if tag in GATEWAYS else (100, 80)
            expanded = tag in SUBPROCESSES and any(_local(c) in FLOW_NODES
                                                   for c in _children(child))
            node = Node(cid, tag, w, h, child.get("name") or "",
                        host=child.get("attachedToRef") if tag == "boundaryEvent" else None,
                        inner=_graph(child, warn) if expanded else None,
                        event_sub=tag in SUBPROCESSES and child.get("triggeredByEvent") == "true")
            if lane_of is not None:
                if cid in lane_of:
                    node.band = lane_of[cid]
                elif node.event_sub:
                    node.band = bands - 1  # below the main flow, in the last lane
                elif tag != "boundaryEvent":
                    warn(f"{cid} is in no lane; drawn in the first lane")
            nodes[cid] = node
        elif tag == "sequenceFlow":
            flows.append(Flow(cid, child.get("sourceRef", ""), child.get("targetRef", ""),
                              child.get("name") or ""))
    for node in nodes.values():
        if node.host is not None:
            if node.host in nodes:
                node.band = nodes[node.host].band
            else:
                warn(f"boundary event {node.id} is not beside its host {node.host!r}; "
                     "drawn as a plain event")
    for flow in flows:
        if flow.source not in nodes or flow.target not in nodes:
            warn(f"sequence flow {flow.id} does not join two nodes of {container.get('id')}; "
                 "not drawn")
    graph = Graph(nodes, flows, bands)
    _add_artifacts(container, graph, warn)
    return graph


def _add_artifacts(container: etree._Element, graph: Graph, warn: Warn) -> None:
    """Annotations and data references, each drawn above the node it is linked to."""
    found: dict[str, Node] = {}
    for child in _children(container):
        tag, cid = _local(child), child.get("id") or ""
        if tag in ARTIFACTS and cid:
            found[cid] = Node(cid, tag, *ARTIFACTS[tag], name=child.get("name") or "")
        elif tag == "group":
            warn(f"group {cid} is not drawn")
    if not found:
        return
    links = [Flow(a.get("id", ""), a.get("sourceRef", ""), a.get("targetRef", ""))
             for a in container.iterfind("bpmn:association", NS) if a.get("id")]
    for element in _children(container):
        for kind, end in (("dataInputAssociation", "sourceRef"),
                          ("dataOutputAssociation", "targetRef")):
            for assoc in element.iterfind(f"bpmn:{kind}", NS):
                ref = (assoc.findtext(f"bpmn:{end}", namespaces=NS) or "").strip()
                if ref in found and assoc.get("id"):
                    ends = (ref, element.get("id", ""))
                    links.append(Flow(assoc.get("id", ""), *(ends if end == "sourceRef"
                                                             else ends[::-1])))
    for art in found.values():
        partners = [link.target if link.source == art.id else link.source for link in links
                    if art.id in (link.source, link.target)]
        art.host = next((p for p in partners if p in graph.nodes), None)
        if art.host is None:
            warn(f"{art.id} is linked to no flow node beside it; not drawn")
        else:
            graph.artifacts.append(art)
    drawn = set(graph.nodes) | {a.id for a in graph.artifacts}
    graph.links = [link for link in links if link.source in drawn and link.target in drawn]


def _lanes(process: etree._Element) -> tuple[list[Lane], dict[str, int], int]:
    """The lanes (nested ones flattened into bands), each node's band, the band count."""
    lanes: list[Lane] = []
    refs: list[tuple[list[str], int]] = []
    leaves = 0

    def walk(lane_set: etree._Element, depth: int) -> None:
        nonlocal leaves
        for element in lane_set.iterfind("bpmn:lane", NS):
            lane = Lane(element.get("id", ""), depth, leaves, leaves)
            lanes.append(lane)
            child = element.find("bpmn:childLaneSet", NS)
            if child is not None and child.find("bpmn:lane", NS) is not None:
                walk(child, depth + 1)
                lane.last = leaves - 1
            else:
                leaves += 1
            # children are listed before their parent, so a leaf lane's claim wins
            refs.append(([(r.text or "").strip() for r in element.iterfind("bpmn:flowNodeRef", NS)],
                         lane.first))

    for lane_set in process.iterfind("bpmn:laneSet", NS):
        walk(lane_set, 0)
    lane_of: dict[str, int] = {}
    for names, band in refs:
        for name in names:
            lane_of.setdefault(name, band)
    return lanes, lane_of, leaves


def _scope(root: etree._Element, warn: Warn
           ) -> tuple[etree._Element, list[tuple[str | None, etree._Element | None]]]:
    """What the diagram shows: the plane's element and its (participant, process) pairs."""
    processes = root.findall("bpmn:process", NS)
    by_id = {p.get("id"): p for p in processes}
    collaborations = root.findall("bpmn:collaboration", NS)
    if collaborations:
        collab = collaborations[0]
        if len(collaborations) > 1 or not collab.get("id"):
            raise LayoutError("expected one collaboration, with an id")
        pairs = [(part.get("id"), by_id.get(part.get("processRef")))
                 for part in collab.iterfind("bpmn:participant", NS) if part.get("id")]
        shown = {p.get("id") for _, p in pairs if p is not None}
        for child in _children(collab):
            if _local(child) in ("textAnnotation", "group"):
                warn(f"{_local(child)} {child.get('id')} outside a process is not drawn")
        for process in processes:
            if process.get("id") not in shown:
                warn(f"process {process.get('id')} has no participant; not drawn")
        return collab, pairs
    if not processes:
        raise LayoutError("the file has no process")
    chosen = next((p for p in processes if p.get("isExecutable") == "true"), processes[0])
    for process in processes:
        if process is not chosen:
            warn(f"process {process.get('id')} is not drawn: with several processes, "
                 "add a collaboration with a participant for each")
    if not chosen.get("id"):
        raise LayoutError("the process has no id")
    return chosen, [(None, chosen)]


# -- writing the diagram ---------------------------------------------------------------------

def _diagram(root: etree._Element, plane_element: etree._Element, pools: list[Pool],
             warn: Warn) -> etree._Element:
    """The new bpmndi:BPMNDiagram, built beside the document (not yet in it)."""
    used = {e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    for old in root.iter(DIAGRAM):  # the old diagram goes, so its ids are free again
        used -= {e.get("id") for e in old.iter() if isinstance(e.tag, str)}

    def new_id(base: str) -> str:
        candidate, i = base, 1
        while candidate in used:
            i += 1
            candidate = f"{base}_{i}"
        used.add(candidate)
        return candidate

    holder = etree.Element("holder", nsmap=DI_NSMAP)
    diagram = etree.SubElement(holder, DIAGRAM, id=new_id("BPMNDiagram_1"))
    plane = etree.SubElement(diagram, f"{{{BPMNDI}}}BPMNPlane", id=new_id("BPMNPlane_1"),
                             bpmnElement=plane_element.get("id", ""))
    boxes: dict[str, Box] = {}

    def bounds(parent: etree._Element, box: Box) -> None:
        etree.SubElement(parent, f"{{{DC}}}Bounds", x=_num(box.x), y=_num(box.y),
                         width=_num(box.w), height=_num(box.h))

    def shape(ref: str, box: Box, label: Box | None = None, **flags: str) -> None:
        boxes[ref] = box
        element = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", id=new_id(f"{ref}_di"),
                                   bpmnElement=ref, **flags)
        bounds(element, box)
        if label is not None:
            bounds(etree.SubElement(element, f"{{{BPMNDI}}}BPMNLabel"), label)

    def edge(ref: str, points: list[tuple[float, float]], label: Box | None = None) -> None:
        element = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNEdge", id=new_id(f"{ref}_di"),
                                   bpmnElement=ref)
        for x, y in points:
            etree.SubElement(element, f"{{{DI}}}waypoint", x=_num(x), y=_num(y))
        if label is not None:
            bounds(etree.SubElement(element, f"{{{BPMNDI}}}BPMNLabel"), label)

    def draw(graph: Graph) -> None:
        # containers before their content and hosts before their boundary events,
        # for tools that paint in document order
        for node in [n for n in graph.nodes.values() if n.host not in graph.nodes] + \
                [n for n in graph.nodes.values() if n.host in graph.nodes]:
            if node.box is None:
                continue
            flags = {}
            if node.tag == "exclusiveGateway":
                flags["isMarkerVisible"] = "true"
            elif node.tag in SUBPROCESSES:
                flags["isExpanded"] = "true" if node.inner is not None else "false"
            shape(node.id, node.box, node.label, **flags)
            if node.inner is not None:
                draw(node.inner)
        for art in graph.artifacts:
            if art.box is not None:
                shape(art.id, art.box)
        for flow in [*graph.flows, *graph.links]:
            if len(flow.points) >= 2:
                edge(flow.id, flow.points, flow.label)

    for pool in pools:
        if pool.id and pool.box:
            shape(pool.id, pool.box, isHorizontal="true")
        for lane in pool.lanes:
            if lane.box is not None:
                shape(lane.id, lane.box, isHorizontal="true")
        if pool.graph is not None:
            draw(pool.graph)
    if _local(plane_element) == "collaboration":
        for flow in plane_element.iterfind("bpmn:messageFlow", NS):
            a, b = boxes.get(flow.get("sourceRef", "")), boxes.get(flow.get("targetRef", ""))
            if a is None or b is None or not flow.get("id"):
                warn(f"message flow {flow.get('id')} joins something not drawn; not drawn")
            else:
                edge(flow.get("id", ""), route_message(a, b))
    return diagram


def _num(value: float) -> str:
    return str(int(round(value)))


def _child_indent(root: etree._Element) -> str:
    text = root.text or ""
    return text.rsplit("\n", 1)[-1] if "\n" in text and not text.strip() else ""


def _di_text(diagram: etree._Element, indent: str) -> str:
    element = copy.deepcopy(diagram)
    etree.indent(element, space=indent or "  ", level=1)
    text = etree.tostring(element, encoding="unicode", with_tail=False)
    first, _, rest = text.partition("\n")
    # the prefixes are declared on the root element
    first = re.sub(r' xmlns:(?:bpmndi|dc|di)="[^"]*"', "", first)
    return f"{first}\n{rest}"


_PROLOG = re.compile(r"(?:\ufeff|\s+|<\?.*?\?>|<!--.*?-->)*", re.S)
_DIAGRAM_START = re.compile(r"<(?:[\w.-]+:)?BPMNDiagram[\s>/]")
_DIAGRAM_END = re.compile(r"</(?:[\w.-]+:)?BPMNDiagram\s*>")
_ROOT_END = re.compile(r"</(?:[\w.-]+:)?definitions\s*>")


def _splice(text: str, root: etree._Element, diagram: etree._Element) -> str | None:
    """The file's text with the new diagram in place of the old, or None if unsure how."""
    head = _PROLOG.match(text).end()  # type: ignore[union-attr]
    quote, end = "", None
    for i in range(head, len(text)):  # the end of the root start tag, skipping quoted values
        if quote:
            quote = "" if text[i] == quote else quote
        elif text[i] in "\"'":
            quote = text[i]
        elif text[i] == ">":
            end = i
            break
    missing = [(p, uri) for p, uri in DI_NSMAP.items() if root.nsmap.get(p) != uri]
    old = root.findall(DIAGRAM)
    starts, ends = list(_DIAGRAM_START.finditer(text)), list(_DIAGRAM_END.finditer(text))
    if end is None or any(p in root.nsmap for p, _ in missing) \
            or len(starts) != len(old) or len(ends) != len(old):
        return None
    indent = _child_indent(root)
    nl = "\r\n" if "\r\n" in text else "\n"  # lxml reads both as "\n"; keep the file's own
    body = (indent + _di_text(diagram, indent)).replace("\n", nl)
    if old:
        if any(text[e.end():s.start()].strip() for e, s in zip(ends, starts[1:])):
            return None  # something else sits between two diagrams
        a, b = starts[0].start(), ends[-1].end()
        line = text.rfind("\n", 0, a) + 1
        if text[line:a].strip():
            body = body[len(indent):]
        else:
            a = line
        text = text[:a] + body + text[b:]
    else:
        closes = list(_ROOT_END.finditer(text))
        if not closes:
            return None
        b = closes[-1].start()
        line = text.rfind("\n", 0, b) + 1
        text = (text[:b] + nl + body + nl + text[b:] if text[line:b].strip()
                else text[:line] + body + nl + text[line:])
    if missing:
        tag = text[head:end]
        pos = end
        while text[pos - 1].isspace():
            pos -= 1
        last = tag.rsplit("\n", 1)[-1]
        sep = nl + last[:len(last) - len(last.lstrip())] if "\n" in tag else " "
        text = text[:pos] + "".join(f'{sep}xmlns:{p}="{uri}"' for p, uri in missing) + text[pos:]
    return text


def semantic(root: etree._Element) -> bytes:
    """The document without its DI, canonicalised: what laying out must never change."""
    bare = copy.deepcopy(root)
    for old in bare.findall(DIAGRAM):
        bare.remove(old)
    # only the whitespace between top-level elements moves when a diagram comes or goes
    if bare.text is not None and not bare.text.strip():
        bare.text = None
    for child in bare:
        if child.tail is not None and not child.tail.strip():
            child.tail = None
    canonical: bytes = etree.tostring(bare, method="c14n", exclusive=True, with_comments=True)
    return canonical


def _outline(element: etree._Element) -> list[tuple[str, list[tuple[str, str]]]]:
    return [(e.tag, sorted(e.attrib.items())) for e in element.iter() if isinstance(e.tag, str)]


def _write(data: bytes, root: etree._Element, diagram: etree._Element) -> bytes:
    encoding = (root.getroottree().docinfo.encoding or "UTF-8").upper()
    if encoding in ("UTF-8", "UTF8"):
        try:
            spliced = _splice(data.decode("utf-8"), root, diagram)
        except UnicodeDecodeError:
            spliced = None
        if spliced is not None:
            out = spliced.encode("utf-8")
            new_root = _parse(out)  # trust the text edit only if it says what we meant
            if semantic(new_root) == semantic(root) \
                    and [_outline(d) for d in new_root.findall(DIAGRAM)] == [_outline(diagram)]:
                return out
    old = root.findall(DIAGRAM)
    index = root.index(old[0]) if old else len(root)
    tail = old[0].tail if old else "\n"
    for element in old:
        root.remove(element)
    indent = _child_indent(root)
    new = copy.deepcopy(diagram)
    etree.indent(new, space=indent or "  ", level=1)
    new.tail = tail
    if index and not old:
        root[index - 1].tail = "\n" + indent
    root.insert(index, new)
    whole: bytes = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
    return whole


def layout_bytes(data: bytes) -> tuple[bytes, list[str]]:
    """The file with a freshly computed diagram, and warnings about what was not drawn.

    :raise LayoutError: or ``lxml.etree.XMLSyntaxError`` for a file that cannot be laid out.
    """
    warnings: list[str] = []
    root = _parse(data)
    plane_element, pairs = _scope(root, warnings.append)
    pools: list[Pool] = []
    seen: set[str] = set()
    for participant, process in pairs:
        if process is None or process.get("id", "") in seen:
            if process is not None:
                warnings.append(f"participant {participant} repeats a process; drawn empty")
            pools.append(Pool(participant, None))
            continue
        seen.add(process.get("id", ""))
        lanes, lane_of, bands = _lanes(process)
        if lanes and participant is None:
            warnings.append("lanes are shown by modelers only inside a pool: "
                            "add a collaboration with a participant for the process")
        graph = _graph(process, warnings.append, lane_of if lanes else None, max(bands, 1))
        pools.append(Pool(participant, graph, lanes))
    layout_pools(pools)
    diagram = _diagram(root, plane_element, pools, warnings.append)
    return _write(data, root, diagram), warnings


# -- checking --------------------------------------------------------------------------------

def _bounds(shape: etree._Element) -> Box | None:
    element = shape.find(f"{{{DC}}}Bounds")
    if element is None:
        return None
    try:
        box = Box(*(float(element.get(k, "")) for k in ("x", "y", "width", "height")))
    except ValueError:
        return None
    return box if box.w > 0 and box.h > 0 else None


def check_bytes(data: bytes) -> list[str]:
    """Why the file's DI is missing or incomplete; empty when it is complete and tidy."""
    root = _parse(data)
    if root.find(DIAGRAM) is None:
        return ["no bpmndi:BPMNDiagram"]
    plane_element, pairs = _scope(root, lambda _message: None)
    ids = {e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    problems: list[str] = []
    for plane in root.iter(f"{{{BPMNDI}}}BPMNPlane"):
        if plane.get("bpmnElement") not in ids:
            problems.append(f"plane {plane.get('id')} refers to nothing")
    shapes: dict[str, Box] = {}
    for shape in root.iter(f"{{{BPMNDI}}}BPMNShape"):
        ref, box = shape.get("bpmnElement", ""), _bounds(shape)
        if ref not in ids:
            problems.append(f"shape {shape.get('id')} refers to nothing ({ref!r})")
        elif box is None:
            problems.append(f"the shape of {ref} has no usable dc:Bounds")
        elif ref in shapes:
            problems.append(f"{ref} has two shapes")
        else:
            shapes[ref] = box
    edged: set[str] = set()
    for edge in root.iter(f"{{{BPMNDI}}}BPMNEdge"):
        ref = edge.get("bpmnElement", "")
        if ref not in ids:
            problems.append(f"edge {edge.get('id')} refers to nothing ({ref!r})")
        elif len(edge.findall(f"{{{DI}}}waypoint")) < 2:
            problems.append(f"the edge of {ref} has fewer than two waypoints")
        else:
            edged.add(ref)

    kinds: dict[str, str] = {}
    related: dict[str, set[str]] = {}  # what a shape may overlap: its containers, its host
    flows: list[str] = []
    for participant, process in pairs:
        if participant:
            kinds[participant], related[participant] = "pool", set()
        for element in process.iter() if process is not None else ():
            if not isinstance(element.tag, str) or etree.QName(element).namespace != BPMN \
                    or not element.get("id"):
                continue
            tag, eid = _local(element), element.get("id", "")
            if tag in FLOW_NODES or tag == "lane":
                kinds[eid] = "lane" if tag == "lane" else "node"
                related[eid] = {a.get("id", "") for a in element.iterancestors()}
                related[eid].add(element.get("attachedToRef", ""))
            elif tag == "sequenceFlow":
                flows.append(eid)
    if _local(plane_element) == "collaboration":
        flows += [f.get("id", "") for f in plane_element.iterfind("bpmn:messageFlow", NS)]
    problems += [f"{ref} has no shape" for ref in kinds if ref not in shapes]
    problems += [f"{ref} has no edge" for ref in flows if ref not in edged]
    drawn = [ref for ref in kinds if ref in shapes]
    for i, a in enumerate(drawn):
        for b in drawn[i + 1:]:
            if kinds[a] == kinds[b] and a not in related[b] and b not in related[a] \
                    and shapes[a].overlaps(shapes[b]):
                problems.append(f"{a} overlaps {b}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compute and write the BPMN DI of BPMN files.")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a file's DI is missing or incomplete")
    args = parser.parse_args(argv)
    status = 0
    for path in args.files:
        try:
            data = path.read_bytes()
            if args.check:
                problems = check_bytes(data)
                if problems:
                    status = 1
                    print(f"{path}: DI missing or incomplete")
                    for problem in problems:
                        print(f"  {problem}")
                continue
            new, warnings = layout_bytes(data)
        except (OSError, etree.XMLSyntaxError, LayoutError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            status = 1
            continue
        for warning in warnings:
            print(f"{path}: warning: {warning}", file=sys.stderr)
        if new != data:
            path.write_bytes(new)
            print(f"{path}: laid out")
    return status


if __name__ == "__main__":
    sys.exit(main())
