"""Votes are data: the counts must add up, and the meeting's rule decides."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine import ValidationError

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def meeting(org):
    org.deploy((DATA / "vote.bpmn").read_text(encoding="utf-8"), by="admin")
    iid = org.start("vote", by="sun", org="t1")
    return iid


def counts(eligible, present, yes, no, abstain):
    return {"reps_eligible": eligible, "reps_present": present, "reps_for": yes,
            "reps_against": no, "reps_abstain": abstain}


def test_the_vote_fields_are_on_the_form_and_the_branches_were_listed(org, meeting):
    task = org.open_tasks(instance_id=meeting)[0]
    assert [f["name"] for f in task.form] == ["minutes", "reps_eligible", "reps_present",
                                              "reps_for", "reps_against", "reps_abstain"]
    assert org.get_instance(meeting).data["branches"] == ["v1", "v2"]


@pytest.mark.parametrize("numbers, field", [
    (counts(30, 31, 20, 5, 6), "reps_present"),
    (counts(30, 25, 20, 5, 1), "reps_for"),
    (counts(0, 0, 0, 0, 0), "reps_eligible"),
])
def test_counts_that_do_not_add_up_are_refused(org, meeting, numbers, field):
    task = org.open_tasks(instance_id=meeting)[0]
    with pytest.raises(ValidationError) as err:
        org.complete(task.id, numbers, by="sun")
    assert field in err.value.fields
    assert org.open_tasks(instance_id=meeting)[0].id == task.id


@pytest.mark.parametrize("numbers, quorate, passed", [
    (counts(30, 20, 11, 5, 4), True, True),     # 20 ≥ 2/3 × 30, 11 > 20 / 2
    (counts(30, 20, 10, 6, 4), True, False),    # exactly half is not a majority
    (counts(30, 19, 19, 0, 0), False, False),   # 19 < 20: the meeting could not decide
])
def test_the_rule_decides_the_branch(org, meeting, numbers, quorate, passed):
    org.complete(org.open_tasks(instance_id=meeting)[0].id, numbers, by="sun")
    inst = org.get_instance(meeting)
    assert (inst.data["reps_quorate"], inst.data["reps_passed"]) == (quorate, passed)
    assert inst.state == "completed"
    ends = [e.element_id for e in org.history(meeting) if e.kind == "completed"]
    assert ends[-1] == ("adopted" if passed else "rejected")

