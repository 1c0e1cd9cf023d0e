"""scripts/bpmn_layout.py: the diagrams (BPMN DI) the modelers show for our procedures."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from engine.bpmn.parser import parse_file

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "bpmn_layout.py"
sys.path.insert(0, str(SCRIPT.parent))  # scripts/ is not a package
import bpmn_layout  # noqa: E402

BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"\n'
        '                  xmlns:duban="urn:duban:bpmn:1.0"\n'
        '                  id="defs" targetNamespace="urn:duban:test">\n')


def doc(body: str) -> bytes:
    return (HEAD + body + "</bpmn:definitions>\n").encode("utf-8")


def process(body: str, pid: str = "p") -> str:
    return f'  <bpmn:process id="{pid}" isExecutable="true">\n{body}  </bpmn:process>\n'


def laid_out(data: bytes) -> bytes:
    new, warnings = bpmn_layout.layout_bytes(data)
    assert warnings == []
    return new


class Box:
    def __init__(self, x: float, y: float, w: float, h: float) -> None:
        self.x, self.y, self.w, self.h = x, y, w, h
        self.right, self.bottom, self.cx, self.cy = x + w, y + h, x + w / 2, y + h / 2

    def encloses(self, other: Box) -> bool:
        return (self.x <= other.x and other.right <= self.right
                and self.y <= other.y and other.bottom <= self.bottom)

    def overlaps(self, other: Box) -> bool:
        return (self.x < other.right and other.x < self.right
                and self.y < other.bottom and other.y < self.bottom)


def shapes(data: bytes) -> dict[str, Box]:
    root = etree.fromstring(data)
    found = {}
    for shape in root.iter(f"{{{BPMNDI}}}BPMNShape"):
        b = shape.find(f"{{{DC}}}Bounds")
        found[shape.get("bpmnElement")] = Box(*(float(b.get(k)) for k in
                                                ("x", "y", "width", "height")))
    return found


def edges(data: bytes) -> dict[str, list[tuple[float, float]]]:
    root = etree.fromstring(data)
    return {e.get("bpmnElement"): [(float(p.get("x")), float(p.get("y")))
                                   for p in e.iter(f"{{{DI}}}waypoint")]
            for e in root.iter(f"{{{BPMNDI}}}BPMNEdge")}


def shape_attr(data: bytes, ref: str, attr: str) -> str | None:
    root = etree.fromstring(data)
    return next(s.get(attr) for s in root.iter(f"{{{BPMNDI}}}BPMNShape")
                if s.get("bpmnElement") == ref)


def orthogonal(points: list[tuple[float, float]]) -> bool:
    return all(a[0] == b[0] or a[1] == b[1] for a, b in zip(points, points[1:]))


def without_di(data: bytes) -> bytes:
    """The definitions minus their BPMNDiagram, canonicalised (blank text between
    top-level elements ignored: it is what moves when a diagram comes or goes)."""
    root = etree.fromstring(data)
    for diagram in root.findall(f"{{{BPMNDI}}}BPMNDiagram"):
        root.remove(diagram)
    root.text = None if root.text is not None and not root.text.strip() else root.text
    for child in root:
        if child.tail is not None and not child.tail.strip():
            child.tail = None
    return etree.tostring(root, method="c14n", exclusive=True, with_comments=True)


STRAIGHT = doc(process("""\
    <bpmn:startEvent id="start" name="开始"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <bpmn:userTask id="work" name="办理"/>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
    <bpmn:endEvent id="end"/>
"""))

LOOP = doc(process("""\
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="merge"/>
    <bpmn:exclusiveGateway id="merge"/>
    <bpmn:sequenceFlow id="f2" sourceRef="merge" targetRef="work"/>
    <bpmn:userTask id="work" name="整改"/>
    <bpmn:sequenceFlow id="f3" sourceRef="work" targetRef="decide"/>
    <bpmn:exclusiveGateway id="decide" name="是否通过" default="f_back"/>
    <bpmn:sequenceFlow id="f_back" name="退回" sourceRef="decide" targetRef="merge"/>
    <bpmn:sequenceFlow id="f_ok" name="通过" sourceRef="decide" targetRef="end">
      <bpmn:conditionExpression>ok == True</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="end"/>
