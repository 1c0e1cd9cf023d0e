"""Scripts and conditions inside the engine: what they may read besides the data."""
from __future__ import annotations


def test_scripts_and_conditions_read_today_in_the_configured_zone(org, clock):
    from tests.engine.test_repository import diagram

    org.deploy(diagram(
        '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="x"/>'
        '<bpmn:scriptTask id="x" name="判断"><bpmn:script>on_time = finished_on &lt;= today'
        '</bpmn:script></bpmn:scriptTask><bpmn:sequenceFlow id="f2" sourceRef="x" '
        'targetRef="e"/><bpmn:endEvent id="e"/>'), by="admin")
    # 2026-03-02 01:00 UTC is 09:00 in Beijing, same day
    iid = org.start("p", {"finished_on": "2026-03-02"}, by="zhang", org="v1")
    data = org.get_instance(iid).data
    assert data["on_time"] is True and "today" not in data
