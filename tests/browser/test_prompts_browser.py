"""The prompt library in real Chromium: the listen button plays the rendered voice."""
import pytest

# wait_for_function needs eval, which the pages' CSP forbids (ecti.testing.page)
pytestmark = [pytest.mark.browser, pytest.mark.bypass_csp]


@pytest.fixture
def admin(make_tenant, make_user):
    return make_user(make_tenant(), role="admin", email="admin@acme.example")


def sign_in(page, live_server, user):
    page.goto(live_server + "/login")
    page.get_by_label("メールアドレス").fill(user.email)
    page.get_by_label("パスワード").fill(user.password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live_server + "/")


def test_listen_plays_the_open_jtalk_rendering_and_save_adds_the_prompt(page, live_server, admin, tmp_path):
    sign_in(page, live_server, admin)
    page.get_by_role("link", name="音声ガイダンス").first.click()
    form = page.locator("#new-prompt")
    form.get_by_label("読み上げる文章").fill("お電話ありがとうございます。")
    form.get_by_label("音声の種類").select_option("openjtalk")
    assert form.locator("select[name=voice]").input_value() == "mei_normal"  # the voices follow the provider
    form.get_by_label("感情").select_option("joy")
    form.get_by_role("button", name="試聴").click()
    player = form.locator("audio[data-listen-player]")
    player.wait_for(state="visible")
    page.wait_for_function("document.querySelector('#new-prompt audio').duration > 1")
    page.screenshot(path=str(tmp_path / "prompts.png"))
    form.get_by_role("button", name="保存").click()
    page.get_by_text("音声ガイダンス「お電話ありがとうございます。」を保存しました。").wait_for()
    assert page.locator("table.prompts").get_by_role("link", name="お電話ありがとうございます。").is_visible()


def test_a_twilio_voice_says_how_it_is_previewed_and_errors_show_in_the_page(page, live_server, admin):
    sign_in(page, live_server, admin)
    page.goto(live_server + "/admin/prompts")
    form = page.locator("#new-prompt")
    form.get_by_label("音声の種類").select_option("twilio")
    assert form.get_by_text("通話中に通信事業者（Twilio）が読み上げます").is_visible()
    form.get_by_role("button", name="試聴").click()  # no text yet
    form.get_by_role("alert").filter(has_text="話す文章を入力してください。").wait_for()