"""))

FORK = doc(process("""\
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fork"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="a"/>
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="b"/>
    <bpmn:sequenceFlow id="f4" sourceRef="fork" targetRef="c"/>
    <bpmn:userTask id="a"/>
    <bpmn:userTask id="b"/>
    <bpmn:userTask id="c"/>
    <bpmn:sequenceFlow id="f5" sourceRef="a" targetRef="join"/>
    <bpmn:sequenceFlow id="f6" sourceRef="b" targetRef="join"/>
    <bpmn:sequenceFlow id="f7" sourceRef="c" targetRef="join"/>
    <bpmn:parallelGateway id="join"/>
    <bpmn:sequenceFlow id="f8" sourceRef="join" targetRef="end"/>
    <bpmn:endEvent id="end"/>
"""))

LANES = doc("""\
  <bpmn:collaboration id="collab">
    <bpmn:participant id="pool" name="问题整改" processRef="p"/>
  </bpmn:collaboration>
""" + process("""\
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_town" name="镇党委">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>assign</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>decide</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_unit" name="责任单位">
        <bpmn:flowNodeRef>rectify</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>report</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_empty" name="纪委"/>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="assign"/>
    <bpmn:userTask id="assign" name="责任分解"/>
    <bpmn:sequenceFlow id="f2" sourceRef="assign" targetRef="rectify"/>
    <bpmn:userTask id="rectify" name="整改"/>
    <bpmn:sequenceFlow id="f3" sourceRef="rectify" targetRef="report"/>
    <bpmn:userTask id="report" name="报告"/>
    <bpmn:sequenceFlow id="f4" sourceRef="report" targetRef="review"/>
    <bpmn:userTask id="review" name="审核"/>
    <bpmn:sequenceFlow id="f5" sourceRef="review" targetRef="decide"/>
    <bpmn:exclusiveGateway id="decide" default="f_back"/>
    <bpmn:sequenceFlow id="f_back" sourceRef="decide" targetRef="rectify"/>
    <bpmn:sequenceFlow id="f_ok" sourceRef="decide" targetRef="end">
      <bpmn:conditionExpression>ok == True</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="end"/>
"""))

BOUNDARY = doc(process("""\
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <bpmn:userTask id="work" name="办理"/>
    <bpmn:boundaryEvent id="late" name="超期" attachedToRef="work" cancelActivity="false">
      <bpmn:timerEventDefinition id="td"><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
    <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="remind"/>
    <bpmn:userTask id="remind" name="催办"/>
    <bpmn:sequenceFlow id="f4" sourceRef="remind" targetRef="remind_end"/>
    <bpmn:endEvent id="end"/>
    <bpmn:endEvent id="remind_end"/>
"""))

SUBPROCESSES = doc(process("""\
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="collect"/>
    <bpmn:subProcess id="collect" name="材料收集">
      <bpmn:startEvent id="sub_start"/>
      <bpmn:sequenceFlow id="s1" sourceRef="sub_start" targetRef="upload"/>
      <bpmn:userTask id="upload" name="上传"/>
      <bpmn:sequenceFlow id="s2" sourceRef="upload" targetRef="sub_end"/>
      <bpmn:endEvent id="sub_end"/>
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f2" sourceRef="collect" targetRef="end"/>
    <bpmn:endEvent id="end"/>
    <bpmn:subProcess id="on_flag" name="紧急处置" triggeredByEvent="true">
      <bpmn:startEvent id="flag_start" isInterrupting="false">
        <bpmn:signalEventDefinition id="sd" signalRef="sig"/>
      </bpmn:startEvent>
      <bpmn:sequenceFlow id="e1" sourceRef="flag_start" targetRef="triage"/>
      <bpmn:userTask id="triage" name="研判"/>
      <bpmn:sequenceFlow id="e2" sourceRef="triage" targetRef="flag_end"/>
      <bpmn:endEvent id="flag_end"/>
    </bpmn:subProcess>
