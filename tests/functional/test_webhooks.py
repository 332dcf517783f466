"""Event webhooks (issue 23): a local receiver gets ``call.ended`` for a call through the
Twilio simulator, signed; a failing receiver is retried through the outbox and then gets the
event once; private addresses are refused unless allowed; the console page."""
from __future__ import annotations

import contextlib
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from ecti.testing import base_settings, run_queued_jobs


@pytest.fixture
def app_settings(database_url):
    return {**base_settings(database_url), "ecti.webhooks.allow_private": "true"}


class Receiver:
    """A tiny HTTP server on 127.0.0.1 that records what it gets and answers ``answers`` in
    turn (then 200)."""

    def __init__(self, answers=()):
        self.answers = list(answers)
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def events(self, type_=None):
        out = [json.loads(r["body"]) for r in self.received]
        return [e for e in out if type_ is None or e["type"] == type_]


@pytest.fixture
def receiver():
    r = Receiver()
    with contextlib.closing(r):
        yield r


def subscribe(registry, db, tenant, url, events):
    """What the console does (services.subscribe), in a transaction of its own."""
    from ecti import jobs
    from ecti.webhooks.services import signing_secret, subscribe as do_subscribe

    with jobs.in_transaction(registry, tenant.id) as request:
        subscription = do_subscribe(request, tenant_id=tenant.id, url=url, events=events)
        return subscription.id, signing_secret(registry, subscription)


def test_a_local_receiver_gets_call_ended_for_a_call_through_the_simulator_signed(telephony, db, receiver):
    from ecti.calls.models import Call
    from ecti.webhooks.models import WebhookDelivery
    from ecti.webhooks.services import verify

    _id, secret = subscribe(telephony.registry, db, telephony.tenant, receiver.url, ["call.ended", "call.started"])
    call = telephony.dial()
    assert call.status == "completed"
    run_queued_jobs(telephony.registry)
    [record] = db.scalars(select(Call)).all()
    ended = receiver.events("call.ended")
    assert len(ended) == 1
    event = ended[0]
    assert event["id"].startswith("evt_") and event["data"]["call"]["id"] == record.id
    assert event["data"]["call"]["status"] == "completed" and event["data"]["call"]["from"] == record.from_number
    assert [e["type"] for e in receiver.events()].count("call.started") == 1
    request = next(r for r in receiver.received if json.loads(r["body"])["type"] == "call.ended")
    assert request["headers"]["ecti-event-id"] == event["id"]
    assert verify(secret, request["body"], request["headers"]["ecti-signature"])
    assert not verify("whsec_wrong", request["body"], request["headers"]["ecti-signature"])
    assert not verify(secret, request["body"] + b" ", request["headers"]["ecti-signature"])
    db.rollback()  # (a new transaction: SQLite readers keep their snapshot)
    deliveries = db.scalars(select(WebhookDelivery)).all()
    assert {(d.status, d.response_status, d.attempts) for d in deliveries} == {("succeeded", 200, 1)}


def test_a_failing_receiver_is_retried_by_the_outbox_and_then_gets_the_event_once(app, db, make_tenant, make_user):
    from ecti import jobs
    from ecti.acd.agents import set_presence
    from ecti.acd.models import Presence
    from ecti.models.meta import utcnow
    from ecti.notifications.services import send_due
    from ecti.webhooks.models import WebhookDelivery

    registry = app.registry
    tenant = make_tenant()
    agent = make_user(tenant, role="agent", email="agent@acme.example")
    failing = Receiver(answers=[500, 503])
    with contextlib.closing(failing):
        subscribe(registry, db, tenant, failing.url, ["agent.status_changed"])
        with jobs.in_transaction(registry, tenant.id) as request:
            set_presence(request, request.db.merge(agent), Presence.away, reason="lunch")
        run_queued_jobs(registry)
        assert len(failing.received) == 1
        db.rollback()  # (a new transaction: SQLite readers keep their snapshot)
        [delivery] = db.scalars(select(WebhookDelivery)).all()
        assert (delivery.status, delivery.response_status, delivery.attempts) == ("failed", 500, 1)
        # Not due yet: nothing is sent again before the back-off.
        send_due(registry)
        assert len(failing.received) == 1
        send_due(registry, now=utcnow() + timedelta(minutes=1, seconds=1))
        send_due(registry, now=utcnow() + timedelta(minutes=4))
        assert len(failing.received) == 3
        for later in (10, 60, 240):
            send_due(registry, now=utcnow() + timedelta(minutes=later))
        assert len(failing.received) == 3  # delivered once: never sent again
        ids = {json.loads(r["body"])["id"] for r in failing.received}
        assert len(ids) == 1  # the same event each time: receivers deduplicate on it
        assert json.loads(failing.received[0]["body"])["data"]["agent"]["to_status"]
        db.rollback()  # (a new transaction: SQLite readers keep their snapshot)
        delivery = db.scalars(select(WebhookDelivery)).one()
        assert (delivery.status, delivery.response_status, delivery.attempts) == ("succeeded", 200, 3)


