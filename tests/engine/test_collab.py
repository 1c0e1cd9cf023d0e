"""Comments and evidence files around a task: who may add and read them, and which files."""
from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from engine import ConflictError, Engine, NotFound, PermissionDenied, ValidationError
from engine.config import EngineConfig
from engine.evidence import clean_filename
from tests.engine.test_approvals import audit
from tests.engine.test_repository import diagram
from tests.engine.test_tasks import GOOD

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
GIF = b"GIF89a" + b"\x00" * 10
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8
OLE_DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64 + "WordDocument".encode("utf-16-le")


def package(*names: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in names:
            z.writestr(name, "<x/>")
    return out.getvalue()


DOCX = package("[Content_Types].xml", "word/document.xml")
XLSX = package("[Content_Types].xml", "xl/workbook.xml")


@pytest.fixture
def iid(org, deploy):
    deploy("test_approval")
    return org.start("approval", by="zhang", org="v1")


@pytest.fixture
def fill(org, iid):
    return org.claim(org.open_tasks(instance_id=iid)[0].id, by="zhang")


# -- comments ---------------------------------------------------------------------------

def test_comments_by_whoever_sees_the_instance(org, iid, fill):
    first = org.add_comment(iid, "  请补充会议记录  ", by="sun")
    second = org.add_comment(iid, "已补充", by="zhang", task_id=fill.id)
    assert (first.author, first.body, first.task_id) == ("sun", "请补充会议记录", None)
    assert second.task_id == fill.id
    assert [c.body for c in org.comments(iid, by="qian")] == ["请补充会议记录", "已补充"]
    assert audit(org, "comment.added")[0] == ("sun", {"comment_id": first.id,
                                                      "body": "请补充会议记录"})
    with pytest.raises(PermissionDenied):
        org.add_comment(iid, "看看", by="wang")
    with pytest.raises(PermissionDenied):
        org.comments(iid, by="wang")
    with pytest.raises(NotFound):
        org.comments(iid + 100, by="sun")


def test_comment_bounds_and_states(org, iid, fill):
    with pytest.raises(ValidationError) as err:
        org.add_comment(iid, " ", by="zhang")
    assert err.value.fields == {"body": "is required"}
    with pytest.raises(ValidationError):
        org.add_comment(iid, "长" * 4001, by="zhang")
    org.add_comment(iid, "长" * 4000, by="zhang")
    other = org.start("approval", by="zhang", org="v1")
    with pytest.raises(ValidationError):
        org.add_comment(other, "错了", by="zhang", task_id=fill.id)
    org.suspend(iid, by="admin")
    with pytest.raises(ConflictError):
        org.add_comment(iid, "暂停中", by="zhang")
    org.resume(iid, by="admin")
    org.complete(fill.id, GOOD, by="zhang")
    with pytest.raises(ConflictError):
        org.add_comment(iid, "晚了", by="zhang", task_id=fill.id)
    # the instance itself may still be discussed
    org.add_comment(iid, "办结后补记", by="zhang")


def test_a_person_named_for_a_task_sees_its_instance_from_another_village(org):
    xml = diagram('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" '
                  'targetRef="t"/><bpmn:userTask id="t" name="协办"><bpmn:extensionElements>'
                  '<duban:assignment person="data:who"/></bpmn:extensionElements>'
                  '</bpmn:userTask><bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>'
                  '<bpmn:endEvent id="e"/>')
    org.deploy(xml, by="admin")
    iid = org.start("p", {"who": "wang"}, by="zhang", org="v1")
    org.add_comment(iid, "二村协办", by="wang")
    assert [c.author for c in org.comments(iid, by="wang")] == ["wang"]
    # and still does once the task is done
    org.complete(org.open_tasks(instance_id=iid)[0].id, by="wang")
    assert [c.author for c in org.comments(iid, by="wang")] == ["wang"]
    with pytest.raises(PermissionDenied):
        org.comments(iid, by="nobody")


# -- evidence files ---------------------------------------------------------------------

def test_attach_list_and_read_a_file(org, iid, fill):
    view = org.add_attachment(fill.id, "整改报告.pdf", PDF, by="zhang",
                              content_type="application/octet-stream")
    assert (view.filename, view.content_type, view.size, view.sha256, view.task_id) == (
        "整改报告.pdf", "application/pdf", len(PDF), hashlib.sha256(PDF).hexdigest(), fill.id)
    assert [a.id for a in org.attachments(instance_id=iid, by="sun")] == [view.id]
    assert [a.id for a in org.attachments(task_id=fill.id, by="zhang")] == [view.id]
    got, content = org.attachment_content(view.id, by="qian")
    assert (got, content) == (view, PDF)
    added = audit(org, "attachment.added")
    assert added[0][0] == "zhang" and added[0][1]["sha256"] == view.sha256
    assert "content" not in added[0][1]
    assert audit(org, "attachment.read")[0][0] == "qian"
    assert [e.kind for e in org.history(iid)][-1] == "attachment_added"
    with pytest.raises(PermissionDenied):
        org.attachment_content(view.id, by="wang")
    with pytest.raises(PermissionDenied):
        org.attachments(instance_id=iid, by="wang")
    with pytest.raises(NotFound):
        org.attachment_content(view.id + 100, by="zhang")


@pytest.mark.parametrize("name, content, stored", [
    ("照片.png", PNG, "image/png"),
    ("现场.JPG", JPEG, "image/jpeg"),
    ("动图.gif", GIF, "image/gif"),
    ("图.webp", WEBP, "image/webp"),
    ("纪要.doc", OLE_DOC, "application/msword"),
    ("方案.docx", DOCX, "application/vnd.openxmlformats-officedocument."
                       "wordprocessingml.document"),
    ("台账.xlsx", XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("说明.txt", "整改情况说明".encode("utf-8"), "text/plain; charset=utf-8"),
    ("说明.txt", "整改情况说明".encode("gb18030"), "text/plain; charset=gb18030"),
])
def test_accepted_types_are_sniffed(org, fill, name, content, stored):
    assert org.add_attachment(fill.id, name, content, by="zhang").content_type == stored


@pytest.mark.parametrize("name, content", [
    ("setup.exe", b"MZ\x90\x00"),
    ("page.html", b"<html><script>alert(1)</script></html>"),
    ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
    ("run.js", b"alert(1)"),
    ("all.zip", package("a.txt")),
    ("noextension", PDF),
    ("report.pdf", b"MZ\x90\x00 not a pdf"),          # a program renamed
    ("photo.png", PDF),                                # another type renamed
    ("plan.docx", package("a.txt")),                   # a plain zip renamed
    ("plan.docx", package("[Content_Types].xml", "xl/workbook.xml")),  # a workbook renamed
    ("old.xls", OLE_DOC),                              # a Word file renamed
    ("notes.txt", b"MZ\x00\x00binary"),
    ("photo\u202egnp.exe", b"MZ\x90\x00"),              # right-to-left override trick
])
def test_refused_types(org, fill, name, content):
    with pytest.raises(ValidationError) as err:
        org.add_attachment(fill.id, name, content, by="zhang")
    assert set(err.value.fields) == {"file"}


def test_size_limit_comes_from_the_configuration(db_url, clock, org, fill):
    small = Engine(config=EngineConfig.from_env(db_url, attachment_max_bytes=64), clock=clock)
    try:
        with pytest.raises(ValidationError) as err:
            small.add_attachment(fill.id, "big.pdf", PDF + b"\x00" * 64, by="zhang")
        assert "at most 64" in err.value.fields["file"]
        with pytest.raises(ValidationError):
            small.add_attachment(fill.id, "empty.pdf", b"", by="zhang")
        assert small.add_attachment(fill.id, "ok.pdf", PDF, by="zhang").size == len(PDF)
    finally:
        small.dispose()
    assert EngineConfig().attachment_max_bytes == 10 * 1024 * 1024


def test_size_limit_from_the_environment(monkeypatch):
    monkeypatch.setenv("DUBAN_ATTACHMENT_MAX_BYTES", "2048")
    assert EngineConfig.from_env("sqlite://").attachment_max_bytes == 2048
    monkeypatch.setenv("DUBAN_ATTACHMENT_MAX_BYTES", "lots")
    with pytest.raises(ValueError):
        EngineConfig.from_env("sqlite://")


@pytest.mark.parametrize("raw, clean", [
    ("../../etc/整改报告.pdf", "整改报告.pdf"),
    ("C:\\Users\\张\\Desktop\\佐证 材料.pdf", "佐证 材料.pdf"),
    ("..hidden.pdf", "hidden.pdf"),
    ("a\x00b\r\n\tc.pdf", "ab c.pdf"),
    ("照片\u202egnp.exe", "照片gnp.exe"),
    ("con.pdf", "_con.pdf"),
    ('报告<1>:"?*.pdf', "报告_1_____.pdf"),
    ("  会议纪要.docx. ", "会议纪要.docx"),
    ("长" * 300 + ".pdf", "长" * 196 + ".pdf"),
])
def test_file_names_are_made_safe(raw, clean):
    assert clean_filename(raw) == clean


@pytest.mark.parametrize("raw", ["", "...", "/", "a/b/", None])
def test_a_name_with_nothing_usable_is_refused(raw):
    with pytest.raises(ValidationError):
        clean_filename(raw)


def test_who_may_attach(org, iid, fill):
    with pytest.raises(PermissionDenied):
        org.add_attachment(fill.id, "a.pdf", PDF, by="li")
    with pytest.raises(PermissionDenied):
        org.add_attachment(fill.id, "a.pdf", PDF, by="wang")
    # while the task is delegated, both the delegate and its owner may add evidence
    org.delegate(fill.id, "li", by="zhang")
    org.add_attachment(fill.id, "li.pdf", PDF, by="li")
    org.add_attachment(fill.id, "zhang.pdf", PDF, by="zhang")
    assert [a.uploaded_by for a in org.attachments(task_id=fill.id, by="li")] == ["li", "zhang"]
    org.resolve(fill.id, by="li")
    org.complete(fill.id, GOOD, by="zhang")
    with pytest.raises(ConflictError):
        org.add_attachment(fill.id, "late.pdf", PDF, by="zhang")
    # a file stays readable after its task closed
    assert org.attachment_content(org.attachments(instance_id=iid, by="sun")[0].id,
                                  by="sun")[1] == PDF
