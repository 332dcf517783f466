"""The page walk: every console page each role may open, in real Chromium, as people see it.

Each role (agent, supervisor, admin, operator) of a company with realistic data signs in; the
walk finds every console page (GET views rendered by a template) from Pyramid's own
introspection, keeps those the role's permissions open, and visits each in Japanese and in
English at 1366×768 and 1920×1080. On every page:

* the global header (with its navigation) is at most 100 px tall;
* nothing scrolls sideways (``scrollWidth <= innerWidth``);
* no JavaScript error, no failed sub-request (4xx/5xx, or a request that did not complete);
* axe-core (npm, injected by Playwright) finds no serious or critical violation.

Screenshots of the main pages (both sizes, both languages) go to ``var/screenshots/<role>/`` (or
``$ECTI_SCREENSHOTS``) so a reviewer can look at them. One browser and one tab per role keep
the walk to a few minutes; layout only, so SQLite only.
"""
from __future__ import annotations

import os
import re
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SIZES = ((1366, 768), (1920, 1080))
MAX_HEADER = 100
CUSTOMER = "+819012345678"

#: Pages that are not the console (the sign-in page is walked before signing in).
NOT_CONSOLE = {"login", "salesforce.standby"}

def _record(db, model, **where):
    query = select(model.id)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.scalar(query.order_by(model.id).limit(1))


def record_ids(db, tenant_id) -> dict[str, dict]:
    """For each page with an id in its path: the matchdict of one record of the company."""
    from ecti.acd.models import Queue
    from ecti.calls.models import Call, Direction, Recording
    from ecti.contacts.models import Contact
    from ecti.dialer.models import DialingImport, DialingList
    from ecti.ivr.models import Flow, Schedule, VoicemailBox, VoicemailMessage
    from ecti.prompts.models import Prompt

    ids = {
        "admin.prompt": _record(db, Prompt, tenant_id=tenant_id),
        "operator.tenant": tenant_id,
        "ivr.flow": _record(db, Flow, tenant_id=tenant_id),
        "ivr.flow_form": _record(db, Flow, tenant_id=tenant_id),
        "ivr.schedule": _record(db, Schedule, tenant_id=tenant_id),
        "admin.queue": _record(db, Queue, tenant_id=tenant_id),
        "dialer.list": _record(db, DialingList, tenant_id=tenant_id),
        "dialer.import": _record(db, DialingImport, tenant_id=tenant_id),
        "contacts.edit": _record(db, Contact, tenant_id=tenant_id),
        "call": _record(db, Call, tenant_id=tenant_id, direction=Direction.outbound),
        "voicemail.message": _record(db, VoicemailMessage, tenant_id=tenant_id),
        "voicemail.delete": _record(db, VoicemailMessage, tenant_id=tenant_id),
        "voicemail.box": _record(db, VoicemailBox, tenant_id=tenant_id),
        "recording_delete": _record(db, Recording, tenant_id=tenant_id, purpose="voicemail"),
    }
    matchdicts = {route: {"id": value} for route, value in ids.items()}
    matchdicts["sms.conversation"] = {"number": CUSTOMER}
    return matchdicts


def console_pages(registry) -> dict[str, tuple[str, str | None]]:
    """Every console page: route name → (pattern, permission), from Pyramid's introspection.

    A page is a route with a GET view rendered by a Jinja2 template."""
    introspector = registry.introspector
    pages = {}
    for route in introspector.get_category("routes"):
        name = route["introspectable"]["name"]
        if name in NOT_CONSOLE or name.startswith(("api.", "sim.")):
            continue
        for view in route["related"]:
            if view.category_name != "views":
                continue
            methods = view["request_methods"]
            if methods and "GET" not in (methods if isinstance(methods, (tuple, list, set, frozenset)) else (methods,)):
                continue
            related = introspector.related(view)
            if not any(r.category_name == "templates" and str(r.title).endswith(".jinja2") for r in related):
                continue
            permission = next((r["value"] for r in related if r.category_name == "permissions"), None)
            pages[name] = (route["introspectable"]["pattern"], permission)
    return pages


def may_open(role, permission) -> bool:
    from ecti.tenancy.models import Role
    from ecti.tenancy.security import PERMISSIONS

    return permission in (None, "signed_in") or permission in PERMISSIONS[Role(role)]


def path_for(request, name, pattern, matchdicts) -> str:
    if "{" not in pattern:
        return request.route_path(name)
    assert name in matchdicts, f"the page walk needs a record for {name} ({pattern}): add one to record_ids()"
    assert all(matchdicts[name].values()), f"the page walk's data has no record for {name}: seed one in `company`"
    return request.route_path(name, **matchdicts[name])


