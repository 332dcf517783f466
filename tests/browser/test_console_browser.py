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
    # The language switch is in the account menu, which opens from the keyboard too.
    page.locator("summary.ecti-menu__trigger").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="English").click()
    assert page.get_by_text("Welcome, 管理 花子.").is_visible()
    assert page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Users").is_visible()


def test_each_role_lands_where_it_works_and_next_is_respected(page, live_server, demo, db, make_user):
    from ecti.tenancy.models import Tenant

    tenant = db.query(Tenant).filter_by(slug="demo").one()
    boss = make_user(tenant, role="supervisor", email="boss@demo.example")
    for role, user, landing in (("agent", demo["agent"], "/phone"), ("supervisor", (boss.email, boss.password), "/reports/wallboard"),
                                ("operator", demo["operator"], "/operator/tenants")):
        page.context.clear_cookies()
        page.goto(live_server + "/login")
        page.get_by_label("メールアドレス").fill(user[0])
        page.get_by_label("パスワード").fill(user[1])
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url(live_server + landing)
        nav = page.get_by_role("navigation", name="メインメニュー")
        if role == "agent":  # only the calls group: the phone, their calls, voicemail and SMS
            assert nav.get_by_role("heading").all_inner_texts() == ["通話"]
            assert nav.get_by_role("link").all_inner_texts() == ["ソフトフォン", "会話一覧", "留守番電話の受信箱", "SMS"]
            assert nav.get_by_role("link", name="ソフトフォン").get_attribute("aria-current") == "page"
        elif role == "supervisor":
            # The wallboard is a wall screen of its own (no console around it); its link leads back.
            assert nav.count() == 0
            page.get_by_role("link", name="レポート").click()
            page.wait_for_url(live_server + "/reports/queues*")
            assert nav.get_by_role("heading").all_inner_texts()[:2] == ["通話", "分析"]
            assert "管理" not in nav.get_by_role("heading").all_inner_texts()
        else:
            assert nav.get_by_role("heading").all_inner_texts() == ["運用"]
    # An explicit next= wins over the landing page.
    page.context.clear_cookies()
    page.goto(live_server + "/login?next=/voicemail")
    page.get_by_label("メールアドレス").fill(demo["agent"][0])
    page.get_by_label("パスワード").fill(demo["agent"][1])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live_server + "/voicemail")


def test_the_navigation_folds_away_on_a_narrow_screen(page, live_server, demo):
    email, password = demo["admin"]
    page.set_viewport_size({"width": 800, "height": 700})
    page.goto(live_server + "/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    nav = page.get_by_role("navigation", name="メインメニュー")
    assert not nav.is_visible()
    toggle = page.get_by_role("button", name="メニュー")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert nav.is_visible() and toggle.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Escape")
    assert not nav.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_wrong_password_shows_the_reason(page, live_server, demo):
    email, _password = demo["admin"]
    page.goto(live_server + "/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill("wrong password")
    page.get_by_role("button", name="ログイン").click()
    assert page.get_by_role("alert").inner_text() == "メールアドレスまたはパスワードが違います。"
