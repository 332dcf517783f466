"""The IVR flow editor in Chromium, with the Twilio simulator as the carrier: an admin builds a
small flow (announcement → hang-up), saves it, sees it checked, and places a test call that the
simulator makes once the button's request has committed."""
import re

import pytest
from sqlalchemy import select

from ecti.ivr.models import Flow
from ecti.telephony.models import PhoneNumber
from ecti_twilio.testing import MAIN_NUMBER

pytestmark = pytest.mark.browser

GREETING = "テスト株式会社です。お電話ありがとうございます。"


def sign_in(page, base_url, user):
    page.goto(base_url + "/login")
    page.get_by_label("メールアドレス").fill(user.email)
    page.get_by_label("パスワード").fill(user.password)
    page.get_by_role("button", name="ログイン").click()


def test_an_admin_builds_a_flow_saves_it_and_places_a_test_call(telephony, make_user, page, db):
    admin = make_user(telephony.tenant, role="admin")
    sign_in(page, telephony.base_url, admin)
    page.goto(telephony.base_url + "/admin/ivr/flows")
    page.locator("#new-flow [name=name]").fill("テスト用")
    page.locator("#new-flow").get_by_role("button").click()

    # A new flow starts with a hang-up node; add the announcement before it, in the form view
    # (the visual editor's accessible fallback).
    page.locator("#flow-designer[data-ready]").wait_for()
    page.get_by_role("link", name="フォーム表示").click()
    editor = page.locator("#flow-editor")
    editor.locator("[name='new.type']").select_option("announcement")
    editor.locator("[name='new.id']").fill("welcome")
    page.get_by_role("button", name="ノードを追加").click()
    editor.locator("[name='nodes-1.settings.prompt']").fill(GREETING)
    editor.locator("[name='nodes-1.next.next']").select_option("start")
    editor.locator("[name=start]").select_option("welcome")

    # Saving checks the flow first: an announcement with nothing to say is refused, named.
    editor.locator("[name='nodes-1.settings.prompt']").fill("")
    page.get_by_role("button", name="チェックして保存").click()
    assert page.locator("#node-welcome [role=alert]").count() == 1
    assert "保存していません" in page.locator(".flash.error").inner_text()
    page.locator("#flow-editor [name='nodes-1.settings.prompt']").fill(GREETING)
    page.get_by_role("button", name="チェックして保存").click()
    assert "保存しました" in page.locator("body").inner_text()
    assert page.locator("[role=alert]").count() == 0
    db.commit()
    flow = db.scalar(select(Flow).where(Flow.name == "テスト用"))
    assert flow.start == "welcome" and flow.node("welcome")["settings"] == {"prompt": {"text": GREETING}}

    # The number answers with this flow; the test call rings it through the simulator.
    number = db.scalar(select(PhoneNumber).where(PhoneNumber.e164 == MAIN_NUMBER))
    page.goto(telephony.base_url + "/admin/ivr/flows")
    page.locator(f"[name=number-{number.id}]").select_option(label="テスト用")
    page.locator("#numbers").get_by_role("button").click()
    page.goto(telephony.base_url + f"/admin/ivr/flows/{flow.id}")
    page.get_by_role("button", name="テスト発信").click()

    page.wait_for_url(re.compile(r"/twilio/test-phone$"))
    assert "050-1234-5678" in page.locator("body").inner_text()  # "a test call to … was placed"
    first = page.locator(".heard li").first
    first.wait_for()
    assert first.inner_text() == GREETING
    [call] = [c for c in telephony.sim.calls.values() if c.to == MAIN_NUMBER]
    assert call.sid in page.locator(".test-call").inner_text()
    assert telephony.sim.call(call.sid).said() == [GREETING]
    assert page.locator("p.status[role=status]").inner_text() == "通話は終了しました。"


def test_without_the_simulator_the_editor_explains_there_is_no_test_call(webtest, login, make_tenant, make_user, db):
    admin = make_user(make_tenant(), role="admin")
    login(webtest, admin)
    form = webtest.get("/admin/ivr/flows").forms["new-flow"]
    form["name"] = "本番"
    editor = form.submit().follow()
    assert "テスト発信" not in [b.text for b in editor.html.select("button")]
    assert editor.html.select_one("#no-test-call").text == "テスト発信には Twilio シミュレーターが必要です。"
