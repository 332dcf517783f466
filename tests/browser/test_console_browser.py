"""The console in real Chromium: the demo sign-in works and the page is Japanese."""
import pytest

pytestmark = pytest.mark.browser


def test_demo_admin_signs_in_and_sees_the_japanese_console(page, live_server, demo, tmp_path):
    email, password = demo["admin"]
    page.goto(live_server + "/")
    assert "/login" in page.url
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live_server + "/")
    assert page.get_by_text("ようこそ、管理 花子 さん。").is_visible()
    assert page.get_by_role("link", name="ユーザー").first.is_visible()
    page.screenshot(path=str(tmp_path / "console.png"))
    page.get_by_role("button", name="English").click()
    assert page.get_by_text("Welcome, 管理 花子.").is_visible()


def test_a_wrong_password_shows_the_reason(page, live_server, demo):
    email, _password = demo["admin"]
    page.goto(live_server + "/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill("wrong password")
    page.get_by_role("button", name="ログイン").click()
    assert page.get_by_role("alert").inner_text() == "メールアドレスまたはパスワードが違います。"
