"""The shipped library: every procedure in processes/ deploys, names every element in
Chinese, has a diagram for every element, and is listed in docs/processes.md."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent.parent
FILES = sorted((ROOT / "processes").glob("*.bpmn"))
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
CJK = re.compile(r"[\u4e00-\u9fff]")
FLOW_NODES = ("startEvent", "endEvent", "userTask", "manualTask", "task", "scriptTask",
              "serviceTask", "callActivity", "subProcess", "exclusiveGateway",
              "parallelGateway", "inclusiveGateway", "eventBasedGateway",
              "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "sendTask",
              "receiveTask")
GATEWAYS = ("exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway")


def test_all_nine_procedures_are_shipped():
    stems = {f.stem.split("_")[0] for f in FILES}
    assert {f"p{n}" for n in range(1, 10)} <= stems


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_every_element_is_named_in_chinese_and_drawn(path):
    root = etree.parse(str(path)).getroot()
    nodes = [n for tag in FLOW_NODES for n in root.iterfind(f".//bpmn:{tag}", NS)]
    unnamed = [n.get("id") for n in nodes
               if etree.QName(n).localname not in GATEWAYS and not CJK.search(n.get("name") or "")]
    assert not unnamed, f"elements without a Chinese name: {unnamed}"
    for process in root.iterfind("bpmn:process", NS):
        assert CJK.search(process.get("name") or ""), f"process {process.get('id')} unnamed"
        assert process.find("bpmn:laneSet", NS) is not None, "lanes show who acts"
    shapes = {s.get("bpmnElement") for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement") for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    missing = [n.get("id") for n in nodes if n.get("id") not in shapes]
    assert not missing, f"elements without a shape: {missing}"
    flows = [f.get("id") for f in root.iterfind(".//bpmn:sequenceFlow", NS)]
    assert not [f for f in flows if f not in edges], "flows without an edge"
    lanes = [lane.get("id") for lane in root.iterfind(".//bpmn:lane", NS)]
    assert not [lane for lane in lanes if lane not in shapes], "lanes without a shape"


def test_every_file_deploys_together(town):
    for path in FILES:
        version = town.deploy_file(path, by="admin")
        assert version.created


def test_docs_trace_every_procedure():
    text = (ROOT / "docs" / "processes.md").read_text(encoding="utf-8")
    for path in FILES:
        key = re.search(r'<bpmn:process id="([^"]+)"', path.read_text(encoding="utf-8"))
        assert key and key.group(1) in text, f"{path.name} is not in docs/processes.md"


def _key(path: Path) -> str:
    found = re.search(r'<bpmn:process id="([^"]+)"', path.read_text(encoding="utf-8"))
    assert found
    return found.group(1)


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_the_wrong_person_cannot_act_on_a_step(path, town):
    """Whoever holds no role for a step gets PermissionDenied, and the step stays open."""
    import random

    from engine import PermissionDenied
    from engine.demo import _fill, _start_form

    town.deploy_file(path, by="admin")
    key = _key(path)
    org = "t1" if key in ("quarterly_report", "annual_appraisal", "weak_branch_rectification",
                          "monthly_circular") else "v1"
    data = _fill(random.Random(3), town, _start_form(town, key), org)
    iid = town.start(key, data, by="admin", org=org)
    tasks = town.open_tasks(instance_id=iid)
    assert tasks, f"{key} waits for nobody after its start"
    task = tasks[0]
    outsider = "m4"  # a party member of 西村: no role in any of these steps
    assert outsider != task.assignee and outsider not in task.candidates
    with pytest.raises(PermissionDenied):
        town.complete(task.id, {}, by=outsider)
    if task.assignee is None:
        with pytest.raises(PermissionDenied):
            town.claim(task.id, by=outsider)
    assert town.get_task(task.id).state == "open"


def test_per_branch_tasks_of_the_town_say_which_branch(town, procedure):
    """A town cadre gets one task per branch from a fan-out: their titles tell them apart."""
    import random

    from engine.demo import _fill

    procedure("p9_quarterly_report")
    iid = town.start("quarterly_report", by="admin", org="t1")
    rng = random.Random(5)
    for task in town.open_tasks(instance_id=iid):
        holder = task.assignee or task.candidates[0]
        town.complete(task.id, _fill(rng, town, list(task.form), "t1"), by=holder)
    titles = sorted(t.name for t in town.open_tasks(instance_id=iid))
    assert titles == ["审阅督导：东村党支部", "审阅督导：南村党支部", "审阅督导：西村党支部"]
