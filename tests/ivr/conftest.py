"""Fixtures for the IVR's tests: a tenant on Twilio with a number, a fixed clock, an app whose
ACD is a stand-in, and a caller who drives the Twilio webhooks exactly as Twilio does."""
from __future__ import annotations

import sys
import types
import xml.etree.ElementTree as ET
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import webtest as wt
from twilio.request_validator import RequestValidator

from ecti import hookimpl
from ecti.calls.events import record_event
from ecti.calls.models import EventKind
from ecti.config import configure
from ecti.crypto import SecretBox
from ecti.db import make_session_factory, set_tenant_scope
from ecti.plugins import get_plugin_manager
from ecti.testing import TEST_ENCRYPTION_KEY
from ecti.voice.instructions import Continuation, Enqueue, Pause

ACCOUNT_SID = "AC" + "1f" * 16
AUTH_TOKEN = "ivr-test-auth-token"
NUMBER = "+815012340000"
TOKYO = ZoneInfo("Asia/Tokyo")


def acd_stand_in(request, call, args, call_input):
    """Stands in for the ACD's ``acd.enqueue`` so that these tests need no agents (the ACD's own
    tests cover what happens in a queue; test_with_the_acd.py runs the real one): records the
    hand-off and puts the caller into a carrier queue named after the queue id."""
    record_event(request, call, EventKind.entered_queue, queue=int(args["queue"]))
    return [Enqueue(f"queue-{args['queue']}", wait=Continuation("acd.wait"), next=Continuation("acd.left"))]


def _stand_in_plugin():
    module = types.ModuleType("acd_stand_in")
    sys.modules["acd_stand_in"] = module

    @hookimpl
    def ecti_config(config):
        config.add_call_handler("acd.enqueue", acd_stand_in)
        config.add_call_handler("acd.wait", lambda request, call, args, call_input: [Pause(10)])

    module.ecti_config = ecti_config
    return module


class Clock:
    """The application's clock, set by tests in Tokyo time."""

    def __init__(self):
        self.at = datetime(2025, 6, 11, 10, 0, tzinfo=TOKYO)

    def set(self, text: str):
        self.at = datetime.fromisoformat(text).replace(tzinfo=TOKYO)

    def __call__(self):
        return self.at


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def ivr_config(app_settings, engine, clean_database, clock):
    config = configure(dict(app_settings), plugin_manager=get_plugin_manager(plugins=[_stand_in_plugin()]), engine=engine)
    config.registry["ecti.clock"] = clock
    return config


