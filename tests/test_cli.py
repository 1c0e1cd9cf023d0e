"""The duban command line: the same commands, one-line errors, exit codes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.fixtures.org import DATA
from web.cli import cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def run(org, db_url):
    runner = CliRunner()

    def invoke(*args: str):
        result = runner.invoke(cli, ["--database-url", db_url, *args])
        assert "Traceback" not in result.output
        return result

    return invoke


def test_deploy_start_complete_inspect(run):
    result = run("deploy", str(DATA / "test_approval.bpmn"), "--as", "admin")
    assert result.exit_code == 0 and "approval version 1 (deployed)" in result.output
    assert "(unchanged)" in run("deploy", str(DATA / "test_approval.bpmn")).output
    result = run("start", "approval", "--as", "zhang", "--org", "v1", "--data", '{"note": "x"}')
    assert result.exit_code == 0 and "instance 1 started (running)" in result.output
    tasks = json.loads(run("tasks", "--as", "zhang", "--json").output)
    assert [t["element_id"] for t in tasks] == ["fill"]
    result = run("complete", tasks[0]["id"], "--as", "zhang", "--data",
                 '{"title": "t", "kind": "a", "count": 2}')
    assert result.exit_code == 0, result.output
    shown = json.loads(run("instance", "1", "--json").output)
    assert shown["instance"]["data"]["title"] == "t"
    assert [t["element_id"] for t in shown["open_tasks"]] == ["check"]
    assert "审核" in run("instance", "1").output
    assert run("audit", "verify").exit_code == 0


@pytest.mark.parametrize("args, code, words", [
    (["start", "nope", "--as", "zhang"], 3, "no process 'nope'"),
    (["start", "x", "--as", "zhang", "--data", "{bad"], 2, "not valid JSON"),
    (["start", "x", "--as", "zhang", "--data", "[1]"], 2, "JSON object"),
    (["complete", "no-such-task", "--as", "zhang"], 3, "no task"),
    (["instance", "999"], 3, "no process instance 999"),
    (["deploy", "/no/such/file.bpmn"], 2, "no such file"),
])
def test_errors_are_one_line_and_exit_non_zero(run, args, code, words):
    result = run(*args)
    assert result.exit_code == code
    assert words in result.output


def test_definition_and_validation_errors(run, tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_text("<not-bpmn/>")
    result = run("deploy", str(bad))
    assert result.exit_code == 4 and "bpmn:definitions" in result.output
    run("deploy", str(DATA / "test_approval.bpmn"))
    run("start", "approval", "--as", "zhang", "--org", "v1")
    task = json.loads(run("tasks", "--as", "zhang", "--json").output)[0]["id"]
    result = run("complete", task, "--as", "zhang", "--data", "{}")
    assert result.exit_code == 5 and "title: is required" in result.output


def test_demo_loads_the_shipped_procedures_twice_without_harm(eng, db_url):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, ["--database-url", db_url, *args])

    first = run("demo")
    assert first.exit_code == 0, first.output
    assert "problem_rectification" in first.output
    again = run("demo")
    assert again.exit_code == 0 and "instances worked on" not in again.output
    assert json.loads(run("tasks", "--json").output)


def test_ledger_export_and_import(run, org, tmp_path):
    from openpyxl import Workbook, load_workbook

    assert run("deploy", str(ROOT / "processes" / "p2_problem_rectification.bpmn")).exit_code == 0
    wb = Workbook()
    wb.active.append(["问题（事项）", "问题来源", "责任单位", "时限要求"])
    wb.active.append(["公开栏未更新", "上级点", "一村党支部", "2026-09-30"])
    wb.active.append(["活动室破损", "外星人提", "v2", "下月"])
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    refused = run("ledger", "import", str(bad), "--by", "sun")
    assert refused.exit_code == 5
    assert "3:问题来源: must be one of 上级点, 自己找, 群众提" in refused.output
    wb.active.delete_rows(3)
    good = tmp_path / "good.xlsx"
    wb.save(good)
    done = run("ledger", "import", str(good), "--as", "sun")
    assert done.exit_code == 0 and "1 problems registered: WT-" in done.output
    out = tmp_path / "ledger.xlsx"
    written = run("ledger", "export", "--org", "t1", "--out", str(out), "--as", "sun")
    assert written.exit_code == 0, written.output
    sheet = load_workbook(out).active
    assert sheet["C3"].value == "公开栏未更新" and sheet["F3"].value == "一村党支部"
    assert run("ledger", "export", "--org", "v2", "--out", str(out),
               "--as", "zhang").exit_code == 7
    assert not list(tmp_path.glob("*.part"))  # no half workbook left behind