""").replace("  <bpmn:process", '  <bpmn:signal id="sig" name="flag"/>\n  <bpmn:process', 1))

ALL = {"straight": STRAIGHT, "loop": LOOP, "fork": FORK, "lanes": LANES, "boundary": BOUNDARY,
       "subprocesses": SUBPROCESSES}


def test_a_straight_line_runs_left_to_right_on_one_row():
    new = laid_out(STRAIGHT)
    s = shapes(new)
    assert (s["start"].w, s["start"].h, s["work"].w, s["work"].h) == (36, 36, 100, 80)
    assert s["start"].cy == s["work"].cy == s["end"].cy
    assert s["start"].right < s["work"].x < s["work"].right < s["end"].x
    e = edges(new)
    assert e["f1"] == [(s["start"].right, s["start"].cy), (s["work"].x, s["work"].cy)]
    assert e["f2"] == [(s["work"].right, s["work"].cy), (s["end"].x, s["end"].cy)]
    # a named event has its label below it
    label = etree.fromstring(new).find(f".//{{{BPMNDI}}}BPMNShape[@bpmnElement='start']"
                                       f"/{{{BPMNDI}}}BPMNLabel/{{{DC}}}Bounds")
    assert float(label.get("y")) >= s["start"].bottom


def test_a_loop_goes_back_under_its_nodes_and_keeps_the_target_left():
    new = laid_out(LOOP)
    s, e = shapes(new), edges(new)
    assert s["merge"].right < s["work"].x < s["decide"].x < s["end"].x
    back = e["f_back"]
    assert back[0] == (s["decide"].cx, s["decide"].bottom)
    assert back[-1] == (s["merge"].cx, s["merge"].bottom)
    assert min(y for _, y in back[1:-1]) > max(s[n].bottom for n in ("merge", "work", "decide"))
    assert orthogonal(back)
    assert shape_attr(new, "decide", "isMarkerVisible") == "true"


def test_parallel_branches_stack_in_one_column():
    new = laid_out(FORK)
    s, e = shapes(new), edges(new)
    assert s["a"].x == s["b"].x == s["c"].x
    assert s["a"].bottom < s["b"].y and s["b"].bottom < s["c"].y
    assert s["fork"].right < s["a"].x and max(s[n].right for n in "abc") < s["join"].x
    assert all(orthogonal(points) and len(points) >= 2 for points in e.values())
    assert e["f3"][0] == (s["fork"].cx, s["fork"].bottom)   # forks leave from below
    assert e["f6"][-1] == (s["join"].cx, s["join"].bottom)  # joins enter from below


def test_lanes_are_bands_in_a_pool_that_encloses_them():
    new = laid_out(LANES)
    s = shapes(new)
    pool, town, unit, empty = s["pool"], s["lane_town"], s["lane_unit"], s["lane_empty"]
    for lane in (town, unit, empty):
        assert pool.encloses(lane) and lane.x == pool.x + 30 and lane.h >= 150
    assert town.bottom == unit.y and unit.bottom == empty.y and empty.bottom == pool.bottom
    for node in ("start", "assign", "review", "decide", "end"):
        assert town.encloses(s[node]), node
    for node in ("rectify", "report"):
        assert unit.encloses(s[node]), node
    nodes = [n for n in s if n not in ("pool", "lane_town", "lane_unit", "lane_empty")]
    for i, a in enumerate(nodes):
        for b in nodes[i + 1:]:
            assert not s[a].overlaps(s[b]), (a, b)
    assert shape_attr(new, "pool", "isHorizontal") == shape_attr(new, "lane_unit",
                                                                 "isHorizontal") == "true"
    root = etree.fromstring(new)
    assert root.find(f".//{{{BPMNDI}}}BPMNPlane").get("bpmnElement") == "collab"
    assert s["rectify"].x < s["decide"].x  # the loop back into another lane keeps its rank
    assert orthogonal(edges(new)["f_back"])


def test_a_boundary_event_sits_on_its_tasks_bottom_edge():
    new = laid_out(BOUNDARY)
    s, e = shapes(new), edges(new)
    work, late = s["work"], s["late"]
    assert (late.w, late.h) == (36, 36)
    assert late.cy == work.bottom and work.x <= late.cx <= work.right
    assert e["f3"][0] == (late.cx, late.bottom)
    assert e["f3"][-1] == (s["remind"].x, s["remind"].cy)
    assert s["remind"].y > work.bottom  # down, then right


def test_an_embedded_subprocess_encloses_its_children_and_an_event_subprocess_goes_below():
    new = laid_out(SUBPROCESSES)
    s = shapes(new)
    for sub, children in (("collect", ("sub_start", "upload", "sub_end")),
                          ("on_flag", ("flag_start", "triage", "flag_end"))):
        assert shape_attr(new, sub, "isExpanded") == "true"
        for child in children:
            assert s[sub].encloses(s[child]), child
    assert s["start"].right < s["collect"].x and s["collect"].right < s["end"].x
    assert s["on_flag"].y > max(s[n].bottom for n in ("start", "collect", "end"))
    assert edges(new)["s1"][0] == (s["sub_start"].right, s["sub_start"].cy)


@pytest.mark.parametrize("name", sorted(ALL))
def test_laying_out_twice_gives_the_same_bytes(name: str):
    once = laid_out(ALL[name])
    assert laid_out(once) == once
    assert bpmn_layout.check_bytes(once) == []


@pytest.mark.parametrize("name", sorted(ALL))
def test_the_semantic_model_is_untouched_and_still_deploys(name: str):
    new = laid_out(ALL[name])
    assert without_di(new) == without_di(ALL[name])
    parse_file(new)


def test_only_the_di_changes_byte_for_byte():
    original = (HEAD.replace("\n<bpmn:", "\n<!-- 注释 before the root -->\n<bpmn:", 1) + """\
  <!-- 注释 keeps its place -->
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent   id="start" name="a &amp; b"  >
      <bpmn:extensionElements>
        <duban:form><duban:field name="title" label="&#26631;&#39064;" type="string"/></duban:form>
      </bpmn:extensionElements>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end"></bpmn:sequenceFlow>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" id="old">
    <bpmndi:BPMNPlane id="old_plane" bpmnElement="p"/>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
