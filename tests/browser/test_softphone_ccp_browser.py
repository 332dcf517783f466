"""The softphone as complete as a CCP (issue 18), in Chromium against the Twilio simulator: the one
status control through ringing, talking and wrap-up; visible hold and mute; busy / no answer told
apart; the wrap-up's disposition and note; SMS with the caller; screenshots at 400×600."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ecti.calls.models import Call
from ecti.db import all_tenants
from ecti.dispositions.models import DispositionCode
from ecti_twilio.provisioning import sync_tenant
from ecti_twilio.testing import ACCOUNT_SID, CALLER

from .test_softphone_browser import go_available, queue_for, sign_in, wait_until  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
SHOTS = "/tmp/shots/phone"
SMS_NUMBER = "+14155550100"


def shot(page, name):
    page.screenshot(path=f"{SHOTS}/{name}.png")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name}: the panel scrolls sideways"


def the_call(db, **where):
    db.expire_all()
    with all_tenants(db):
        call = db.scalars(select(Call).filter_by(**where).order_by(Call.id.desc())).first()
    db.rollback()
    return call


@pytest.fixture
def dispositions(telephony, db):
    db.add_all([DispositionCode(tenant_id=telephony.tenant.id, code="sale", label="成約", position=1, active=True),
                DispositionCode(tenant_id=telephony.tenant.id, code="info", label="資料送付", position=2, active=True),
                DispositionCode(tenant_id=telephony.tenant.id, code="old", label="旧コード", position=3, active=False)])
    db.commit()


def test_one_status_control_hold_mute_disposition_note_and_sms_with_the_caller(telephony, make_user, page, queue_for, dispositions, db):
    telephony.sim.add_number(ACCOUNT_SID, SMS_NUMBER, voice=False, sms=True, friendly_name="SMS")
    sync_tenant(db, telephony.registry, telephony.tenant, telephony.base_url)
    db.commit()
    agent = make_user(telephony.tenant, role="agent", name="青木 一郎")
    queue_for(agent)
    page.set_viewport_size({"width": 400, "height": 600})
    sign_in(page, telephony.base_url, agent)
    go_available(page)
    state = page.locator(".sp-state")
    expect(state).to_have_attribute("data-system", "false")
    expect(page.locator(".sp-state-next")).to_be_hidden()
    shot(page, "ja-available")

    telephony.dial()
    ringing = page.get_by_role("region", name="着信")
    expect(ringing).to_be_visible()
    # Ringing: the system's state, and the agent's choice underneath ("次は: 待機中"), never both as the state.
    expect(page.locator(".sp-status")).to_have_text("呼び出し中")
    expect(page.locator(".sp-state-next")).to_have_text("次は:")
    expect(page.get_by_label("ステータスを変更")).to_have_value("available")
    shot(page, "ja-ringing")
    ringing.get_by_role("button", name="応答", exact=True).click()

    in_call = page.get_by_role("region", name="通話中の電話")
    expect(page.locator(".sp-status")).to_have_text("会話中")
    expect(in_call.locator(".sp-call-queue")).to_have_text("サポート")
    # The agent picks what comes after the call while talking: the state stays 会話中.
    page.get_by_label("ステータスを変更").select_option("away:休憩")
    expect(page.locator(".sp-status")).to_have_text("会話中")
    expect(page.get_by_label("ステータスを変更")).to_have_value("away:休憩")

    in_call.get_by_role("button", name="保留", exact=True).click()
    expect(in_call.get_by_role("button", name="保留中", exact=True)).to_have_attribute("aria-pressed", "true")
    in_call.get_by_role("button", name="ミュート", exact=True).click()
    expect(in_call.locator(".sp-badge-hold")).to_have_text("保留中")
    expect(in_call.locator(".sp-badge-mute")).to_have_text("ミュート中")
    shot(page, "ja-on-hold-muted")
    in_call.get_by_role("button", name="保留中", exact=True).click()
    expect(in_call.locator(".sp-badge-hold")).to_be_hidden()

    # SMS with the caller, from the call card: the number is the caller's.
    in_call.get_by_role("button", name="SMS").click()
    sms = page.get_by_role("region", name="SMS")
    expect(sms.get_by_label("宛先")).to_have_value(CALLER)
    expect(sms.locator(".sp-sms-empty")).to_be_visible()
    sms.get_by_label("メッセージ").fill("先ほどはお電話ありがとうございました。")
    sms.get_by_role("button", name="送信", exact=True).click()
    expect(sms.locator(".sp-sms-outbound")).to_contain_text("先ほどはお電話ありがとうございました。")
    wait_until(lambda: any("先ほどは" in m["body"] for m in telephony.sim.phone(CALLER).messages))
    shot(page, "ja-sms")
    sms.get_by_role("button", name="閉じる").click()

    # The wrap-up form is there during the call; the inactive code is not offered.
    wrap = page.get_by_role("region", name="後処理", exact=True)
    expect(wrap).to_be_visible()
    expect(wrap.locator("#sp-disposition option")).to_have_text(["処理コードを選択", "成約", "資料送付"])
    in_call.get_by_role("button", name="切る", exact=True).click()
    expect(in_call).to_be_hidden()
    expect(page.locator(".sp-status")).to_have_text("後処理（自動）")
    expect(page.locator(".sp-state-next")).to_be_visible()
    wrap.get_by_label("処理コード").select_option("sale")
    wrap.get_by_label("メモ").fill("見積書を送付。来週再連絡。")
    shot(page, "ja-wrap-up")
    wrap.get_by_role("button", name="保存", exact=True).click()
    expect(wrap.locator(".sp-wrap-saved")).to_have_text("保存しました。")
    call = the_call(db, tenant_id=telephony.tenant.id, from_number=CALLER)
    assert (call.disposition, call.disposition_label, call.wrap_up_note) == ("sale", "成約", "見積書を送付。来週再連絡。")
    wrap.get_by_role("button", name="受付可能にする").click()
    # After the call: what the agent chose while talking.
    expect(page.locator(".sp-status")).to_have_text("離席中（休憩）")
    expect(wrap).to_be_hidden()
    expect(page.get_by_role("region", name="通話履歴").locator(".sp-log-item").first).to_contain_text("成約")

    # The conversation list shows it, and filters by it.
    page.goto(telephony.base_url + "/calls?disposition=sale")
    row = page.locator(f"#calls tr[data-call='{call.id}']")
    expect(row.locator(".disposition")).to_contain_text("成約")
    expect(row.locator(".disposition")).to_contain_text("見積書を送付")
    page.goto(telephony.base_url + "/calls?disposition=info")
    expect(page.locator("#no-calls")).to_be_visible()
    assert telephony.sim.errors == []


def place_call(page, telephony, agent, number):
    """Sign in at 400×600 and dial ``number`` from the phone, showing the main number."""
    page.set_viewport_size({"width": 400, "height": 600})
    sign_in(page, telephony.base_url, agent)
    dial = page.get_by_role("region", name="発信")
    dial.get_by_label("発信者番号").select_option(telephony.number)
    dial.get_by_label("発信先の番号").fill(number)
    dial.get_by_role("button", name="発信", exact=True).click()


@pytest.mark.parametrize("behaviour, words, history", [
    ("busy", "話し中でした。", "話し中"),
    ("no-answer", "応答がありませんでした。", "応答なし"),
])
def test_an_outgoing_call_that_does_not_get_through_says_why(telephony, make_user, page, behaviour, words, history):
    agent = make_user(telephony.tenant, role="agent")
    phone = telephony.sim.phone("+81312345678")
    phone.behaviour = behaviour
    place_call(page, telephony, agent, "03-1234-5678")
    in_call = page.get_by_role("region", name="通話中の電話")
    expect(in_call).to_be_visible()
    expect(page.locator(".sp-status")).to_have_text("会話中")
    if behaviour == "no-answer":
        wait_until(lambda: phone.ringing is not None)
        telephony.sim.advance(46)  # the dial's 45 s timeout
    expect(in_call).to_be_hidden(timeout=15_000)
    expect(page.locator(".sp-notice")).to_have_text(f"{words} (03-1234-5678)")
    first = page.get_by_role("region", name="通話履歴").locator(".sp-log-item").first
    expect(first).to_contain_text(history)
    expect(first).not_to_contain_text("不通")
    # The wrap-up of an outgoing call: a note is kept on the call record.
    wrap = page.get_by_role("region", name="後処理", exact=True)
    wrap.get_by_label("メモ").fill("不在。夕方にかけ直す。")
    wrap.get_by_role("button", name="保存", exact=True).click()
    expect(wrap.locator(".sp-wrap-saved")).to_have_text("保存しました。")
    shot(page, f"ja-outgoing-{behaviour}")
    wrap.get_by_role("button", name="閉じる").click()
    expect(wrap).to_be_hidden()
    assert telephony.sim.errors == []


def test_the_panel_at_400_by_600_in_english(telephony, make_user, page, queue_for, dispositions):
    agent = make_user(telephony.tenant, role="agent")
    queue_for(agent)
    page.set_viewport_size({"width": 400, "height": 600})
    sign_in(page, telephony.base_url, agent)
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Agent log")).to_be_visible()
    page.get_by_label("Change status").select_option("available")
    expect(page.locator(".sp-status")).to_have_text("Available")
    shot(page, "en-available")
    telephony.dial()
    page.get_by_role("region", name="Incoming call").get_by_role("button", name="Answer", exact=True).click()
    in_call = page.get_by_role("region", name="Current call")
    in_call.get_by_role("button", name="Hold", exact=True).click()
    in_call.get_by_role("button", name="Mute", exact=True).click()
    expect(in_call.get_by_role("button", name="On hold", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".sp-state-next")).to_have_text("Next:")
    in_call.get_by_role("button", name="Transfer").click()
    shot(page, "en-on-call-transfer")
    in_call.get_by_role("button", name="Hang up", exact=True).click()
    expect(page.locator(".sp-status")).to_have_text("Wrap-up")
    shot(page, "en-wrap-up")


def conference(sim, prefix: str):
    """The simulator's conference whose name starts with ``prefix``: (status, {party number: on hold})."""
    with sim.lock:
        for conf in sim.conferences.values():
            if conf.friendly_name.startswith(prefix) and conf.status != "completed":
                live = [p for p in conf.participants if p.status not in ("complete", "failed")]
                return conf.status, {("agent" if p.call.from_.startswith("client:") else p.call.to): p.hold for p in live}
    return None, {}


