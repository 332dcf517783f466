"""The SMS form in Chromium: the live counter for Japanese text, then a message sent for real
(to the simulator) and its delivery shown."""
import pytest

from ecti.messaging.segments import count_segments
from ecti_twilio.provisioning import sync_tenant
from ecti_twilio.testing import ACCOUNT_SID

pytestmark = pytest.mark.browser

SMS_NUMBER = "+14155550100"
CUSTOMER = "+819012345678"


@pytest.fixture
def signed_in(telephony, make_user, db, page):
    telephony.sim.add_number(ACCOUNT_SID, SMS_NUMBER, voice=False, sms=True, friendly_name="SMS")
    sync_tenant(db, telephony.registry, telephony.tenant, telephony.base_url)
    db.commit()
    agent = make_user(telephony.tenant, role="agent")
    page.goto(telephony.base_url + "/login")
    page.get_by_label("メールアドレス").fill(agent.email)
    page.get_by_label("パスワード").fill(agent.password)
    page.get_by_role("button", name="ログイン").click()
    page.get_by_role("navigation").get_by_role("link", name="SMS").click()
    page.wait_for_url(telephony.base_url + "/sms")
    return page


def test_the_counter_shows_characters_and_segments_of_japanese_text_as_you_type(signed_in):
    page = signed_in
    counter = page.locator("#sms-form .sms-counter")
    body = page.get_by_label("本文")
    body.fill("あ" * 70)
    assert counter.inner_text() == "70 文字 · 1 通（UCS-2）· あと 0 文字"
    body.fill("あ" * 71)
    assert counter.inner_text() == "71 文字 · 2 通（UCS-2）· あと 63 文字"
    body.fill("Hello")
    assert counter.inner_text() == "5 文字 · 1 通（GSM-7）· あと 155 文字"
    body.fill("い" * 671)
    assert counter.inner_text() == "671 文字 · 11 通（UCS-2）: 長すぎます。最大 10 通（670 文字）まで"
    assert "error" in counter.get_attribute("class")


SAMPLES = ["", "a" * 160, "a" * 161, "{" * 80, "{" * 81, "€uro [test] ~ | ^", "é£¥ ÄÖÑÜ§¿", "絵文字😀" * 20, "改行\nあり",
           "`backtick`", "あ" * 134, "あ" * 135]


def test_the_browser_counts_exactly_like_the_server(signed_in):
    counted = signed_in.evaluate("samples => samples.map(window.ectiCountSegments)", SAMPLES)
    in_browser = [(c["encoding"], c["characters"], c["segments"], c["remaining"]) for c in counted]
    on_server = [(c.encoding, c.characters, c.segments, c.remaining) for c in map(count_segments, SAMPLES)]
    assert in_browser == on_server


def test_an_agent_sends_an_sms_and_sees_it_delivered(signed_in, telephony):
    page = signed_in
    page.get_by_label("送信元の番号").select_option(SMS_NUMBER)
    page.get_by_label("宛先").fill("+81 90-1234-5678")
    page.get_by_label("本文").fill("本日はお電話ありがとうございました。")
    page.get_by_role("button", name="SMS を送信").click()
    page.wait_for_url(f"{telephony.base_url}/sms/conversations/{CUSTOMER}")
    assert page.locator(".flash").inner_text() == "090-1234-5678 宛ての SMS を通信事業者に渡しました。"
    telephony.sim.settle()
    page.reload()
    latest = page.locator("#sms-messages li").first
    assert latest.locator(".body").inner_text() == "本日はお電話ありがとうございました。"
    assert latest.locator(".sms-status").inner_text() == "到達"
    assert "到達を報告しないことがあります" in page.locator(".note").inner_text()