@pytest.fixture
def company(telephony, db, make_user):
    """The simulator-backed company with the things a contact center has after a few days."""
    from datetime import datetime, timezone

    from ecti.acd.models import Agent, AgentState, Presence
    from ecti.calls.models import Call, CallAgent, CallOutcome, CallStatus, Direction, Recording
    from ecti.contacts.models import Contact, ContactNumber
    from ecti.demo import _seed_flow
    from ecti.dialer.csv_import import refusal
    from ecti.dialer.models import DialingImport, DialingList, DialingRow
    from ecti.ivr.models import Closure, Schedule, VoicemailBox, VoicemailMessage
    from ecti.messaging.models import Message, MessageStatus
    from ecti.notifications.models import NotificationDelivery
    from ecti.prompts.models import Prompt, PromptKind
    from ecti.i18n import _
    from ecti.telephony.models import PhoneNumber

    tenant = telephony.tenant
    users = {
        "admin": make_user(tenant, role="admin", email="admin@tel.example", name="管理 花子"),
        "supervisor": make_user(tenant, role="supervisor", email="boss@tel.example", name="監督 三郎"),
        "agent": make_user(tenant, role="agent", email="agent@tel.example", name="応対 一郎"),
        "operator": make_user(None, role="operator", email="operator@ecti.example", name="運用 太郎"),
    }
    agent_id = users["agent"].id

    class Ctx:
        registry = telephony.registry
        secret_box = registry.secret_box

    flow = _seed_flow(db, Ctx(), tenant)
    number = db.scalar(select(PhoneNumber).where(PhoneNumber.tenant_id == tenant.id).order_by(PhoneNumber.id))
    number.flow_id = flow.id
    box = db.scalar(select(VoicemailBox).where(VoicemailBox.tenant_id == tenant.id))
    now = datetime.now(timezone.utc).replace(microsecond=0)
    answered = Call(tenant_id=tenant.id, carrier_call_id="CA" + "1" * 32, direction=Direction.inbound, from_number=CUSTOMER,
                    to_number=number.e164, status=CallStatus.completed, started_at=now - timedelta(hours=2),
                    answered_at=now - timedelta(hours=2) + timedelta(seconds=12), ended_at=now - timedelta(hours=2) + timedelta(seconds=200),
                    duration_seconds=200, agent_user_id=agent_id, wait_seconds=12, talk_seconds=188,
                    outcome=CallOutcome.answered)
    missed = Call(tenant_id=tenant.id, carrier_call_id="CA" + "2" * 32, direction=Direction.inbound, from_number="+81312345678",
                  to_number=number.e164, status=CallStatus.completed, started_at=now - timedelta(hours=1),
                  ended_at=now - timedelta(hours=1) + timedelta(seconds=40), duration_seconds=40,
                  outcome=CallOutcome.voicemail)
    outbound = Call(tenant_id=tenant.id, carrier_call_id="CA" + "3" * 32, direction=Direction.outbound, from_number=number.e164,
                    to_number=CUSTOMER, status=CallStatus.completed, started_at=now - timedelta(minutes=30),
                    answered_at=now - timedelta(minutes=30) + timedelta(seconds=8), ended_at=now - timedelta(minutes=25),
                    duration_seconds=300, user_id=agent_id, agent_user_id=agent_id, talk_seconds=292,
                    outcome=CallOutcome.answered)
    db.add_all([answered, missed, outbound])
    db.flush()
    db.add_all(CallAgent(tenant_id=tenant.id, call_id=c.id, user_id=agent_id, call_started_at=c.started_at) for c in (answered, outbound))
    conversation, message = (at_the_carrier(telephony, "RE" + digit * 32, seconds) for digit, seconds in (("1", 188), ("2", 21)))
    db.add(Recording(tenant_id=tenant.id, call_id=answered.id, carrier_recording_id="RE" + "1" * 32, status="completed",
                     duration_seconds=188, media_url=conversation))
    greeting = Recording(tenant_id=tenant.id, call_id=missed.id, carrier_recording_id="RE" + "2" * 32, status="completed",
                         duration_seconds=21, purpose="voicemail", media_url=message)
    db.add(greeting)
    db.flush()
    box.recipient_user_ids = [agent_id]  # the agent is told of the box's messages, and may hear them
    db.add(VoicemailMessage(tenant_id=tenant.id, box_id=box.id, call_id=missed.id, from_number="+81312345678",
                            recording_id=greeting.carrier_recording_id, recording_ref_id=greeting.id, duration_seconds=21,
                            created_at=now - timedelta(minutes=59)))
    db.add_all([
        Message(tenant_id=tenant.id, direction=Direction.inbound, from_number=CUSTOMER, to_number=number.e164, remote_number=CUSTOMER,
                body="明日の予約を確認したいです。", status=MessageStatus.received),
        Message(tenant_id=tenant.id, direction=Direction.outbound, from_number=number.e164, to_number=CUSTOMER, remote_number=CUSTOMER,
                body="ご連絡ありがとうございます。明日 10 時で承っております。", status=MessageStatus.delivered, user_id=agent_id),
    ])
    contact = Contact(tenant_id=tenant.id, name="山田 太郎", company="山田商事株式会社", note="請求書は月末締め")
    db.add(contact)
    db.flush()
    db.add(ContactNumber(tenant_id=tenant.id, contact_id=contact.id, e164=CUSTOMER))
    schedule = Schedule(tenant_id=tenant.id, name="平日 9時〜18時",
                        weekly={day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}, calendars=[])
    db.add(schedule)
    db.add(Closure(tenant_id=tenant.id, name="年末年始休業", start_date=date(2026, 12, 29), end_date=date(2027, 1, 3)))
    db.add(Prompt(tenant_id=tenant.id, name="営業時間外のご案内", kind=PromptKind.tts,
                  text="本日の営業は終了しました。平日 9 時から 18 時までにおかけ直しください。", provider="openjtalk"))
    db.flush()
    dialing = DialingList(tenant_id=tenant.id, name="12月 更新のご案内", caller_id=number.e164, columns=["name"])
    db.add(dialing)
    db.flush()
    db.add(DialingRow(tenant_id=tenant.id, list_id=dialing.id, row_number=2, number=CUSTOMER, name="山田 太郎"))
    db.add(DialingImport(tenant_id=tenant.id, list_id=dialing.id, user_id=users["admin"].id, filename="更新案内.csv", encoding="utf-8",
                         columns=["name"], good=[{"row": 2, "number": "+819011112222", "name": "佐藤 花子", "extra": []}],
                         refused=[refusal(3, "", "empty_number", _("The phone number is empty."))]))
    # Everyone who takes calls has used the phone before (their agent row exists). A first use
    # creates it inside GET /api/v1/acd/me, which on SQLite can meet another writer and answer
    # 500 "database is locked" (reported to the ACD's owners; not a page's fault).
    for who in ("admin", "supervisor", "agent"):
        db.add(Agent(user_id=users[who].id, tenant_id=tenant.id, presence=Presence.offline, state=AgentState.idle, status="offline",
                     status_since=now, updated_at=now, missed_in_row=0, calls_today=0, talk_seconds_today=0))
    db.add(NotificationDelivery(tenant_id=tenant.id, kind="voicemail", subject_id=1, channel="mail", recipient="admin@tel.example",
                                status="sent", attempts=1, sent_at=now))
    db.commit()
    return users


