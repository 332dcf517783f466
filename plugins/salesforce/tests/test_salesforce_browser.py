"""The softphone inside a local Salesforce stand-in (one Lightning page, one Classic page) in
Chromium, with calls through the Twilio simulator.

Salesforce itself cannot run here, so the stand-in serves fake ``opencti_min.js`` and
``interaction.js`` (test doubles) that record every Open CTI call in the parent page; everything
else is real: ECTI over HTTP, the CSP that must let the stand-in's origin frame the softphone,
the adapter's origin check, the simulator's calls.
"""
import functools
import http.server
import threading
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ecti.acd.models import Queue, QueueMember
from ecti.calls.models import Call
from ecti.testing import wait_until
from ecti.voice import HANDLERS_KEY, dispatch
from ecti_salesforce.models import SalesforceSettings

pytestmark = pytest.mark.browser
STANDIN = Path(__file__).parent / "standin"


@pytest.fixture
def standin():
    """The stand-in's pages and fake scripts on their own origin (127.0.0.1, another port)."""
    handler = functools.partial(_QuietHandler, directory=str(STANDIN))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def agent(telephony, db, make_user, standin):
    """An agent of the tenant whose Salesforce domain is the stand-in, in a queue that gets every call."""
    tenant = telephony.tenant
    db.add(SalesforceSettings(tenant_id=tenant.id, domains=[standin], internal_name="ECTITel", display_name="ECTI",
                              softphone_height=520, softphone_width=300))
    user = make_user(tenant, role="agent", name="青木 一郎")
    queue = Queue(tenant_id=tenant.id, name="サポート", overflow={}, hold_audio={}, ring_timeout=600,
                  wrap_up_seconds=600, announce_position=False, announce_wait=False)
    db.add(queue)
    db.flush()
    db.add(QueueMember(tenant_id=tenant.id, queue_id=queue.id, user_id=user.id, level=1, position=1))
    db.commit()

    def to_queue(request, call, args, call_input):  # the IVR's queue node, in short
        return dispatch(request, call, "acd.enqueue", {"queue": str(queue.id)}, call_input)

    telephony.registry[HANDLERS_KEY]["inbound.start"] = to_queue
    return user