@pytest.fixture
def ivr_app(ivr_config):
    return wt.TestApp(ivr_config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost"})


@pytest.fixture
def tenant(make_tenant, db):
    from ecti.telephony.models import PhoneNumber

    tenant = make_tenant(slug="ivr", name="IVR 株式会社")
    tenant.set_carrier_credentials(SecretBox(TEST_ENCRYPTION_KEY), ACCOUNT_SID, AUTH_TOKEN)
    db.add(PhoneNumber(tenant_id=tenant.id, e164=NUMBER, label="代表"))
    db.commit()
    return tenant


@pytest.fixture
def scoped(engine, tenant):
    """A session scoped to the tenant, as a signed-in admin's request would have."""
    session = make_session_factory(engine)()
    set_tenant_scope(session, tenant.id)
    yield session
    session.rollback()
    session.close()


class TwiML:
    """A TwiML answer, read the way Twilio reads it."""

    def __init__(self, text: str):
        self.root = ET.fromstring(text)

    def said(self) -> list[str]:
        return [el.text for el in self.root.iter("Say")]

    def verbs(self) -> list[str]:
        return [el.tag for el in self.root]

    def find(self, tag):
        return self.root.find(f".//{tag}")


class Caller:
    """One caller's call, driven through the Twilio webhooks with valid signatures."""

    def __init__(self, app, call_sid: str, from_number: str, to_number: str = NUMBER):
        self.app, self.sid, self.from_number, self.to_number = app, call_sid, from_number, to_number
        self.twiml: TwiML | None = None
        self.last: tuple[str, dict] | None = None

    def repeat(self) -> TwiML:
        """Send the last webhook again, as Twilio does when it retries."""
        url, params = self.last
        return self._post(url, **params)

    def _post(self, url: str, **params) -> TwiML:
        self.last = (url, params)
        params = {"AccountSid": ACCOUNT_SID, "CallSid": self.sid, "From": self.from_number, "To": self.to_number, "CallStatus": "in-progress", **params}
        full = url if url.startswith("http") else "http://localhost" + url
        signature = RequestValidator(AUTH_TOKEN).compute_signature(full, params)
        parts = urlsplit(full)
        response = self.app.post(parts.path + ("?" + parts.query if parts.query else ""), params, headers={"X-Twilio-Signature": signature})
        self.twiml = TwiML(response.text) if response.text else None
        return self.twiml

    def dial(self) -> TwiML:
        return self._post("/twilio/voice/incoming", CallStatus="ringing", Direction="inbound")

    def press(self, digits: str) -> TwiML:
        return self._post(self.twiml.find("Gather").get("action"), Digits=digits)

    def stay_silent(self) -> TwiML:
        return self._post(self.twiml.find("Gather").get("action"), Digits="")

    def dial_ends(self, status: str, duration: int = 0) -> TwiML:
        return self._post(self.twiml.find("Dial").get("action"), DialCallStatus=status, DialCallSid="CA" + "d" * 32, DialCallDuration=str(duration))

    def leave_message(self, recording_sid: str, duration: int = 12) -> TwiML:
        url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid}"
        return self._post(self.twiml.find("Record").get("action"), RecordingSid=recording_sid, RecordingUrl=url, RecordingDuration=str(duration))

    def say_nothing_after_the_tone(self) -> TwiML:
        return self._post(self.twiml.find("Redirect").text)

    def hang_up(self):
        return self._post("/twilio/voice/status", CallStatus="completed", CallDuration="30")


@pytest.fixture
def call(ivr_app, tenant):
    """``call("+819011112222")`` starts a new caller's call (one CallSid each)."""
    counter = iter(range(1, 1000))

    def start(from_number: str = "+819011112222") -> Caller:
        return Caller(ivr_app, f"CA{next(counter):032d}", from_number)

    return start


@pytest.fixture
def events(db):
    """``events(caller)``: the call's events as ``(kind, node, branch)``, in order."""
    from sqlalchemy import select

    from ecti.calls.models import Call, CallEvent

    def of(caller: Caller) -> list[tuple]:
        db.commit()  # a new transaction: SQLite's snapshot would hide the webhooks' writes
        rows = db.scalars(select(CallEvent).join(Call).where(Call.carrier_call_id == caller.sid).order_by(CallEvent.id))
        return [(e.kind.value, e.data.get("node"), e.data.get("branch")) for e in rows]

    return of


@pytest.fixture
def path(events):
    """``path(caller)``: the ``(node, branch)`` of each flow step the call took."""
    return lambda caller: [(node, branch) for kind, node, branch in events(caller) if kind == "flow_step"]


