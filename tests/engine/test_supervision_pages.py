"""engine/queries/supervision_pages.py: the scope of a report page and the import template."""
from __future__ import annotations

import io

import openpyxl
import pytest

from engine import NotFound, PermissionDenied
from tests.fixtures.supervision import deploy


def codes(views) -> list[str]:
    return [v.code for v in views]


def test_the_town_secretary_sees_the_town_with_its_branches_as_units(org, clock):
    scope = org.report_scope("sun")
    assert scope.org.code == "t1"
    # the town's own row first (with its office), then the branches; offices not offered
    assert codes(scope.units) == ["t1", "v1", "v2"]
    assert codes(scope.choices) == ["t1", "v1", "v2"]
    assert scope.today.isoformat() == "2026-03-02"
    # the office's inspector reports on the town too
    assert org.report_scope("qian").org.code == "t1"


def test_a_branch_secretary_sees_his_branch_only(org):
    scope = org.report_scope("zhang")
    assert (scope.org.code, codes(scope.units), codes(scope.choices)) == ("v1", ["v1"], ["v1"])
    with pytest.raises(PermissionDenied):
        org.report_scope("zhang", org="v2")
    with pytest.raises(PermissionDenied):
        org.report_scope("zhang", org="t1")
    with pytest.raises(NotFound):
        org.report_scope("zhang", org="nowhere")


def test_someone_in_two_trees_starts_with_the_first_and_may_choose_either(org):
    # given: sun is also secretary of a second town
    org.add_organisation("t2", "二镇党委", "town", parent="c1")
    org.add_organisation("t2-v1", "二镇一村党支部", "branch", parent="t2")
    org.grant_role("sun", "secretary", "t2")
    # when / then
    scope = org.report_scope("sun")
    assert scope.org.code == "t1"
    assert codes(scope.choices) == ["t1", "v1", "v2", "t2", "t2-v1"]
    assert codes(org.report_scope("sun", org="t2").units) == ["t2", "t2-v1"]


def test_an_administrator_starts_at_the_root(org):
    scope = org.report_scope("admin")
    assert scope.org.code == "c1"
    assert codes(scope.units) == ["c1", "t1"]


def test_the_template_is_what_the_import_reads(org, clock):
    # given: the template, filled in with one problem
    deploy(org, "p2_problem_rectification")
    wb = openpyxl.load_workbook(io.BytesIO(org.problem_list_template()))
    sheet = wb.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["问题（事项）*", "问题描述", "问题来源*"]
    assert sheet.max_row == 1
    values = {"问题（事项）*": "村务公开栏未更新", "问题来源*": "上级点", "责任单位*": "一村党支部",
              "责任人": "li", "时限要求": "2026-04-30"}
    sheet.append([values.get(h) for h in header])
    out = io.BytesIO()
    wb.save(out)
    # when
    report = org.import_problem_list(out.getvalue(), by="sun")
    # then
    assert report.numbers == ("WT-2026-0001",)
    row = org.ledger("sun").rows[0]
    assert (row.title, row.responsible_unit, str(row.due_date)) == (
        "村务公开栏未更新", "v1", "2026-04-30")
