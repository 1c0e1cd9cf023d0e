"""Deploying BPMN files: versions, idempotence, and every refusal naming its element."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine import DefinitionError
from engine.models import Deployment, ProcessVersion

DATA = Path(__file__).resolve().parent.parent / "bpmn" / "data"
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:duban="urn:duban:bpmn:1.0" id="d" targetNamespace="t">')


def diagram(body: str, pid: str = "p") -> str:
    return f'{HEAD}<bpmn:process id="{pid}" isExecutable="true">{body}</bpmn:process>' \
           '</bpmn:definitions>'


SIMPLE = diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
                 '<bpmn:userTask id="t" name="办"/><bpmn:sequenceFlow id="f2" sourceRef="t" '
                 'targetRef="e"/><bpmn:endEvent id="e"/>')


def count(eng, model) -> int:
    with eng.sessions() as s:
        return s.query(model).count()


def test_deploy_versions_and_identical_xml_adds_nothing(org):
    first = org.deploy(SIMPLE, by="admin")
    assert (first.process_key, first.version, first.created) == ("p", 1, True)
    again = org.deploy(SIMPLE, by="admin")
    assert (again.id, again.version, again.created) == (first.id, 1, False)
    changed = org.deploy(SIMPLE.replace('name="办"', 'name="办理"'), by="admin")
    assert (changed.version, changed.created) == (2, True)
    assert count(org, Deployment) == 2 and count(org, ProcessVersion) == 2


def test_a_file_with_a_collaboration_and_a_call_activity(org):
    version = org.deploy((DATA / "test_collaboration.bpmn").read_text(), by="admin")
    assert version.process_key == "town_side"
    assert sorted(v.process_key for v in version.all_in_file) == ["town_side", "village_side"]
    iid = org.start("town_side", by="zhang", org="v1")
    task = org.open_tasks(instance_id=iid)[0]
    assert task.element_id == "do"
    org.complete(task.id, by="zhang")
    assert org.get_instance(iid).state == "completed"


BAD = {
    "malformed": (HEAD + "<bpmn:process id='p'>", None, "not well-formed"),
    "not bpmn": ("<x/>", None, "bpmn:definitions"),
    "no executable": (HEAD + '<bpmn:process id="p" isExecutable="false"><bpmn:startEvent id="s"/>'
                      '</bpmn:process></bpmn:definitions>', None, "no executable process"),
    "dangling flow": (diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" '
                              'sourceRef="s" targetRef="ghost"/>'), "f1", "ghost"),
    "dangling call": (diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" '
                              'targetRef="c"/><bpmn:callActivity id="c" calledElement="nowhere"/>'
                              '<bpmn:sequenceFlow id="f2" sourceRef="c" targetRef="e"/>'
                              '<bpmn:endEvent id="e"/>'), "c", "nowhere"),
    "bad condition": (diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" '
                              'targetRef="g"/><bpmn:exclusiveGateway id="g"/>'
                              '<bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="e">'
                              '<bpmn:conditionExpression>a ==</bpmn:conditionExpression>'
                              '</bpmn:sequenceFlow><bpmn:endEvent id="e"/>'), "f2", "condition"),
    "hostile condition": (diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" '
                                  'sourceRef="s" targetRef="g"/><bpmn:exclusiveGateway id="g"/>'
                                  '<bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="e">'
                                  "<bpmn:conditionExpression>__import__('os')"
                                  '</bpmn:conditionExpression></bpmn:sequenceFlow>'
                                  '<bpmn:endEvent id="e"/>'), "f2", "refused"),
    "hostile script": (diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" '
                               'targetRef="x"/><bpmn:scriptTask id="x"><bpmn:script>'
                               'import os</bpmn:script></bpmn:scriptTask>'
                               '<bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="e"/>'
                               '<bpmn:endEvent id="e"/>'), "x", "refused"),
    "unknown extension": (diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" '
                                  'sourceRef="s" targetRef="t"/><bpmn:userTask id="t">'
                                  '<bpmn:extensionElements><duban:deadlien days="3"/>'
                                  '</bpmn:extensionElements></bpmn:userTask>'
                                  '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>'
                                  '<bpmn:endEvent id="e"/>'), "t", "unknown extension element"),
    "unknown field type": (diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" '
                                   'sourceRef="s" targetRef="t"/><bpmn:userTask id="t">'
                                   '<bpmn:extensionElements><duban:form><duban:field name="a" '
                                   'type="colour"/></duban:form></bpmn:extensionElements>'
                                   '</bpmn:userTask><bpmn:sequenceFlow id="f2" sourceRef="t" '
                                   'targetRef="e"/><bpmn:endEvent id="e"/>'), "t", "colour"),
    "bad required value": (diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" '
                                   'sourceRef="s" targetRef="t"/><bpmn:userTask id="t">'
                                   '<bpmn:extensionElements><duban:form><duban:field name="a" '
                                   'required="yes"/></duban:form></bpmn:extensionElements>'
                                   '</bpmn:userTask><bpmn:sequenceFlow id="f2" sourceRef="t" '
                                   'targetRef="e"/><bpmn:endEvent id="e"/>'), "t", "'yes'"),
    "unknown org scope": (diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" '
                                  'sourceRef="s" targetRef="t"/><bpmn:userTask id="t">'
                                  '<bpmn:extensionElements><duban:assignment role="书记" '
                                  'org="province"/></bpmn:extensionElements></bpmn:userTask>'
                                  '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>'
                                  '<bpmn:endEvent id="e"/>'), "t", "province"),
    "unknown handler": (diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" '
                                'sourceRef="s" targetRef="x"/><bpmn:serviceTask id="x">'
                                '<bpmn:extensionElements><duban:service handler="nope"/>'
                                '</bpmn:extensionElements></bpmn:serviceTask>'
                                '<bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="e"/>'
                                '<bpmn:endEvent id="e"/>'), "x", "nope"),
    "undefined message": (diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" '
                                  'sourceRef="s" targetRef="m"/><bpmn:intermediateCatchEvent '
                                  'id="m"><bpmn:messageEventDefinition id="md" '
                                  'messageRef="ghost"/></bpmn:intermediateCatchEvent>'
                                  '<bpmn:sequenceFlow id="f2" sourceRef="m" targetRef="e"/>'
                                  '<bpmn:endEvent id="e"/>'), "md", "ghost"),
    "entity bomb": ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>' + HEAD.split("?>", 1)[1]
                    + "&lol2;</bpmn:definitions>", None, "DOCTYPE"),
    "external entity": ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM '
                        '"file:///etc/passwd">]>' + HEAD.split("?>", 1)[1] +
                        "&x;</bpmn:definitions>", None, "DOCTYPE"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_definitions_are_refused_naming_the_element(org, case):
    xml, element_id, words = BAD[case]
    with pytest.raises(DefinitionError) as err:
        org.deploy(xml, by="admin")
    assert words in str(err.value)
    if element_id:
        assert element_id in err.value.element_ids
    assert count(org, Deployment) == 0 and count(org, ProcessVersion) == 0


def test_every_problem_is_reported_at_once(org):
    xml = diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" '
                  'targetRef="t"/><bpmn:userTask id="t"><bpmn:extensionElements><duban:form>'
                  '<duban:field name="a" type="colour"/></duban:form></bpmn:extensionElements>'
                  '</bpmn:userTask><bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="ghost"/>')
    with pytest.raises(DefinitionError) as err:
        org.deploy(xml, by="admin")
    assert {"t", "f2"} <= set(err.value.element_ids)
    assert all(p.line for p in err.value.problems)


def test_a_bom_and_a_latin1_declared_file_deploy(org):
    assert org.deploy(b"\xef\xbb\xbf" + SIMPLE.encode("utf-8"), by="admin").version == 1
    latin = SIMPLE.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace("办", "x")
    assert org.deploy(latin.encode("latin-1"), by="admin").version == 2