MAIN_FLOW = {
    "name": "代表番号",
    "start": "hours",
    "nodes": [
        {"id": "hours", "type": "schedule", "settings": {"schedule": "$schedule"}, "next": {"open": "welcome", "closed": "after_hours", "holiday": "holiday"}},
        {"id": "welcome", "type": "announcement", "settings": {"prompt": {"text": "お電話ありがとうございます。"}}, "next": {"next": "menu"}},
        {
            "id": "menu", "type": "menu",
            "settings": {
                "prompt": {"text": "営業は1を、サポートは2を、伝言は3を押してください。"}, "digits": ["1", "2", "3"],
                "invalid_prompt": {"text": "番号が正しくありません。"}, "no_input_prompt": {"text": "番号が押されませんでした。"}, "retries": 2,
            },
            "next": {"1": "sales", "2": "support", "3": "message", "fallback": "message"},
        },
        {"id": "sales", "type": "queue", "settings": {"queue": "$queue"}, "next": {"fallback": "message"}},
        {"id": "support", "type": "forward", "settings": {"destinations": ["+81312345678"], "timeout": 20, "caller_id": "caller", "when_in_use": "disconnect"}, "next": {"no_answer": "message"}},
        {"id": "after_hours", "type": "announcement", "settings": {"prompt": {"text": "本日の営業は終了しました。"}}, "next": {"next": "message"}},
        {"id": "holiday", "type": "announcement", "settings": {"prompt": {"text": "本日は休業日です。"}}, "next": {"next": "message"}},
        {"id": "message", "type": "voicemail", "settings": {"box": "$box", "greeting": {"text": "発信音のあとにメッセージをどうぞ。"}}},
    ],
}


def with_ids(doc, **ids):
    """``doc`` with ``"$name"`` placeholders in node settings replaced by ``ids[name]``."""
    import copy

    doc = copy.deepcopy(doc)
    for node in doc["nodes"]:
        for key, value in node["settings"].items():
            if isinstance(value, str) and value.startswith("$"):
                node["settings"][key] = ids[value[1:]]
    return doc


@pytest.fixture
def company(scoped, ivr_config, tenant):
    """The company's setup: weekday hours, national holidays, the year-end closure, a voicemail
    box, an ACD queue, and the main flow answering the number."""
    from datetime import date

    from sqlalchemy import select

    from ecti.acd.models import Queue

    from ecti.ivr.services import add_closure, create_box, save_flow, save_schedule
    from ecti.telephony.models import PhoneNumber

    registry = ivr_config.registry
    weekday = [["09:00", "12:00"], ["13:00", "18:00"]]
    schedule = save_schedule(
        scoped, registry, name="平日", weekly={d: weekday for d in ("mon", "tue", "wed", "thu", "fri")}, calendars=["jp_national"]
    )
    add_closure(scoped, name="年末年始休業", start=date(2025, 12, 29), end=date(2026, 1, 3))
    box = create_box(scoped, "代表伝言")
    queue = Queue(name="営業", overflow={}, hold_audio={})
    scoped.add(queue)
    scoped.flush()
    flow = save_flow(scoped, registry, with_ids(MAIN_FLOW, schedule=schedule.id, box=box.id, queue=queue.id))
    scoped.scalar(select(PhoneNumber).where(PhoneNumber.e164 == NUMBER)).flow_id = flow.id
    scoped.commit()
    return types.SimpleNamespace(flow=flow, schedule=schedule, box=box, queue=queue)


@pytest.fixture
def phone_line(app_settings, engine, clean_database, db, tenant, clock):
    """ECTI served over HTTP with the stand-in ACD and the fixed clock, and the Twilio simulator
    with the tenant's account and number, provisioned as ``ecti twilio sync`` does."""
    import contextlib

    from ecti.tenancy.models import Tenant
    from ecti.testing import serve_in_thread
    from ecti_twilio.provisioning import sync_tenant
    from ecti_twilio.simulator import Simulator

    simulator = Simulator()
    simulator.serve()
    settings = {**app_settings, "ecti.twilio.api_base_url": simulator.api_base}
    settings.pop("ecti.public_url", None)  # known once ECTI serves
    config = configure(settings, plugin_manager=get_plugin_manager(plugins=[_stand_in_plugin()]), engine=engine)
    config.registry["ecti.clock"] = clock
    with serve_in_thread(config.make_wsgi_app()) as base_url, contextlib.closing(simulator):
        config.registry.settings["ecti.public_url"] = base_url
        simulator.add_account(ACCOUNT_SID, AUTH_TOKEN, friendly_name="IVR")
        simulator.add_number(ACCOUNT_SID, NUMBER, voice=True, friendly_name="代表")
        sync_tenant(db, config.registry, db.get(Tenant, tenant.id), base_url)
        db.commit()
        yield simulator
