"""The softphone in Chromium against the Twilio simulator (the simulator device adapter).

An ``inbound.start`` handler that sends every call to the queue stands in for the IVR here.
"""

import pytest
from playwright.sync_api import expect

from ecti.acd.models import Queue, QueueMember
from ecti.testing import wait_until
from ecti.voice import HANDLERS_KEY, dispatch
from ecti_twilio.testing import CALLER, FREE_DIAL

pytestmark = pytest.mark.browser



def sign_in(page, base_url, user):
    page.goto(base_url + "/login?next=/softphone")
    page.get_by_label("メールアドレス").fill(user.email)
    page.get_by_label("パスワード").fill(user.password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/softphone")
    expect(page.locator(".sp-device")).to_have_attribute("data-ready", "true")


def go_available(page):
    page.get_by_label("ステータスを変更").select_option("available")
    expect(page.locator(".sp-status")).to_have_text("待機中")


@pytest.fixture
def queue_for(telephony, db):
    def make(*agents):
        queue = Queue(tenant_id=telephony.tenant.id, name="サポート", overflow={}, hold_audio={},
                      ring_timeout=600, wrap_up_seconds=600, announce_position=False, announce_wait=False)
        db.add(queue)
        db.flush()
        db.add_all([QueueMember(tenant_id=telephony.tenant.id, queue_id=queue.id, user_id=a.id, level=1, position=i)
                    for i, a in enumerate(agents, 1)])
        db.commit()

        def to_queue(request, call, args, call_input):  # the IVR's queue node, in short
            return dispatch(request, call, "acd.enqueue", {"queue": str(queue.id)}, call_input)

        telephony.registry[HANDLERS_KEY]["inbound.start"] = to_queue
        return queue

    return make


def test_a_queued_call_is_answered_held_transferred_and_ended(telephony, make_user, page, chromium, queue_for):
    a = make_user(telephony.tenant, role="agent", name="青木 一郎")
    b = make_user(telephony.tenant, role="agent", name="別所 花子")
    queue_for(a, b)
    context_b = chromium.new_context(locale="ja-JP", viewport={"width": 300, "height": 500})
    page_b = context_b.new_page()
    page_b.set_default_timeout(30_000)
    try:
        sign_in(page, telephony.base_url, a)
        sign_in(page_b, telephony.base_url, b)
        go_available(page)

        caller = telephony.dial()
        ringing = page.get_by_role("region", name="着信")
        expect(ringing).to_be_visible()
        expect(ringing.locator(".sp-number")).to_have_text("090-1111-2222")
        expect(ringing.locator(".sp-queue")).to_contain_text("サポート")
        ringing.get_by_role("button", name="応答", exact=True).click()

        in_call = page.get_by_role("region", name="通話中の電話")
        expect(in_call).to_be_visible()
        expect(page.locator(".sp-status")).to_have_text("会話中")
        expect(in_call.locator(".sp-number")).to_have_text("090-1111-2222")
        # One status control: the system's state, and what comes next underneath.
        expect(page.locator(".sp-state-next")).to_be_visible()
        expect(page.get_by_label("ステータスを変更")).to_have_value("available")
        in_call.get_by_role("button", name="保留", exact=True).click()
        held = in_call.get_by_role("button", name="保留中", exact=True)
        expect(held).to_have_attribute("aria-pressed", "true")
        expect(in_call.locator(".sp-badge-hold")).to_be_visible()
        held.click()
        expect(in_call.get_by_role("button", name="保留", exact=True)).to_have_attribute("aria-pressed", "false")
        expect(in_call.locator(".sp-badge-hold")).to_be_hidden()

        go_available(page_b)
        in_call.locator("[data-action=transfer-open]").click()
        expect(page.locator(f"#sp-transfer-agent option[value='{b.id}']")).to_be_enabled()
        page.get_by_label("オペレーターへ転送").select_option(str(b.id))
        in_call.locator("[data-action=transfer-agent]").click()
        expect(in_call.locator(".sp-callstate")).to_contain_text("別所 花子")

        ringing_b = page_b.get_by_role("region", name="着信")
        expect(ringing_b.locator(".sp-number")).to_have_text("090-1111-2222")
        ringing_b.get_by_role("button", name="応答", exact=True).click()
        expect(page_b.get_by_role("region", name="通話中の電話")).to_be_visible()
        # A's part of the call ends once B answered; A is in wrap-up.
        expect(in_call).to_be_hidden()
        expect(page.locator(".sp-status")).to_have_text("後処理（自動）")

        page_b.get_by_role("region", name="通話中の電話").get_by_role("button", name="切る", exact=True).click()
        expect(page_b.locator(".sp-status")).to_have_text("後処理（自動）")
        wrap_b = page_b.get_by_role("region", name="後処理", exact=True)
        expect(wrap_b).to_be_visible()
        expect(wrap_b.locator(".sp-countdown")).to_contain_text("後処理: 残り")
        wrap_b.get_by_role("button", name="受付可能にする").click()
        expect(page_b.locator(".sp-status")).to_have_text("待機中")

        log_a = page.get_by_role("region", name="通話履歴")
        expect(log_a.locator(".sp-log-item").first).to_contain_text("090-1111-2222")
        expect(log_a.locator(".sp-log-item").first).to_contain_text("転送")
        assert telephony.sim.call(caller.sid).status == "completed"
        assert telephony.sim.errors == []
    finally:
        context_b.close()


def test_outbound_refused_numbers_show_why_and_allowed_ones_use_the_chosen_caller_id(telephony, make_user, page):
    agent = make_user(telephony.tenant, role="agent")
    sign_in(page, telephony.base_url, agent)
    dial = page.get_by_role("region", name="発信")
    dial.get_by_label("発信者番号").select_option(telephony.number)
    dial.get_by_label("発信先の番号").fill("0120-444-555")
    dial.get_by_role("button", name="発信", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("0120")
    expect(page.get_by_role("alert")).to_contain_text("050")
    assert not [c for c in telephony.sim.calls.values() if c.to in ("+81120444555", "0120-444-555")]

    dial.get_by_label("発信者番号").select_option(FREE_DIAL)
    dial.get_by_label("発信先の番号").fill("")
    for key in "0312345678":
        dial.get_by_role("button", name=key, exact=True).click()
    dial.get_by_role("button", name="発信", exact=True).click()
    in_call = page.get_by_role("region", name="通話中の電話")
    expect(in_call.locator(".sp-number")).to_have_text("03-1234-5678")
    expect(page.locator(".sp-error")).to_be_empty()
    phone = telephony.sim.phone("+81312345678")
    wait_until(lambda: phone.active is not None)
    [leg] = [c for c in telephony.sim.calls.values() if c.to == "+81312345678" and not c.from_.startswith("client:")]
    assert leg.from_ == FREE_DIAL  # the chosen caller ID
    in_call.get_by_role("button", name="ミュート", exact=True).click()
    expect(in_call.get_by_role("button", name="ミュート中", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(in_call.locator(".sp-badge-mute")).to_be_visible()
    in_call.get_by_role("button", name="キーパッド").click()
    in_call.locator(".sp-call-keypad").get_by_role("button", name="5", exact=True).click()
    wait_until(lambda: any(e["event"] == "dtmf" for c in telephony.sim.calls.values() if c.to == "+81312345678"
                           for e in telephony.sim.call(c.sid).events))
    in_call.get_by_role("button", name="切る", exact=True).click()
    expect(in_call).to_be_hidden()
    expect(page.get_by_role("region", name="通話履歴").locator(".sp-log-item").first).to_contain_text("03-1234-5678")
    assert telephony.sim.errors == []


def test_the_panel_fits_300_by_500_declines_a_call_sets_away_and_speaks_english(telephony, make_user, page, queue_for):
    agent = make_user(telephony.tenant, role="agent")
    queue_for(agent)
    page.set_viewport_size({"width": 300, "height": 500})
    sign_in(page, telephony.base_url, agent)
    assert page.evaluate("document.documentElement.scrollWidth") <= 300
    go_available(page)
    telephony.dial()
    ringing = page.get_by_role("region", name="着信")
    ringing.get_by_role("button", name="拒否").click()
    expect(ringing).to_be_hidden()
    [leg] = [c for c in telephony.sim.calls.values() if c.to == f"client:agent-{agent.id}"]
    wait_until(lambda: telephony.sim.call(leg.sid).status in ("busy", "canceled", "completed"))

    page.get_by_label("ステータスを変更").select_option("away:昼食")
    expect(page.locator(".sp-status")).to_have_text("離席中（昼食）")

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Agent log")).to_be_visible()
    expect(page.locator(".sp-status")).to_have_text("Away (昼食)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 300


def test_the_browser_check_page(telephony, make_user, page):
    sign_in(page, telephony.base_url, make_user(telephony.tenant, role="agent"))
    page.goto(telephony.base_url + "/softphone/check")
    expect(page.locator("[data-check=webrtc]")).to_have_text("OK")
    expect(page.locator("[data-check=microphone]")).not_to_have_text("…")


def test_the_token_is_renewed_before_it_expires(telephony, make_user, page):
    agent = make_user(telephony.tenant, role="agent")
    issued = []

    def short_lived(route):
        response = route.fetch()
        body = response.json()
        issued.append(body["token"])
        route.fulfill(response=response, json={**body, "ttl_seconds": 2})  # renewed after 1 s

    page.route("**/api/v1/softphone/token", short_lived)
    sign_in(page, telephony.base_url, agent)
    wait_until(lambda: len(issued) >= 2, page=page, what="the token was not renewed")  # (route handlers run while Playwright waits)


# --- presence from the connection (issue 18) ----------------------------------------------------

PHONE_TIMEOUT = 3  # seconds: short here (the default is 30); the heartbeat beats every second


@pytest.fixture
def app_settings(app_settings, engine):
    from ecti.push.testing import free_port

    # A push server address (started only by the tests that use `push_server`).
    settings = {**app_settings, "ecti.acd.phone_timeout_seconds": str(PHONE_TIMEOUT),
                "ecti.push.url": f"http://127.0.0.1:{free_port()}/push/events"}
    if engine.dialect.name != "postgresql":
        settings["ecti.push.backend"] = f"udp://127.0.0.1:{free_port()}"
    return settings


@pytest.fixture
def push_server(app_settings, tmp_path):
    from urllib.parse import urlsplit

    from ecti.push.testing import free_port, push_process, write_ini

    port = urlsplit(app_settings["ecti.push.url"]).port
    ini = write_ini(tmp_path / "push.ini", app_settings, free_port())
    with push_process(ini, port, tmp_path / "push.log"):
        yield f"http://127.0.0.1:{port}"


def test_the_softphone_learns_a_change_made_elsewhere_through_the_push_channel(telephony, make_user, page, push_server, login):
    a = make_user(telephony.tenant, role="agent", name="青木 一郎")
    boss = make_user(telephony.tenant, role="supervisor", name="監督 三郎")
    page.set_viewport_size({"width": 400, "height": 600})
    sign_in(page, telephony.base_url, a)
    go_available(page)
    expect(page.locator("#softphone")).to_have_attribute("data-live", "true")
    # While the stream is up the page polls only every 15 s: a change within a few seconds came by push.
    csrf = login(telephony.webtest, boss)
    telephony.webtest.put_json(f"/api/v1/acd/agents/{a.id}/presence", {"presence": "away", "reason": "研修"},
                               headers={"X-CSRF-Token": csrf})
    expect(page.locator(".sp-status")).to_have_text("離席中（研修）", timeout=5000)
    page.screenshot(path=shot("softphone-pushed-away-ja.png"))


def new_phone(chromium):
    """Another agent's softphone: its own browser context (cookies), 400×600."""
    context = chromium.new_context(locale="ja-JP", viewport={"width": 400, "height": 600})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    return context, tab


def agent_row(db, user):
    from ecti.acd.models import Agent

    db.commit()
    db.expire_all()
    return db.get(Agent, user.id)


def history(db, user):
    from sqlalchemy import select

    from ecti.acd.models import AgentStatusChange

    db.commit()
    return [(c.from_status, c.to_status, c.reason) for c in db.scalars(
        select(AgentStatusChange).where(AgentStatusChange.user_id == user.id).order_by(AgentStatusChange.id))]


def test_an_agent_who_closes_the_phone_is_out_of_routing_the_call_goes_to_the_other_and_reopening_restores(
        telephony, make_user, page, chromium, queue_for, db):
    from ecti.acd.models import Offer

    a = make_user(telephony.tenant, role="agent", name="青木 一郎")
    b = make_user(telephony.tenant, role="agent", name="別所 花子")
    boss = make_user(telephony.tenant, role="supervisor", name="監督 三郎")
    queue_for(a, b)
    context_a = page.context
    context_b, page_b = new_phone(chromium)
    try:
        sign_in(page, telephony.base_url, a)
        sign_in(page_b, telephony.base_url, b)
        go_available(page)  # a is free longer: the next call would be a's
        go_available(page_b)
        expect(page.locator("#softphone")).to_have_attribute("data-heartbeat", "ok")

        page.close()  # the tab is closed: the page's beacon says so
        wait_until(lambda: agent_row(db, a).status == "disconnected")
        assert agent_row(db, a).disconnect_reason == "page_closed"

        telephony.dial()
        ringing_b = page_b.get_by_role("region", name="着信")
        expect(ringing_b).to_be_visible()
        db.commit()
        assert {o.user_id for o in db.query(Offer).all()} == {b.id}
        ringing_b.get_by_role("button", name="応答", exact=True).click()
        in_call = page_b.get_by_role("region", name="通話中の電話")
        expect(in_call).to_be_visible()
        # The transfer list shows a as disconnected, not free.
        in_call.locator("[data-action=transfer-open]").click()
        expect(page_b.locator(f"#sp-transfer-agent option[value='{a.id}']")).to_contain_text("切断中")
        expect(page_b.locator(f"#sp-transfer-agent option[value='{a.id}']")).to_be_disabled()
        in_call.get_by_role("button", name="切る", exact=True).click()

        reopened = context_a.new_page()
        reopened.set_default_timeout(30_000)
        reopened.goto(telephony.base_url + "/softphone")
        expect(reopened.locator(".sp-status")).to_have_text("待機中")  # back within the restore time
        assert history(db, a)[-2:] == [("available", "disconnected", "page_closed"), ("disconnected", "available", "phone_reconnected")]

        # The agent report counts the closed-tab time as its own status, not as available.
        report = chromium.new_context(locale="ja-JP", viewport={"width": 1366, "height": 768}).new_page()
        sign_in_console(report, telephony.base_url, boss)
        report.goto(telephony.base_url + "/reports/agents")
        expect(report.get_by_role("columnheader", name="切断時間")).to_be_visible()
        report.screenshot(path=shot("agent-report-disconnected.png"), full_page=True)
        reopened.screenshot(path=shot("softphone-reopened.png"))
    finally:
        context_b.close()


def test_a_phone_that_goes_silent_while_ringing_is_swept_and_the_call_rings_the_other_agent(
        telephony, make_user, page, chromium, queue_for, db):
    from datetime import timedelta

    from ecti.acd.jobs import presence_job
    from ecti.models.meta import utcnow

    a = make_user(telephony.tenant, role="agent", name="青木 一郎")
    b = make_user(telephony.tenant, role="agent", name="別所 花子")
    queue_for(a, b)
    page.set_viewport_size({"width": 400, "height": 600})
    context_b, page_b = new_phone(chromium)
    try:
        sign_in(page, telephony.base_url, a)
        sign_in(page_b, telephony.base_url, b)
        go_available(page)
        expect(page.locator("#softphone")).to_have_attribute("data-heartbeat", "ok")
        # The network drops the heartbeat (the rest of the page still answers).
        page.route("**/acd/me/heartbeat", lambda route: route.abort())
        telephony.dial()
        expect(page.get_by_role("region", name="着信")).to_be_visible()
        go_available(page_b)
        # Once the timeout has passed since the phone was last seen, the sweep (the job worker's
        # tick, run here directly) takes a out; b's phone beats on.
        last = agent_row(db, a).phone_seen_at
        wait_until(lambda: utcnow() > last + timedelta(seconds=PHONE_TIMEOUT + 0.5))
        assert presence_job(telephony.registry) == [a.id]
        expect(page_b.get_by_role("region", name="着信")).to_be_visible()
        expect(page.locator(".sp-status")).to_have_text("切断中")
        expect(page.locator(".sp-presence-note")).to_have_text("電話からの応答が途絶えました（ネットワークまたはブラウザー）。")
        page.screenshot(path=shot("softphone-disconnected-ja.png"))
        assert ("available", "disconnected", "phone_lost") in history(db, a)
        page.unroute("**/acd/me/heartbeat")  # the network is back
        expect(page.locator(".sp-status")).to_have_text("待機中")
        expect(page.locator(".sp-presence-note")).to_be_hidden()
    finally:
        context_b.close()


def sign_in_console(page, base_url, user):
    page.goto(base_url + "/login")
    page.get_by_label("メールアドレス").fill(user.email)
    page.get_by_label("パスワード").fill(user.password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_load_state()


def shot(name):
    import os

    os.makedirs("/tmp/shots/presence", exist_ok=True)
    return "/tmp/shots/presence/" + name
