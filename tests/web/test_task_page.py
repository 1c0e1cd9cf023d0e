"""The task page and every verb on it, the walls between villages, and bad input.

The diagram (tests/engine/data/inbox.bpmn): 填报整改情况 (a form with every field type)
goes to zhang, the secretary of v1, within 2 working days; 审核验收 to the town's
组织委员 zhao. wang is the secretary of the other village v2; sun the town's 书记,
who supervises both; li a cadre of v1.
"""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.web.conftest import as_user

DATA = Path(__file__).resolve().parents[1] / "engine" / "data"
FILLED = {"summary": "已更新", "done": True, "kind": "a"}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
FORM = {"summary": "公开栏已更新", "detail": "补贴了三季度的收支", "percent": "100",
        "cost": "1.5", "done": "true", "finished_on": "2026-03-03",
        "meeting_at": "2026-03-03T09:30", "kind": "a", "channels": ["wall", "wechat"],
        "contact": "li", "unit": "v1"}


@pytest.fixture
def work(world):
    world.deploy((DATA / "inbox.bpmn").read_text(encoding="utf-8"), by="admin")
    return world


@pytest.fixture
def iid(work):
    return work.start("inbox_case", {"title": "公开栏未更新"}, by="zhang", org="v1")


@pytest.fixture
def task(work, iid):
    (found,) = work.open_tasks(instance_id=iid)
    return found


@pytest.fixture
def zhang(app):
    return as_user(app, "zhang")


def text(response) -> str:
    return response.get_data(as_text=True)


def open_task(eng, iid: int):
    (found,) = eng.open_tasks(instance_id=iid)
    return found


def test_the_page_shows_the_task_its_item_and_a_control_per_field(work, task, zhang):
    response = zhang.get(f"/tasks/{task.id}")
    assert response.status_code == 200
    page = text(response)
    for shown in ("填报整改情况", "收件箱测试", "WT-2026-0001", "公开栏未更新", "一村党支部",
                  "2026-03-04 23:59", "正常", "签收", "办理"):
        assert shown in page, shown
    # every field type becomes a control, with its label, required mark and help
    for control in ('name="summary" required', 'maxlength="50"', "<textarea", 'type="number"',
                    'step="any"', 'type="radio" name="done" value="true"', 'type="date"',
                    'type="datetime-local"', '<option value="b" selected>乙类</option>',
                    'type="checkbox" name="channels" value="wall"', 'list="people-list"',
                    '<option value="v1">一村党支部', 'type="file" id="f-evidence-upload"',
                    'class="required"', "0 至 100", "可多选", 'enctype="multipart/form-data"'):
        assert control in page, control
    # the read-only field shows the instance's value and is not an input
    assert 'name="title"' not in page and 'class="readonly" id="f-title">公开栏未更新<' in page


def test_a_village_secretary_never_sees_another_villages_task(work, task, app, zhang):
    zhang.post(f"/tasks/{task.id}/attachments",
               data={"file": (io.BytesIO(PDF), "证明.pdf")}, content_type="multipart/form-data")
    (attachment,) = work.attachments(task_id=task.id, by="zhang")
    wang = as_user(app, "wang")
    response = wang.get(f"/tasks/{task.id}")
    assert response.status_code == 404 and "公开栏未更新" not in text(response)
    response = wang.get(f"/attachments/{attachment.id}")
    assert response.status_code in (403, 404) and PDF not in response.data
    for verb in ("claim", "unclaim", "complete", "transfer", "delegate", "resolve", "signers",
                 "sign", "send-back", "withdraw", "copy", "urge", "extension", "comments",
                 "attachments"):
        response = wang.post(f"/tasks/{task.id}/{verb}",
                             data={"to": "wang", "reason": "x", "body": "x", "message": "x",
                                   "opinion": "x", "recipients": "wang", "summary": "x"})
        assert response.status_code in (403, 404), verb
        assert "公开栏未更新" not in text(response), verb
    # and nothing happened to the task
    assert open_task(work, task.instance_id).assignee is None
    assert work.comments(task.instance_id, by="zhang") == []