def open_in_salesforce(page, telephony, standin, agent, mode):
    page.goto(telephony.base_url + "/login")
    page.get_by_label("メールアドレス").fill(agent.email)
    page.get_by_label("パスワード").fill(agent.password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(telephony.base_url + "/phone")  # an agent lands on the phone
    page.goto(f"{standin}/{mode}.html?ecti={telephony.base_url}&tenant={telephony.tenant.slug}")
    phone = page.frame_locator("iframe[title=softphone]")
    expect(phone.locator("#softphone")).to_have_attribute("data-salesforce", mode, timeout=15_000)
    expect(phone.locator(".sp-device")).to_have_attribute("data-ready", "true")
    return phone


def calls_to(page, method):
    return [c["args"] for c in page.evaluate("window.recorded") if c["method"] == method]


def wait_for_call(page, method, count=1):
    """The recorded Open CTI calls of ``method``, once there are ``count`` of them."""
    wait_until(lambda: len(calls_to(page, method)) >= count, page=page, what=f"Open CTI {method} was never called {count} time(s)")
    return calls_to(page, method)


def inbound_call_answered_and_hung_up(page, phone, telephony):
    phone.get_by_label("ステータスを変更").select_option("available")
    expect(phone.locator(".sp-status")).to_have_text("待機中")
    telephony.dial()
    ringing = phone.get_by_role("region", name="着信")
    expect(ringing).to_be_visible()
    searched = wait_for_call(page, "searchAndScreenPop")
    expect(page.locator("#utility")).to_have_attribute("data-visible", "true")
    ringing.get_by_role("button", name="応答", exact=True).click()
    in_call = phone.get_by_role("region", name="通話中の電話")
    expect(in_call).to_be_visible()
    in_call.get_by_role("button", name="切る", exact=True).click()
    expect(in_call).to_be_hidden()
    saved = wait_for_call(page, "saveLog")
    return searched, saved


def the_call(db, telephony):
    """(id, duration) of the inbound call, read without holding the database."""
    from ecti.db import all_tenants

    db.expire_all()
    with all_tenants(db):
        call = db.scalars(select(Call).where(Call.tenant_id == telephony.tenant.id, Call.from_number == "+819011112222")).one()
        found = call.id, call.duration_seconds
    db.rollback()
    return found


def test_lightning_click_to_dial_screen_pop_and_call_log(telephony, agent, standin, page, db):
    phone = open_in_salesforce(page, telephony, standin, agent, "lightning")
    # The softphone told Salesforce it is ready and asked for click-to-dial.
    assert wait_for_call(page, "notifyInitializationComplete")
    assert calls_to(page, "enableClickToDial") and calls_to(page, "onClickToDial")

    page.evaluate("clickToDial({number: '03-1234-5678', recordId: '001000000000001AAA', recordName: 'アクメ', objectType: 'Account'})")
    expect(phone.get_by_label("発信先の番号")).to_have_value("03-1234-5678")
    expect(page.locator("#utility")).to_have_attribute("data-visible", "true")

    [[search]], [[log]] = inbound_call_answered_and_hung_up(page, phone, telephony)
    assert search["searchParams"] == "090-1111-2222"
    assert search["callType"] == "inbound"
    call_id, duration = the_call(db, telephony)
    task = log["value"]
    assert task["entityApiName"] == "Task"
    assert task["CallType"] == "Inbound"
    assert task["CallObject"] == str(call_id)
    assert task["WhoId"] == "003000000000001AAA"  # the contact Salesforce popped
    assert duration is not None
    assert task["CallDurationInSeconds"] == duration
    assert task["CallDisposition"] == "応答"
    assert task["Status"] == "Completed"
    assert "090-1111-2222" in task["Subject"]
    assert f"{telephony.base_url}/calls/{call_id}" in task["Description"]
    assert len(task["ActivityDate"]) == 10


def test_classic_click_to_dial_screen_pop_and_call_log(telephony, agent, standin, page, db):
    phone = open_in_salesforce(page, telephony, standin, agent, "classic")
    assert wait_for_call(page, "notifyInitializationComplete")
    page.evaluate("clickToDial({number: '06-1111-2222', recordId: '003000000000009AAA', objectType: 'Contact'})")
    expect(phone.get_by_label("発信先の番号")).to_have_value("06-1111-2222")
    expect(page.locator("#utility")).to_have_attribute("data-visible", "true")

    [search], [log] = inbound_call_answered_and_hung_up(page, phone, telephony)
    assert search[:3] == ["090-1111-2222", "", "inbound"]
    call_id, duration = the_call(db, telephony)
    object_name, fields = log[0], dict(parse_qsl(log[1]))
    assert object_name == "Task"
    assert fields["CallType"] == "Inbound"
    assert fields["CallObject"] == str(call_id)
    assert fields["WhoId"] == "003000000000001AAA"
    assert int(fields["CallDurationInSeconds"]) == duration
    assert fields["CallDisposition"] == "応答"
    assert fields["Status"] == "Completed"
    assert f"/calls/{call_id}" in fields["Description"]


def test_a_salesforce_origin_that_is_not_configured_gets_no_open_cti(telephony, agent, standin, page, db):
    from ecti.db import all_tenants

    with all_tenants(db):
        row = db.scalars(select(SalesforceSettings)).one()
        row.domains = [standin, "https://acme.lightning.force.com"]
        db.commit()
    page.goto(telephony.base_url + "/login")
    page.get_by_label("メールアドレス").fill(agent.email)
    page.get_by_label("パスワード").fill(agent.password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(telephony.base_url + "/phone")  # an agent lands on the phone
    # The softphone opened directly, claiming another Salesforce origin: nothing is loaded from it.
    page.goto(telephony.base_url + "/softphone?mode=Lightning&sfdcIframeOrigin=https%3A%2F%2Fevil.lightning.force.com")
    expect(page.locator("#softphone")).to_have_attribute("data-salesforce", "refused")
    assert not page.evaluate("typeof window.sforce !== 'undefined'")


def test_signing_in_inside_the_salesforce_frame(telephony, agent, standin, page):
    # Nobody signed in yet: the frame shows ECTI's sign-in page (allowed by the tenant's CSP),
    # and after signing in, the softphone with the Salesforce parameters.
    page.goto(f"{standin}/lightning.html?ecti={telephony.base_url}&tenant={telephony.tenant.slug}")
    phone = page.frame_locator("iframe[title=softphone]")
    phone.get_by_label("メールアドレス").fill(agent.email)
    phone.get_by_label("パスワード").fill(agent.password)
    phone.get_by_role("button", name="ログイン").click()
    expect(phone.locator("#softphone")).to_have_attribute("data-salesforce", "lightning", timeout=15_000)
    assert wait_for_call(page, "notifyInitializationComplete")


def test_a_salesforce_the_company_did_not_configure_cannot_frame_the_softphone(telephony, agent, standin, page, db):
    from ecti.db import all_tenants

    with all_tenants(db):
        db.scalars(select(SalesforceSettings)).one().domains = ["https://acme.lightning.force.com"]
        db.commit()
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "frame-ancestors" in message.text else None)
    page.goto(f"{standin}/lightning.html?ecti={telephony.base_url}&tenant={telephony.tenant.slug}")
    wait_until(lambda: blocked, page=page, what="Chromium did not refuse the frame")
    expect(page.frame_locator("iframe[title=softphone]").locator("form")).to_have_count(0)


def test_an_outgoing_call_from_a_click_is_logged_on_the_clicked_record(telephony, agent, standin, page):
    phone = open_in_salesforce(page, telephony, standin, agent, "lightning")
    page.evaluate("clickToDial({number: '03-1234-5678', recordId: '001000000000001AAA', recordName: 'アクメ', objectType: 'Account'})")
    dial = phone.get_by_role("region", name="発信")
    expect(dial.get_by_label("発信先の番号")).to_have_value("03-1234-5678")
    dial.get_by_label("発信者番号").select_option(telephony.number)
    dial.get_by_role("button", name="発信", exact=True).click()
    callee = telephony.sim.phone("+81312345678")
    wait_until(lambda: callee.active is not None, what="the call never reached the callee")
    in_call = phone.get_by_role("region", name="通話中の電話")
    in_call.get_by_role("button", name="切る", exact=True).click()
    expect(in_call).to_be_hidden()
    [[log]] = wait_for_call(page, "saveLog")
    task = log["value"]
    assert task["CallType"] == "Outbound"
    assert task["WhatId"] == "001000000000001AAA" and "WhoId" not in task  # an account is a "what"
    assert "03-1234-5678" in task["Subject"]
    assert task["CallObject"] and f"/calls/{task['CallObject']}" in task["Description"]
    assert not calls_to(page, "searchAndScreenPop")  # nothing to pop for a call the agent placed


@pytest.mark.parametrize("mode", ["lightning", "classic"])
def test_the_wrap_up_goes_to_salesforce_as_call_disposition_and_description(telephony, agent, standin, page, db, mode):
    """Issue 18: the disposition and note the agent saves update the call's Task."""
    from ecti.dispositions.models import DispositionCode

    db.add(DispositionCode(tenant_id=telephony.tenant.id, code="sale", label="成約", position=1, active=True))
    db.commit()
    phone = open_in_salesforce(page, telephony, standin, agent, mode)
    inbound_call_answered_and_hung_up(page, phone, telephony)
    wrap = phone.get_by_role("region", name="後処理", exact=True)
    expect(wrap.locator("#sp-disposition option[value=sale]")).to_have_count(1)
    wrap.get_by_label("処理コード").select_option("sale")
    wrap.get_by_label("メモ").fill("見積書を送付。")
    wrap.get_by_role("button", name="保存", exact=True).click()
    first, second = wait_for_call(page, "saveLog", count=2)[:2]  # the end of the call, then the wrap-up
    call_id, _duration = the_call(db, telephony)
    if mode == "lightning":
        ended, wrapped = first[0]["value"], second[0]["value"]
        assert wrapped["Id"] == "00T000000000001AAA"  # the Task the end of the call created
    else:
        ended, wrapped = (dict(parse_qsl(args[1])) for args in (first, second))
    assert ended["CallDisposition"] == "応答"
    assert wrapped["CallDisposition"] == "成約"
    assert wrapped["Description"].startswith("見積書を送付。")
    assert f"/calls/{call_id}" in wrapped["Description"]
    assert wrapped["CallObject"] == str(call_id)
    assert wrapped["WhoId"] == "003000000000001AAA"  # still on the contact Salesforce popped