def test_a_subscription_that_keeps_failing_is_paused(app, db, make_tenant, make_user):
    from ecti import jobs
    from ecti.acd.agents import set_presence
    from ecti.acd.models import Presence
    from ecti.webhooks.models import WebhookSubscription
    from ecti.webhooks.services import PAUSE_AFTER

    from ecti.notifications.models import NotificationDelivery

    registry = app.registry
    tenant = make_tenant()
    admin = make_user(tenant, role="admin", email="admin@acme.example")
    agent = make_user(tenant, role="agent", email="agent@acme.example")
    failing = Receiver(answers=[500] * 100)
    with contextlib.closing(failing):
        sub_id, _secret = subscribe(registry, db, tenant, failing.url, ["agent.status_changed"])
        for i in range(PAUSE_AFTER + 2):
            with jobs.in_transaction(registry, tenant.id) as request:
                set_presence(request, request.db.merge(agent), Presence.away if i % 2 == 0 else Presence.available, reason="x")
            run_queued_jobs(registry)
        db.rollback()  # (a new transaction: SQLite readers keep their snapshot)
        subscription = db.get(WebhookSubscription, sub_id)
        assert subscription.status == "paused" and subscription.consecutive_failures == PAUSE_AFTER
        assert len(failing.received) == PAUSE_AFTER  # nothing more is posted once paused
        # The admins are told through every notification channel installed (e-mail here).
        told = db.scalars(select(NotificationDelivery).where(NotificationDelivery.kind == "webhook.paused")).all()
        assert [(d.recipient, d.subject_id) for d in told] == [(admin.email, sub_id)] * len(registry.ecti.notification_channels)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://localhost/x", "http://10.1.2.3/x", "http://169.254.169.254/latest",
                                 "http://[::1]/x", "http://192.168.0.1/x"])
def test_a_private_address_is_refused_when_not_allowed(url):
    from ecti.errors import UserError
    from ecti.webhooks.services import check_url

    with pytest.raises(UserError) as refused:
        check_url(url, allow_private_addresses=False)
    assert refused.value.code == "private_address"
    assert check_url(url, allow_private_addresses=True) == url


@pytest.mark.parametrize("url", ["ftp://example.com/x", "https://", "javascript:alert(1)", "https://user:pw@example.com/", ""])
def test_a_bad_url_is_refused_with_a_reason(url):
    from ecti.errors import UserError
    from ecti.webhooks.services import check_url

    with pytest.raises(UserError):
        check_url(url, allow_private_addresses=True)


def test_a_private_address_is_refused_again_at_delivery_time(app, db, make_tenant, make_user, receiver):
    from ecti import jobs
    from ecti.acd.agents import set_presence
    from ecti.acd.models import Presence
    from ecti.webhooks.models import WebhookDelivery

    registry = app.registry
    tenant = make_tenant()
    agent = make_user(tenant, role="agent", email="agent@acme.example")
    subscribe(registry, db, tenant, receiver.url, ["agent.status_changed"])
    registry.settings["ecti.webhooks.allow_private"] = "false"  # the operator changed their mind
    with jobs.in_transaction(registry, tenant.id) as request:
        set_presence(request, request.db.merge(agent), Presence.away, reason="x")
    run_queued_jobs(registry)
    assert receiver.received == []
    db.rollback()  # (a new transaction: SQLite readers keep their snapshot)
    delivery = db.scalars(select(WebhookDelivery)).one()
    assert delivery.status == "failed" and delivery.response_status is None and "127.0.0.1" in delivery.last_error