""").encode()
    new = laid_out(original)
    text = new.decode()
    assert text.count("BPMNDiagram ") == 1 and 'id="old"' not in text
    stripped = re.sub(r'\n\s*xmlns:(bpmndi|dc|di)="[^"]*"', "", text)
    stripped = re.sub(r"  <bpmndi:BPMNDiagram .*</bpmndi:BPMNDiagram>\n", "", stripped,
                      flags=re.S)
    old = re.sub(r"  <bpmndi:BPMNDiagram .*</bpmndi:BPMNDiagram>\n", "", original.decode(),
                 flags=re.S)
    assert stripped == old
    assert bpmn_layout.check_bytes(new) == []


def test_check_reports_missing_and_dangling_di(tmp_path: Path, capsys: pytest.CaptureFixture):
    path = tmp_path / "straight.bpmn"
    path.write_bytes(STRAIGHT)
    assert bpmn_layout.main(["--check", str(path)]) == 1
    assert "straight.bpmn" in capsys.readouterr().out
    assert bpmn_layout.main([str(path)]) == 0
    assert bpmn_layout.main(["--check", str(path)]) == 0

    good = path.read_bytes()
    no_edge = re.sub(rb'<bpmndi:BPMNEdge id="f2_di".*?</bpmndi:BPMNEdge>', b"", good, flags=re.S)
    assert bpmn_layout.check_bytes(no_edge) == ["f2 has no edge"]
    dangling = good.replace(b'bpmnElement="work"', b'bpmnElement="gone"')
    assert bpmn_layout.check_bytes(dangling) == ["shape work_di refers to nothing ('gone')",
                                                 "work has no shape"]
    moved = re.sub(rb'(bpmnElement="end">\s*<dc:Bounds) x="\d+"', rb'\1 x="260"', good)
    assert any("overlaps" in p for p in bpmn_layout.check_bytes(moved))


def test_the_script_runs_on_its_own(tmp_path: Path):
    path = tmp_path / "loop.bpmn"
    path.write_bytes(LOOP)
    run = [sys.executable, str(SCRIPT)]
    assert subprocess.run([*run, "--check", str(path)], capture_output=True).returncode == 1
    assert subprocess.run([*run, str(path)], capture_output=True).returncode == 0
    assert subprocess.run([*run, "--check", str(path)], capture_output=True).returncode == 0


def test_artifacts_go_above_their_task_and_strays_are_only_warned_about():
    data = doc(process("""\
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <bpmn:userTask id="work">
      <bpmn:dataInputAssociation id="dia">
        <bpmn:sourceRef>form_ref</bpmn:sourceRef><bpmn:targetRef>work</bpmn:targetRef>
      </bpmn:dataInputAssociation>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
    <bpmn:endEvent id="end"/>
    <bpmn:dataObject id="form"/>
    <bpmn:dataObjectReference id="form_ref" dataObjectRef="form"/>
    <bpmn:textAnnotation id="note"><bpmn:text>注意</bpmn:text></bpmn:textAnnotation>
    <bpmn:association id="a1" sourceRef="work" targetRef="note"/>
    <bpmn:textAnnotation id="stray"/>
