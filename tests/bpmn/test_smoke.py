def test_loop(bpmn, deploy):
    deploy("test_loop")
    iid = bpmn.start("loop", {"n": 1}, by="zhang", org="v1")
    bpmn.finish(iid, "work", {"done": False}, by="zhang")
    bpmn.finish(iid, "work", {"done": True}, by="zhang")
    assert bpmn.completed(iid) == ["start", "merge", "work", "split", "merge", "work", "split", "end"]
    assert bpmn.get_instance(iid).state == "completed"