def at_the_carrier(telephony, sid: str, seconds: int) -> str:
    """A finished recording kept at the (simulated) carrier; returns its media URL."""
    from ecti_twilio.simulator.models import Recording as CarrierRecording

    sim = telephony.sim
    recording = CarrierRecording(sid, telephony.account_sid, None, "RecordVerb", 1, sim.clock.now(), sim.clock.seconds,
                                 status="completed", duration=seconds)
    sim.recordings[sid] = recording
    return sim.recording_url(recording)


class Walk:
    """One tab of one role: visits pages and keeps what went wrong, page by page."""

    def __init__(self, page, base_url, shots: Path):
        self.page, self.base_url, self.shots = page, base_url, shots
        self.problems: list[str] = []
        self.current = ""
        self.axe_seen = 0
        self.seconds: dict[str, float] = {}
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"{self.current}: JavaScript error: {exc}"))
        page.on("response", self._response)
        page.on("requestfailed", self._failed)

    def _console(self, message):
        if message.type == "error":
            self.problems.append(f"{self.current}: console error: {message.text} ({message.location.get('url', '')})")

    def _response(self, response):
        if response.status >= 400:
            self.problems.append(f"{self.current}: {response.status} for {response.request.method} {response.url}")

    def _failed(self, request):
        failure = request.failure or ""
        # A navigation cancels the previous page's pending requests (a poll, a media preload).
        if "ERR_ABORTED" not in failure:
            self.problems.append(f"{self.current}: request failed: {request.url} ({failure})")

    def visit(self, path: str, label: str, *, axe: bool, screenshot: bool = True) -> None:
        self.current = f"{label} {path}"
        started = time.monotonic()
        response = self.page.goto(self.base_url + path)
        if response is None or response.status >= 400:
            self.problems.append(f"{self.current}: answered {response.status if response else 'nothing'}")
        self.page.wait_for_load_state("load")
        for width, height in SIZES:
            self.page.set_viewport_size({"width": width, "height": height})
            self.check_layout(f"{self.current} @{width}")
            if screenshot:
                name = re.sub(r"[^\w.-]+", "_", path.strip("/")) or "home"
                self.page.screenshot(path=str(self.shots / f"{name}-{label}-{width}.png"))
        if axe:
            self.check_axe()
        self.seconds[self.current] = time.monotonic() - started

    def check_layout(self, where: str) -> None:
        measured = self.page.evaluate("""() => {
            const header = document.querySelector('.ecti-header') || document.querySelector('body header');
            const nav = document.querySelector('.ecti-header nav');
            return {
                header: header ? Math.round(header.getBoundingClientRect().height) : 0,
                scrollWidth: document.documentElement.scrollWidth,
                innerWidth: window.innerWidth,
                wrappedNav: [...document.querySelectorAll('.ecti-nav a, .ecti-nav h2')]
                    .filter(el => el.getClientRects().length > 1 || el.scrollWidth > el.clientWidth + 1)
                    .map(el => el.textContent.trim()),
            };
        }""")
        if measured["header"] > MAX_HEADER:
            self.problems.append(f"{where}: the header is {measured['header']} px tall (at most {MAX_HEADER})")
        if measured["scrollWidth"] > measured["innerWidth"]:
            self.problems.append(f"{where}: the page scrolls sideways ({measured['scrollWidth']} px in {measured['innerWidth']})")
        if measured["wrappedNav"]:
            self.problems.append(f"{where}: navigation labels do not fit: {measured['wrappedNav']}")

    def check_axe(self) -> None:
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => `${v.impact} ${v.id}: ${v.help} — ` + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
        }""")
        self.axe_seen += 1
        self.problems.extend(f"{self.current}: axe {violation}" for violation in result)


def sign_in(page, base_url, email, password) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(lambda url: "/login" not in url)


def switch_language(page, to: str) -> None:
    page.locator("summary.ecti-menu__trigger").click()
    page.get_by_role("button", name=to).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def screenshot_dir(role: str) -> Path:
    root = Path(os.environ.get("ECTI_SCREENSHOTS") or REPO / "var" / "screenshots")
    folder = root / role
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


#: Where each role lands after signing in.
LANDING = {"agent": "/phone", "supervisor": "/reports/wallboard", "admin": "/", "operator": "/operator/tenants"}


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin", "operator"])
def test_every_page_of_the_role_fits_works_and_is_accessible(role, company, telephony, db, chromium):
    from pyramid.request import Request

    user = company[role]
    pages = console_pages(telephony.registry)
    request = Request.blank("/", base_url=telephony.base_url)
    request.registry = telephony.registry
    matchdicts = record_ids(db, telephony.tenant.id)
    email, password = user.email, user.password
    db.rollback()  # SQLite: an open transaction of the test would hold the lock the app needs
    paths = sorted(
        (path_for(request, name, pattern, matchdicts), pattern)
        for name, (pattern, permission) in pages.items()
        # The operator opens no company's records (a recording's page is "signed in" only).
        if may_open(role, permission) and (role != "operator" or "{" not in pattern or name.startswith("operator."))
    )
    assert len(paths) >= 3, paths

    context = chromium.new_context(locale="ja-JP", viewport={"width": SIZES[0][0], "height": SIZES[0][1]}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    walk = Walk(page, telephony.base_url, screenshot_dir(role))
    try:
        walk.visit("/login", "ja", axe=True)
        sign_in(page, telephony.base_url, email, password)
        assert page.url == telephony.base_url + LANDING[role], f"{role} landed on {page.url}"
        for label, other in (("ja", "English"), ("en", None)):
            for path, pattern in paths:
                # Screenshots of the main pages (lists, settings); record pages are checked alike.
                walk.visit(path, label, axe=True, screenshot="{" not in pattern)
            if other:
                # The language switch is in the console's account menu (the wallboard has none).
                page.goto(telephony.base_url + ("/reports/queues" if role == "supervisor" else LANDING[role]))
                switch_language(page, other)
    finally:
        context.close()
    slowest = sorted(walk.seconds.items(), key=lambda kv: -kv[1])[:5]
    print(f"{role}: {len(walk.seconds)} visits in {sum(walk.seconds.values()):.0f} s; slowest: "
          + ", ".join(f"{page} {seconds:.1f} s" for page, seconds in slowest))
    assert walk.axe_seen == len(walk.seconds), "axe-core ran on every visit"
    problems = walk.problems
    assert not problems, f"{len(problems)} problems on {len(paths)} pages:\n" + "\n".join(problems)