def test_unknown_tasks_and_files_are_not_found(work, zhang):
    assert zhang.get("/tasks/no-such-task").status_code == 404
    assert zhang.get("/tasks/" + "x" * 500).status_code == 404
    assert zhang.get("/attachments/99999").status_code == 404
    assert zhang.post("/tasks/no-such-task/claim").status_code == 404


def test_claim_and_unclaim(work, task, zhang, iid):
    response = zhang.post(f"/tasks/{task.id}/claim", follow_redirects=True)
    assert "已签收" in text(response)
    assert open_task(work, iid).assignee == "zhang"
    assert 'action="/tasks/%s/unclaim"' % task.id in text(response)
    response = zhang.post(f"/tasks/{task.id}/unclaim", follow_redirects=True)
    assert "已退签" in text(response)
    assert open_task(work, iid).assignee is None


def test_complete_with_evidence_in_one_form(work, task, zhang, iid):
    data = {**FORM, "evidence": [(io.BytesIO(PDF), "整改照片.pdf")]}
    response = zhang.post(f"/tasks/{task.id}/complete", data=data,
                          content_type="multipart/form-data")
    assert response.status_code == 302 and response.location == "/inbox"
    page = text(zhang.get("/inbox"))
    assert "已办理" in page
    # the file was attached first, then named in the completed form
    (attachment,) = work.attachments(instance_id=iid, by="zhang")
    values = work.get_instance(iid).data
    assert values["evidence"] == [str(attachment.id)]
    assert (values["percent"], values["done"], values["channels"], values["contact"]) == (
        100, True, ["wall", "wechat"], "li")
    assert open_task(work, iid).element_id == "review"


def test_a_refused_form_is_shown_again_with_errors_by_field_and_values_kept(work, task, zhang,
                                                                            iid):
    data = {**FORM, "summary": "", "percent": "150", "detail": "保留我写的话"}
    response = zhang.post(f"/tasks/{task.id}/complete", data=data)
    assert response.status_code == 422
    page = text(response)
    assert 'id="f-summary-error">必填<' in page
    assert 'id="f-percent-error">must be at most 100<' in page
    assert "保留我写的话" in page and 'value="150"' in page
    assert open_task(work, iid).element_id == "fill"


@pytest.mark.parametrize("data, field", [
    ({**FORM, "summary": "长" * 51}, "summary"),
    ({**FORM, "detail": "x" * 20_001}, "detail"),
    ({**FORM, "percent": "abc"}, "percent"),
    ({**FORM, "finished_on": "2026-13-40"}, "finished_on"),
    ({**FORM, "kind": "<script>"}, "kind"),
    ({**FORM, "done": "maybe"}, "done"),
    ({**FORM, "summary": "\x00"}, "summary"),
])
def test_bad_values_are_field_errors(work, task, zhang, data, field):
    response = zhang.post(f"/tasks/{task.id}/complete", data=data)
    assert response.status_code == 422
    assert f'id="f-{field}-error"' in text(response)


def test_a_wrong_file_type_is_refused_and_the_task_stays_open(work, task, zhang, iid):
    data = {**FORM, "evidence": [(io.BytesIO(b"MZ\x90\x00 not a pdf"), "报告.pdf")]}
    response = zhang.post(f"/tasks/{task.id}/complete", data=data,
                          content_type="multipart/form-data")
    assert response.status_code == 422
    assert 'id="f-evidence-error"' in text(response)
    assert open_task(work, iid).element_id == "fill"
    response = zhang.post(f"/tasks/{task.id}/attachments",
                          data={"file": (io.BytesIO(b"<html></html>"), "page.html")},
                          content_type="multipart/form-data")
    assert response.status_code == 422
    assert zhang.post(f"/tasks/{task.id}/attachments").status_code == 422
    assert work.attachments(task_id=task.id, by="zhang") == []