def test_the_console_page_subscribes_shows_deliveries_and_resends(app, webtest, login, db, make_tenant, make_user, receiver):
    from ecti import jobs
    from ecti.acd.agents import set_presence
    from ecti.acd.models import Presence
    from ecti.webhooks.models import WebhookDelivery, WebhookSubscription

    tenant = make_tenant()
    admin = make_user(tenant, role="admin", email="admin@acme.example")
    agent = make_user(tenant, role="agent", email="agent@acme.example")
    other = make_tenant(slug="beta", name="ベータ")
    other_agent = make_user(other, role="agent", email="agent@beta.example")
    login(webtest, admin)
    form = webtest.get("/admin/webhooks").forms["add-webhook"]
    form["url"] = receiver.url
    for checkbox in form.fields["event"]:
        if checkbox._value == "agent.status_changed":
            checkbox.checked = True
    form.submit(status=303)
    subscription = db.scalars(select(WebhookSubscription)).one()
    assert subscription.tenant_id == tenant.id and subscription.events == ["agent.status_changed"]
    bad = webtest.get("/admin/webhooks").forms["add-webhook"]
    bad["url"] = "ftp://example.com"
    assert "https://" in bad.submit(status=422).text
    with jobs.in_transaction(app.registry, tenant.id) as request:
        set_presence(request, request.db.merge(agent), Presence.away, reason="x")
    # Another company's facts never reach this subscription.
    with jobs.in_transaction(app.registry, other.id) as request:
        set_presence(request, request.db.merge(other_agent), Presence.away, reason="x")
    run_queued_jobs(app.registry)
    assert len(receiver.received) == 1
    page = webtest.get("/admin/webhooks")
    assert "agent.status_changed" in page.text and page.html.select_one("#webhook-deliveries .response-status").text == "200"
    db.rollback()
    delivery = db.scalars(select(WebhookDelivery)).one()
    csrf = page.forms["add-webhook"]["csrf_token"].value
    webtest.post(f"/admin/webhooks/deliveries/{delivery.id}/resend", {"csrf_token": csrf}, status=303)
    run_queued_jobs(app.registry)
    assert len(receiver.received) == 2
    assert receiver.events()[0]["id"] == receiver.events()[1]["id"]
    webtest.post(f"/admin/webhooks/{subscription.id}", {"csrf_token": csrf, "action": "pause"}, status=303)
    db.rollback()  # (a new transaction: SQLite readers keep their snapshot)
    assert db.get(WebhookSubscription, subscription.id).status == "paused"


def test_voicemail_created_is_sent_and_a_rolled_back_transaction_sends_nothing(app, db, make_tenant, receiver):
    from ecti import jobs
    from ecti.ivr.models import VoicemailBox, VoicemailMessage
    from ecti.webhooks.models import WebhookEvent

    registry = app.registry
    tenant = make_tenant()
    subscribe(registry, db, tenant, receiver.url, ["voicemail.created"])

    def leave_message(request, recording_id):
        box = request.db.scalar(select(VoicemailBox)) or VoicemailBox(tenant_id=tenant.id, name="代表")
        request.db.add(box)
        request.db.flush()
        request.db.add(VoicemailMessage(tenant_id=tenant.id, box_id=box.id, from_number="+819011112222", recording_id=recording_id,
                                        duration_seconds=12))

    with pytest.raises(RuntimeError):
        with jobs.in_transaction(registry, tenant.id) as request:
            leave_message(request, "RE1")
            request.db.flush()
            raise RuntimeError("the carrier's callback failed half-way")
    with jobs.in_transaction(registry, tenant.id) as request:
        leave_message(request, "RE2")
    run_queued_jobs(registry)
    [event] = receiver.events()
    assert event["type"] == "voicemail.created" and event["data"]["voicemail"]["duration_seconds"] == 12
    db.rollback()
    assert db.scalar(select(WebhookEvent.type)) == "voicemail.created" and len(db.scalars(select(WebhookEvent)).all()) == 1


