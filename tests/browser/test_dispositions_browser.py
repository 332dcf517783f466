"""The disposition codes page (設定 → 処理コード) and where dispositions show, in Chromium at
1366×768 and 1920×1080, Japanese and English (screenshots in /tmp/shots/phone/)."""
import pytest

from ecti.testing import switch_to_english
from playwright.sync_api import expect


pytestmark = pytest.mark.browser
SHOTS = "/tmp/shots/phone"


def no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_admin_keeps_the_codes_and_sees_them_in_the_console(page, live_server, demo):  # noqa: F811
    email, password = demo["admin"]
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(live_server + "/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live_server + "/")
    page.get_by_role("link", name="処理コード").first.click()
    page.wait_for_url(live_server + "/admin/dispositions")
    table = page.get_by_role("table", name="処理コード")
    expect(table.locator("tr[data-code=resolved] .disp-label")).to_have_value("解決")  # the demo's codes
    add = page.locator("#add-disposition")
    add.get_by_label("コード").fill("resolved")
    add.get_by_label("表示名").fill("重複")
    add.get_by_role("button", name="追加").click()
    expect(page.get_by_role("alert")).to_contain_text("コード resolved はすでにあります")
    add.get_by_label("コード").fill("escalated")
    add.get_by_label("表示名").fill("上位者へ引き継ぎ")
    add.get_by_role("button", name="追加").click()
    expect(table.locator("tr[data-code=escalated] .disp-label")).to_have_value("上位者へ引き継ぎ")
    for width, height in ((1366, 768), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        no_sideways_scroll(page)
        page.screenshot(path=f"{SHOTS}/console-dispositions-ja-{width}.png", full_page=True)
    page.goto(live_server + "/calls")
    expect(page.get_by_label("処理コード")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/console-calls-ja-1920.png")
    page.goto(live_server + "/reports/center")
    expect(page.locator("#dispositions-table")).to_be_visible()
    switch_to_english(page)
    page.goto(live_server + "/admin/dispositions")
    expect(page.get_by_role("heading", name="Disposition codes")).to_be_visible()
    for width, height in ((1366, 768), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=f"{SHOTS}/console-dispositions-en-{width}.png", full_page=True)
