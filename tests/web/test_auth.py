"""Sign-in, sign-out, language, own password, and the error pages."""
import re

from tests.web.conftest import PASSWORD
from web import create_app


def test_home_sends_strangers_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "登录" in page


def test_sign_in_and_out(client, auth):
    auth.login("zhang")
    assert client.get("/", follow_redirects=True).status_code == 200
    assert "张书记" in client.get("/account/password").get_data(as_text=True)
    auth.logout()
    assert "/login" in client.get("/account/password").headers["Location"]


def test_wrong_password_is_refused_without_saying_which_part(client):
    bad_pass = client.post("/login", data={"username": "zhang", "password": "nope-1234"})
    bad_name = client.post("/login", data={"username": "nobody", "password": PASSWORD})
    assert bad_pass.status_code == bad_name.status_code == 401
    assert "用户名或密码错误" in bad_pass.get_data(as_text=True)


def test_next_never_leaves_the_site(client):
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(f"/login?next={target}",
                               data={"username": "zhang", "password": PASSWORD})
        assert response.headers["Location"] in ("/", "http://localhost/")
        client.post("/logout")
    response = client.post("/login?next=/account/password",
                           data={"username": "zhang", "password": PASSWORD})
    assert response.headers["Location"] == "/account/password"


def test_language_switches_to_english_and_back(client):
    client.post("/lang/en")
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in page and "Sign in" in page
    client.post("/lang/zh_CN")
    assert "登录" in client.get("/login").get_data(as_text=True)
    assert client.post("/lang/xx").status_code == 404


def test_change_own_password(client, auth):
    auth.login("li")
    response = client.post("/account/password", data={
        "current": "wrong", "password": "new-pass-1", "confirm": "new-pass-1"})
    assert response.status_code == 200 and "当前密码不正确" in response.get_data(as_text=True)
    response = client.post("/account/password", data={
        "current": PASSWORD, "password": "new-pass-1", "confirm": "new-pass-1"})
    assert response.status_code == 302
    auth.logout()
    auth.login("li", "new-pass-1")


def test_csrf_is_required_on_every_form(world):
    app = create_app({"ENGINE": world, "TESTING": True, "SECRET_KEY": "s"})
    client = app.test_client()
    response = client.post("/login", data={"username": "zhang", "password": PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": "zhang", "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302


def test_error_pages_are_pages_in_the_readers_language(client, auth):
    auth.login("zhang")
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "<html" in page and "未找到" in page and "Traceback" not in page
    assert client.get("/healthz").is_json


def test_too_large_upload_is_a_413_page(app, client, auth):
    auth.login("zhang")
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    response = client.post("/account/password", data=big,
                           content_type="multipart/form-data; boundary=xyz")
    assert response.status_code == 413
    assert "上传的文件太大" in response.get_data(as_text=True)


def test_vendor_serves_only_listed_packages(client):
    assert client.get("/vendor/left-pad/index.js").status_code == 404
    assert client.get("/vendor/bpmn-js/../../package.json").status_code == 404