def test_a_company_without_subscriptions_writes_no_events(app, db, make_tenant, make_user, receiver):
    from ecti import jobs
    from ecti.acd.agents import set_presence
    from ecti.acd.models import Presence
    from ecti.webhooks.models import WebhookEvent

    tenant, other = make_tenant(), make_tenant(slug="beta", name="ベータ")
    agent = make_user(other, role="agent", email="agent@beta.example")
    subscribe(app.registry, db, tenant, receiver.url, ["agent.status_changed"])
    with jobs.in_transaction(app.registry, other.id) as request:
        set_presence(request, request.db.merge(agent), Presence.away, reason="x")
    run_queued_jobs(app.registry)
    assert receiver.received == [] and db.scalars(select(WebhookEvent)).all() == []


def test_webhooks_through_the_api_with_a_key(api, db, make_tenant, make_user, receiver):
    from ecti.apikeys.services import create_key

    tenant = make_tenant()
    admin = make_user(tenant, role="admin", email="admin@acme.example")
    _key, secret = create_key(db, user=admin, name="CRM", scopes=["webhooks:read", "webhooks:write"])
    _ro, read_only = create_key(db, user=admin, name="BI", scopes=["webhooks:read"])
    db.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    created = api.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["call.ended"], "description": "CRM"}, headers=headers)
    assert created.status_int == 201, created.text
    assert created.json["secret"].startswith("whsec_")
    listed = api.get("/api/v1/webhooks", headers={"Authorization": f"Bearer {read_only}"}).json["webhooks"]
    assert [w["url"] for w in listed] == [receiver.url] and "secret" not in listed[0]
    assert api.get(f"/api/v1/webhooks/{listed[0]['id']}/deliveries", headers=headers).json["deliveries"] == []
    refused = api.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["call.ended"]},
                       headers={"Authorization": f"Bearer {read_only}"})
    assert refused.status_int == 403
    bad = api.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["call.exploded"]}, headers=headers)
    assert bad.status_int == 422 and bad.json["error"]["code"] == "unknown_event"
    assert api.delete(f"/api/v1/webhooks/{listed[0]['id']}", headers=headers).status_int == 204
    assert api.delete(f"/api/v1/webhooks/{listed[0]['id']}", headers=headers).status_int == 404


def test_sms_status_and_a_finished_dialing_row_are_sent(app, db, make_tenant, receiver):
    from ecti import jobs
    from ecti.dialer.models import DialingList, DialingRow, Outcome, RowStatus
    from ecti.messaging.models import Direction, Message, MessageStatus

    registry = app.registry
    tenant = make_tenant()
    subscribe(registry, db, tenant, receiver.url, ["sms.status", "sms.received", "dialing_list.row_finished"])
    with jobs.in_transaction(registry, tenant.id) as request:
        request.db.add(Message(tenant_id=tenant.id, direction=Direction.outbound, from_number="+815012345678", to_number="+819011112222",
                               remote_number="+819011112222", body="こんにちは", status=MessageStatus.queued))
        lst = DialingList(tenant_id=tenant.id, name="秋のご案内", caller_id="+815012345678")
        request.db.add(lst)
        request.db.flush()
        request.db.add(DialingRow(tenant_id=tenant.id, list_id=lst.id, row_number=1, number="+819011112222", name="山田"))
    run_queued_jobs(registry)
    assert receiver.received == []  # an outgoing SMS stored and a new row: nothing to tell yet
    with jobs.in_transaction(registry, tenant.id) as request:
        request.db.scalar(select(Message)).status = MessageStatus.delivered
        row = request.db.scalar(select(DialingRow))
        row.status, row.last_outcome, row.attempts = RowStatus.done, Outcome.connected, 1
    with jobs.in_transaction(registry, tenant.id) as request:
        request.db.scalar(select(Message)).status = MessageStatus.delivered  # a repeated callback: no change
    run_queued_jobs(registry)
    events = {e["type"]: e["data"] for e in receiver.events()}
    assert len(receiver.received) == 2
    assert events["sms.status"]["sms"]["status"] == "delivered"
    assert events["dialing_list.row_finished"]["row"]["outcome"] == "connected"
