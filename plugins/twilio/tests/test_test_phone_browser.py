"""The development "test phone" page, in Chromium: a simulated call and what the caller hears."""
import pytest

pytestmark = pytest.mark.browser


def test_an_admin_places_a_test_call_and_sees_what_the_caller_hears(telephony, make_user, page):
    admin = make_user(telephony.tenant, role="admin")
    page.goto(telephony.base_url + "/login")
    page.get_by_label("メールアドレス").fill(admin.email)
    page.get_by_label("パスワード").fill(admin.password)
    page.get_by_role("button", name="ログイン").click()
    page.get_by_role("navigation").get_by_role("link", name="テスト電話").click()
    page.get_by_label("発信元の番号").fill("+819033334444")
    page.get_by_role("button", name="発信").click()
    first = page.locator(".heard li").first
    first.wait_for()
    [call] = [c for c in telephony.sim.calls.values() if c.from_ == "+819033334444"]
    assert first.inner_text() == telephony.sim.call(call.sid).said()[0]
    assert page.get_by_role("status").inner_text() == "通話は終了しました。"


def test_the_page_does_not_exist_when_twilio_is_real(webtest, login, make_tenant, make_user):
    login(webtest, make_user(make_tenant(), role="admin"))
    assert webtest.get("/twilio/test-phone", expect_errors=True).status_int == 404
