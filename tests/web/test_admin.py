"""The administrator's pages: people, passwords, roles, activation and organisations.

Every change is an engine command that records an audit event; anyone but an
administrator gets 403 and changes nothing.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from tests.web.conftest import PASSWORD, as_user


def audit(eng, action: str) -> list[tuple[str, dict]]:
    with eng.sessions() as s:
        rows = s.execute(select(AuditEvent.actor, AuditEvent.detail)
                         .where(AuditEvent.action == action).order_by(AuditEvent.seq)).all()
    return [(actor, json.loads(detail)) for actor, detail in rows]


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def admin(app):
    return as_user(app, "admin")


def test_people_are_listed_searched_filtered_and_paged(app, admin):
    html = text(admin.get("/admin"))
    for name in ("张书记", "王书记", "钱督查", "管理员"):
        assert name in html
    assert "书记 · 一村党支部" in html  # roles with their organisations
    html = text(admin.get("/admin?q=张"))
    assert "张书记" in html and "王书记" not in html
    html = text(admin.get("/admin?org=v1"))
    assert "张书记" in html and "李四" in html and "王书记" not in html
    for query in ("page=abc", "page=-2", "page=99999999999", "org=nowhere", "q=%00",
                  "q=" + "x" * 5000, "org=%00"):
        assert admin.get(f"/admin?{query}").status_code == 200, query
    app.config["PAGE_SIZE"] = 2
    first, second = text(admin.get("/admin")), text(admin.get("/admin?page=2"))
    assert 'href="/admin/people/admin"' in first and 'rel="next"' in first
    assert 'href="/admin/people/admin"' not in second and 'rel="prev"' in second


def test_nobody_but_an_administrator_gets_in(app, world):
    for who in ("zhang", "sun", "qian", "wang"):
        c = as_user(app, who)
        assert c.get("/admin").status_code == 403, who
        assert c.get("/admin/organisations").status_code == 403
        assert c.get("/admin/people/li").status_code == 403
        assert c.post("/admin/people", data={"username": "mole", "name": "内线"}).status_code == 403
        assert c.post("/admin/people/li/active", data={"active": "0"}).status_code == 403
        assert c.post("/admin/people/li/roles",
                      data={"role": "admin", "org": "c1"}).status_code == 403
        assert c.post("/admin/people/li/password",
                      data={"password": "x1y2z3w4v5", "confirm": "x1y2z3w4v5"}
                      ).status_code == 403
        assert c.post("/admin/organisations", data={"code": "v9", "name": "九村",
                                                    "kind": "branch"}).status_code == 403
    assert world.person("mole") is None and world.person("li").active
    assert audit(world, "role.granted")[-1][1]["username"] == "wang"  # only the tree's own
    assert "管理" not in text(as_user(app, "zhang").get("/instances"))
    response = app.test_client().get("/admin")
    assert response.status_code == 302 and "/login" in response.location


def test_add_a_person_then_set_a_password_and_roles(app, admin, world):
    response = admin.post("/admin/people", data={"username": "zhou", "name": "周书记"})
    assert response.status_code == 302 and response.location.endswith("/admin/people/zhou")
    assert audit(world, "person.added")[-1] == ("admin", {"username": "zhou", "name": "周书记"})
    page = text(admin.get("/admin/people/zhou"))
    assert "已新增 周书记" in page and "未设密码" in page
    # bad names and taken names come back beside the field
    response = admin.post("/admin/people", data={"username": "a b", "name": "x"})
    assert response.status_code == 422 and 'id="username-error"' in text(response)
    response = admin.post("/admin/people", data={"username": "zhou", "name": "又一个"})
    assert response.status_code == 409 and "该用户名已被使用" in text(response)
    assert admin.post("/admin/people", data={"username": "ok1", "name": "名" * 150}
                      ).status_code == 422
    # a password, checked twice and for strength
    response = admin.post("/admin/people/zhou/password",
                          data={"password": "zhou-2026-pw", "confirm": "zhou-2026-px"})
    assert response.status_code == 422 and "两次输入不一致" in text(response)
    assert admin.post("/admin/people/zhou/password",
                      data={"password": "short", "confirm": "short"}).status_code == 422
    response = admin.post("/admin/people/zhou/password",
                          data={"password": "zhou-2026-pw", "confirm": "zhou-2026-pw"})
    assert response.status_code == 302
    assert world.authenticate("zhou", "zhou-2026-pw") is not None
    assert audit(world, "person.password_set")[-1] == ("admin", {"username": "zhou"})
    # a role in an organisation chosen from the tree, then revoked
    page = text(admin.get("/admin/people/zhou"))
    assert '<option value="v2" ' in page and '<option value="secretary">书记</option>' in page
    assert admin.post("/admin/people/zhou/roles",
                      data={"role": "secretary", "org": "v2"}).status_code == 302
    assert world.person("zhou").roles == (("secretary", "v2"),)
    assert audit(world, "role.granted")[-1] == ("admin", {"username": "zhou", "role": "secretary",
                                                          "org": "v2"})
    assert admin.post("/admin/people/zhou/roles", data={"role": ""}).status_code == 422
    assert admin.post("/admin/people/zhou/roles",
                      data={"role": "nope", "org": "v2"}).status_code == 404
    assert admin.post("/admin/people/zhou/roles/revoke",
                      data={"role": "secretary", "org": "v2"}).status_code == 302
    assert world.person("zhou").roles == ()
    assert audit(world, "role.revoked")[-1][1] == {"username": "zhou", "role": "secretary",
                                                   "org": "v2"}
    assert admin.post("/admin/people/zhou/roles/revoke",
                      data={"role": "secretary", "org": "v2"}).status_code == 404


def test_deactivate_and_activate(app, admin, world):
    assert admin.post("/admin/people/li/active", data={"active": "0"}).status_code == 302
    assert not world.person("li").active
    assert audit(world, "person.deactivated")[-1] == ("admin", {"username": "li"})
    assert "已停用" in text(admin.get("/admin?q=li"))
    # li can no longer sign in
    response = app.test_client().post("/login", data={"username": "li", "password": PASSWORD})
    assert response.status_code == 401
    assert admin.post("/admin/people/li/active", data={"active": "1"}).status_code == 302
    assert world.person("li").active
    assert audit(world, "person.activated")[-1] == ("admin", {"username": "li"})
    # the admin is not offered to deactivate themself
    assert 'name="active"' not in text(admin.get("/admin/people/admin"))


def test_unknown_people_are_not_found(admin):
    for path in ("/admin/people/nobody", "/admin/people/a%00b", "/admin/people/" + "x" * 80,
                 "/admin/people/%E5%BC%A0"):
        assert admin.get(path).status_code == 404, path
    assert admin.post("/admin/people/nobody/active", data={"active": "0"}).status_code == 404
    assert admin.post("/admin/people/a%00b/password",
                      data={"password": "abcd-1234-xy", "confirm": "abcd-1234-xy"}
                      ).status_code == 404


def test_the_organisation_tree_grows(app, admin, world):
    html = text(admin.get("/admin/organisations"))
    assert "县委组织部" in html and "一镇督查室" in html and '<option value="t1" ' in html
    response = admin.post("/admin/organisations", data={"code": "v3", "name": "三村党支部",
                                                        "kind": "branch", "parent": "t1"})
    assert response.status_code == 302
    assert "三村党支部" in text(admin.get("/admin/organisations"))
    assert audit(world, "organisation.added")[-1] == (
        "admin", {"code": "v3", "name": "三村党支部", "kind": "branch", "parent": "t1"})
    assert "v3" in {o.code for o in world.organisations("admin")}
    for data, status in (({"code": "v3", "name": "重复", "kind": "branch"}, 409),
                         ({"code": "bad code!", "name": "x", "kind": "branch"}, 422),
                         ({"code": "v4", "name": "", "kind": "branch"}, 422),
                         ({"code": "v4", "name": "四村", "kind": "planet"}, 422),
                         ({"code": "x" * 65, "name": "长", "kind": "branch"}, 422),
                         ({"code": "v4", "name": "四村", "kind": "branch", "parent": "nope"}, 404)):
        assert admin.post("/admin/organisations", data=data).status_code == status, data
    assert "v4" not in {o.code for o in world.organisations("admin")}


def test_the_admin_pages_fit_in_english_too(app, admin):
    admin.post("/lang/en")
    html = text(admin.get("/admin"))
    assert "Add a person" in html and "People" in html