def test_evidence_downloads_as_an_attachment(work, task, zhang, app):
    response = zhang.post(f"/tasks/{task.id}/attachments",
                          data={"file": [(io.BytesIO(PDF), "整改 报告.pdf")]},
                          content_type="multipart/form-data", follow_redirects=True)
    assert "已上传 1 个佐证材料" in text(response)
    (attachment,) = work.attachments(task_id=task.id, by="zhang")
    assert f'href="/attachments/{attachment.id}"' in text(response)
    # li, a cadre of the branch, may read it
    response = as_user(app, "li").get(f"/attachments/{attachment.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E6%95%B4%E6%94%B9%20%E6%8A%A5%E5%91%8A.pdf" in \
        response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_second_completion_is_a_conflict_not_a_crash(work, task, app, iid):
    # given: li is a secretary of v1 too, so both may claim the task
    work.grant_role("li", "secretary", "v1")
    zhang, li = as_user(app, "zhang"), as_user(app, "li")
    assert li.get(f"/tasks/{task.id}").status_code == 200
    assert zhang.post(f"/tasks/{task.id}/complete", data=FORM).status_code == 302
    # when li sends the same form, from the page he opened before
    response = li.post(f"/tasks/{task.id}/complete", data=FORM)
    assert response.status_code == 409
    assert "已被他人抢先处理" in text(response)


def test_transfer_to_someone_who_sees_the_organisation(work, task, zhang, iid):
    page = text(zhang.get(f"/tasks/{task.id}"))
    assert '<option value="li">李四 (li)</option>' in page
    assert 'value="wang"' not in page
    response = zhang.post(f"/tasks/{task.id}/transfer", data={"to": "li", "comment": "请办理"},
                          follow_redirects=True)
    assert "已转办给 李四" in text(response)
    assert open_task(work, iid).assignee == "li"
    # wang cannot see v1: refused, never a 500
    response = as_user(zhang.application, "li").post(f"/tasks/{task.id}/transfer",
                                                     data={"to": "wang"})
    assert response.status_code == 403
    response = as_user(zhang.application, "li").post(f"/tasks/{task.id}/transfer",
                                                     data={"to": ""})
    assert response.status_code == 422


def test_delegate_and_hand_back(work, task, zhang, app, iid):
    zhang.post(f"/tasks/{task.id}/claim")
    response = zhang.post(f"/tasks/{task.id}/delegate", data={"to": "li"},
                          follow_redirects=True)
    assert "已委派给 李四" in text(response)
    li = as_user(app, "li")
    assert "委派归还" in text(li.get(f"/tasks/{task.id}"))
    response = li.post(f"/tasks/{task.id}/resolve", data={"comment": "已核实"},
                       follow_redirects=True)
    assert "已交回委派人" in text(response)
    assert open_task(work, iid).assignee == "zhang"
    assert li.post(f"/tasks/{task.id}/resolve").status_code == 409


def test_add_signers_and_sign(work, task, zhang, app, iid):
    zhang.post(f"/tasks/{task.id}/claim")
    response = zhang.post(f"/tasks/{task.id}/signers",
                          data={"usernames": ["sun"], "position": "before"},
                          follow_redirects=True)
    assert "已加签：孙书记" in text(response)
    sun = as_user(app, "sun")
    assert 'action="/tasks/%s/sign"' % task.id in text(sun.get(f"/tasks/{task.id}"))
    assert sun.post(f"/tasks/{task.id}/sign", data={"opinion": ""}).status_code == 422
    response = sun.post(f"/tasks/{task.id}/sign", data={"opinion": "同意上报"},
                        follow_redirects=True)
    assert "已签署意见" in text(response)
    assert open_task(work, iid).assignee == "zhang"
    assert "同意上报" in text(zhang.get(f"/tasks/{task.id}"))
    assert zhang.post(f"/tasks/{task.id}/signers", data={}).status_code == 422


def test_send_back_needs_a_reason_and_returns_the_work(work, task, app, iid):
    work.complete(task.id, FILLED, by="zhang")
    review = open_task(work, iid)
    zhao = as_user(app, "zhao")
    page = text(zhao.get(f"/tasks/{review.id}"))
    assert '<option value="fill"' in page
    # the reviewer reads what was filled in, as the form offered it
    assert "已填报内容" in page and "<dt>整改情况</dt><dd>已更新</dd>" in page
    assert "<dt>是否完成</dt><dd>是</dd>" in page and "<dt>类别</dt><dd>甲类</dd>" in page
    response = zhao.post(f"/tasks/{review.id}/send-back", data={"to_element": "fill"})
    assert response.status_code == 422 and "退回须填写理由" in text(response)
    response = zhao.post(f"/tasks/{review.id}/send-back",
                         data={"to_element": "fill", "reason": "照片不清晰"},
                         follow_redirects=True)
    assert "已退回到「填报整改情况」" in text(response)
    back = open_task(work, iid)
    assert (back.element_id, back.assignee) == ("fill", "zhang")
    # zhang sees it in 待办 and the return with its reason in the history
    zhang = as_user(app, "zhang")
    assert f"/tasks/{back.id}" in text(zhang.get("/inbox"))
    page = text(zhang.get(f"/tasks/{back.id}"))
    assert "退回" in page and "照片不清晰" in page


def test_withdraw_from_the_task_page(work, task, zhang, iid):
    work.complete(task.id, FILLED, by="zhang")
    page = text(zhang.get(f"/tasks/{task.id}"))
    assert f'action="/tasks/{task.id}/withdraw"' in page
    response = zhang.post(f"/tasks/{task.id}/withdraw", data={"reason": "填错了"})
    again = open_task(work, iid)
    assert response.status_code == 302 and response.location == f"/tasks/{again.id}"


def test_copy_comment_and_urge(work, task, zhang, app, iid):
    response = zhang.post(f"/tasks/{task.id}/copy",
                          data={"recipients": ["sun", "zhao"], "note": "请知悉"},
                          follow_redirects=True)
    assert "已抄送给 孙书记、赵委员" in text(response)
    assert len(work.copies("sun")) == 1
    assert zhang.post(f"/tasks/{task.id}/copy", data={}).status_code == 422
    response = zhang.post(f"/tasks/{task.id}/comments", data={"body": "正在整改"},
                          follow_redirects=True)
    assert "意见已发表" in text(response) and "正在整改" in text(response)
    assert zhang.post(f"/tasks/{task.id}/comments", data={"body": "x" * 5000}).status_code \
        == 422
    assert zhang.post(f"/tasks/{task.id}/comments", data={"body": "  "}).status_code == 422
    # the town's secretary urges; the holder cannot urge himself
    sun = as_user(app, "sun")
    assert 'action="/tasks/%s/urge"' % task.id in text(sun.get(f"/tasks/{task.id}"))
    response = sun.post(f"/tasks/{task.id}/urge", data={"message": "请今天完成"},
                        follow_redirects=True)
    assert "已催办" in text(response)
    assert any(n.kind == "urge" for n in work.notifications("zhang"))
    assert sun.post(f"/tasks/{task.id}/urge", data={"message": ""}).status_code == 422
    assert as_user(app, "li").post(f"/tasks/{task.id}/urge",
                                   data={"message": "催"}).status_code == 403


def test_request_an_extension(work, task, zhang, app):
    response = zhang.post(f"/tasks/{task.id}/extension", data={"working_days": "2"})
    assert response.status_code == 422 and "ex-reason" in text(response)
    assert zhang.post(f"/tasks/{task.id}/extension",
                      data={"working_days": "abc", "reason": "x"}).status_code == 422
    response = zhang.post(f"/tasks/{task.id}/extension",
                          data={"working_days": "2", "reason": "材料未齐"},
                          follow_redirects=True)
    assert "延期申请已提交" in text(response)
    # the supervisor decides on the task page
    page = text(as_user(app, "sun").get(f"/tasks/{task.id}"))
    assert "待审批的延期申请" in page and "材料未齐" in page and 'value="approve"' in page


def test_a_completed_task_page_still_shows_its_history(work, task, zhang, iid):
    work.complete(task.id, FILLED, by="zhang")
    page = text(zhang.get(f"/tasks/{task.id}"))
    assert "办理完成" in page and "提交办理" not in page