def test_an_outgoing_call_is_held_resumed_and_transferred_to_a_number(telephony, make_user, page):
    agent = make_user(telephony.tenant, role="agent")
    place_call(page, telephony, agent, "03-1234-5678")
    callee = telephony.sim.phone("+81312345678")
    wait_until(lambda: callee.active is not None)
    in_call = page.get_by_role("region", name="通話中の電話")
    expect(in_call.locator(".sp-direction")).to_have_text("発信")

    # First hold: the called party waits in the call's conference (it has not started: no talk).
    in_call.get_by_role("button", name="保留", exact=True).click()
    expect(in_call.get_by_role("button", name="保留中", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(in_call.locator(".sp-badge-hold")).to_be_visible()
    wait_until(lambda: conference(telephony.sim, "out-")[1].keys() == {"+81312345678", "agent"})
    assert conference(telephony.sim, "out-")[0] != "in-progress"
    shot(page, "ja-outgoing-on-hold")
    # Resume: the agent starts the conference, both talk.
    in_call.get_by_role("button", name="保留中", exact=True).click()
    expect(in_call.get_by_role("button", name="保留", exact=True)).to_have_attribute("aria-pressed", "false")
    wait_until(lambda: conference(telephony.sim, "out-") == ("in-progress", {"+81312345678": False, "agent": False}))
    # From now on hold is the conference's participant hold.
    in_call.get_by_role("button", name="保留", exact=True).click()
    wait_until(lambda: conference(telephony.sim, "out-")[1].get("+81312345678") is True)
    in_call.get_by_role("button", name="保留中", exact=True).click()
    wait_until(lambda: conference(telephony.sim, "out-")[1].get("+81312345678") is False)
    in_call.get_by_role("button", name="キーパッド").click()
    in_call.locator(".sp-call-keypad").get_by_role("button", name="3", exact=True).click()

    # A blind transfer to another number: the called party is put through, the agent's call ends.
    in_call.get_by_role("button", name="転送").click()
    expect(in_call.get_by_label("オペレーターへ転送")).to_be_hidden()
    in_call.get_by_label("番号へ転送").fill("03-9999-0000")
    in_call.locator("[data-action=transfer-number]").click()
    target = telephony.sim.phone("+81399990000")
    wait_until(lambda: target.active is not None)
    expect(in_call).to_be_hidden(timeout=10_000)
    first = page.get_by_role("region", name="通話履歴").locator(".sp-log-item").first
    expect(first).to_contain_text("03-1234-5678")
    expect(first).to_contain_text("転送")
    assert callee.active is not None and callee.active.peer is not None  # the called party talks to the new number
    assert telephony.sim.errors == []