"""))
    new, warnings = bpmn_layout.layout_bytes(data)
    assert warnings == ["stray is linked to no flow node beside it; not drawn"]
    s, e = shapes(new), edges(new)
    assert s["form_ref"].bottom < s["work"].y and s["note"].bottom < s["work"].y
    assert not s["form_ref"].overlaps(s["note"])
    assert {"dia", "a1"} <= set(e)
    assert bpmn_layout.check_bytes(new) == []


def test_a_second_process_without_a_collaboration_is_warned_about():
    data = doc(process('    <bpmn:startEvent id="s1"/>\n', "first")
               + process('    <bpmn:startEvent id="s2"/>\n', "second"))
    new, warnings = bpmn_layout.layout_bytes(data)
    assert len(warnings) == 1 and "second" in warnings[0]
    assert set(shapes(new)) == {"s1"}


def test_message_flows_join_pools():
    data = doc("""\
  <bpmn:collaboration id="collab">
    <bpmn:participant id="town" processRef="p"/>
    <bpmn:participant id="village" name="村"/>
    <bpmn:messageFlow id="m" sourceRef="ask" targetRef="village"/>
  </bpmn:collaboration>
""" + process("""\
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="ask"/>
    <bpmn:sendTask id="ask"/>
"""))
    new = laid_out(data)
    s, e = shapes(new), edges(new)
    assert s["town"].bottom < s["village"].y and s["town"].w == s["village"].w
    assert e["m"] == [(s["ask"].cx, s["ask"].bottom), (s["ask"].cx, s["village"].y)]
    assert bpmn_layout.check_bytes(new) == []


@pytest.mark.parametrize("path", sorted((ROOT / "processes").glob("*.bpmn")),
                         ids=lambda p: p.name)
def test_every_shipped_procedure_has_complete_tidy_di(path: Path):
    """Run ``python scripts/bpmn_layout.py processes/*.bpmn`` after editing a procedure."""
    assert bpmn_layout.check_bytes(path.read_bytes()) == []
