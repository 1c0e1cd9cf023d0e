"""A person signs in on a phone and sees the interface in Chinese."""
from tests.e2e.conftest import no_horizontal_scroll, screenshot, sign_in


def test_sign_in_on_a_phone(phone):
    phone.goto("/")
    assert "登录" in phone.inner_text("h1")
    assert no_horizontal_scroll(phone)
    screenshot(phone, "sign-in-phone")
    phone.fill("input[name=username]", "zhang")
    phone.fill("input[name=password]", "wrong-1234")
    phone.click("main button[type=submit]")
    assert "用户名或密码错误" in phone.inner_text("main")
    sign_in(phone, "zhang")
    assert "张书记" in phone.inner_text("header")
    assert no_horizontal_scroll(phone)
