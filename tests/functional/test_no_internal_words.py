"""No internal identifier on any console page: every page, every role, in Japanese.

A company with data of every kind (calls of every status and outcome with events of every kind,
queues of every routing strategy, a flow with every node type, voicemail, recordings, prompts,
dialing lists, SMS, notifications, audit entries) is rendered page by page, server-side, as an
admin, a supervisor, an agent and the operator. The visible text (without ``code``/``pre``, form
values and the data seeded here) must not contain what a person should never read: snake_case
codes, ``Class.attribute``, E.164 Japanese numbers, or an enum value, status, node type,
event or strategy name in English.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import webtest as wt
from bs4 import BeautifulSoup
from pyramid.interfaces import IRoutesMapper
from sqlalchemy import select

NUMBER = "+815012345678"
CALLER = "+819011112222"
NOW = datetime.now(timezone.utc).replace(microsecond=0)

#: What the seed below writes that people typed (names, texts): visible as such.
USER_DATA: set[str] = set()


def typed(text: str) -> str:
    USER_DATA.add(text)
    return text


def _seed(db, registry, tenant, users):
    from ecti.acd.models import EntryStatus, Outcome, Queue, QueueEntry, QueueMember
    from ecti.acd.strategies import BUNDLED as STRATEGIES
    from ecti.calls.models import Call, CallEvent, CallOutcome, CallStatus, Direction, EventKind, Recording, RecordingSettings
    from ecti.contacts.models import Contact, ContactNumber
    from ecti.db import set_tenant_scope
    from ecti.dialer.models import DialingList, DialingListAgent, DialingRow, DoNotCall, ListStatus, RowStatus
    from ecti.ivr.models import VoicemailMessage
    from ecti.ivr.services import add_closure, create_box, save_flow, save_schedule
    from ecti.messaging.models import Message, MessageStatus
    from ecti.notifications.models import NotificationDelivery
    from ecti.prompts.models import Prompt, PromptKind
    from ecti.telephony.models import PhoneNumber

    set_tenant_scope(db, tenant.id)
    admin, supervisor, agent = users
    number = db.scalar(select(PhoneNumber))
    queues = []
    for i, strategy in enumerate(STRATEGIES):
        queue = Queue(tenant_id=tenant.id, name=typed(f"窓口{i + 1}"), strategy=strategy.name,
                      overflow={"kind": "hangup", "target": ""})
        db.add(queue)
        queues.append(queue)
    db.flush()
    db.add(QueueMember(tenant_id=tenant.id, queue_id=queues[0].id, user_id=agent.id, level=1, position=0))
    schedule = save_schedule(db, registry, name=typed("平日"), weekly={d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
                             calendars=["jp_national"])
    add_closure(db, name=typed("年末年始"), start=NOW.date() + timedelta(days=20), end=NOW.date() + timedelta(days=25))
    box = create_box(db, typed("代表伝言"))
    prompt = Prompt(tenant_id=tenant.id, name=typed("挨拶"), kind=PromptKind.tts, text=typed("お電話ありがとうございます。"), provider="twilio")
    db.add(prompt)
    db.flush()
    flow = save_flow(db, registry, {"name": typed("代表"), "start": "hours", "nodes": [
        {"id": "hours", "type": "schedule", "settings": {"schedule": schedule.id}, "next": {"open": "welcome", "closed": "bye", "holiday": "bye"}},
        {"id": "welcome", "type": "announcement", "settings": {"prompt": {"prompt_id": prompt.id}}, "next": {"next": "menu"}},
        {"id": "menu", "type": "menu", "settings": {
            "prompt": {"text": typed("1 か 2 を押してください。")}, "digits": ["1", "2", "3"],
            "invalid_prompt": {"text": typed("番号が正しくありません。")}, "no_input_prompt": {"text": typed("番号が押されませんでした。")}, "retries": 2},
         "next": {"1": "sales", "2": "support", "3": "message", "fallback": "message"}},
        {"id": "sales", "type": "queue", "settings": {"queue": queues[0].id}, "next": {"fallback": "message"}},
        {"id": "support", "type": "forward", "settings": {"destinations": ["+81312345678"], "timeout": 20, "caller_id": "caller", "when_in_use": "disconnect"},
         "next": {"no_answer": "message"}},
        {"id": "message", "type": "voicemail", "settings": {"box": box.id, "greeting": {"text": typed("発信音のあとにどうぞ。")}}},
        {"id": "bye", "type": "hangup", "settings": {}, "next": {}},
    ]})
    USER_DATA.update({"hours", "welcome", "menu", "sales", "support", "message", "bye"})
    number.flow_id = flow.id
    db.add(RecordingSettings(tenant_id=tenant.id, record_queue_calls=True, record_outbound=False, retention_days=90))

    at = NOW - timedelta(hours=1)
    calls = []
    statuses, outcomes = list(CallStatus), list(CallOutcome)
    for i in range(max(len(statuses), len(outcomes))):
        status = statuses[i % len(statuses)]
        done = status in (CallStatus.completed, CallStatus.busy, CallStatus.failed, CallStatus.no_answer, CallStatus.canceled)
        call = Call(
            tenant_id=tenant.id, carrier_call_id=f"CA{i:032d}", direction=Direction.inbound if i % 2 == 0 else Direction.outbound,
            from_number=CALLER if i % 2 == 0 else NUMBER, to_number=NUMBER if i % 2 == 0 else CALLER, status=status,
            started_at=at + timedelta(minutes=i), answered_at=at + timedelta(minutes=i, seconds=10),
            ended_at=at + timedelta(minutes=i, seconds=100) if done else None, duration_seconds=100 if done else None,
            tenant_number=NUMBER, queue_id=queues[0].id, agent_user_id=agent.id, queued_at=at + timedelta(minutes=i, seconds=2),
            connected_at=at + timedelta(minutes=i, seconds=10), wait_seconds=8, talk_seconds=90, hold_seconds=0, wrap_up_seconds=30,
            outcome=outcomes[i % len(outcomes)] if done else None, has_recording=i == 0, has_voicemail=i == 2,
            flow_path=[{"flow": flow.id, "node": "hours", "type": "schedule", "branch": "open"}],
        )
        db.add(call)
        calls.append(call)
    db.flush()
    for j, kind in enumerate(EventKind):
        db.add(CallEvent(tenant_id=tenant.id, call_id=calls[0].id, kind=kind, at=at + timedelta(seconds=j),
                         data={"node": "hours", "type": "schedule", "branch": "open", "queue": queues[0].id, "user": agent.id,
                               "status": "completed", "reason": "closed", "by": "caller", "box": box.id, "box_name": "代表伝言"}))
    for j, status in enumerate(("completed", "in-progress", "absent", "failed")):
        db.add(Recording(tenant_id=tenant.id, call_id=calls[0].id, carrier_recording_id=f"RE{j:032d}", status=status,
                         duration_seconds=30 if status == "completed" else 0, purpose="call", created_at=at))
    voicemail = Recording(tenant_id=tenant.id, call_id=calls[2].id, carrier_recording_id="RE" + "f" * 32, status="completed",
                          duration_seconds=12, purpose="voicemail", created_at=at)
    db.add(voicemail)
    db.flush()
    db.add(VoicemailMessage(tenant_id=tenant.id, box_id=box.id, call_id=calls[2].id, from_number=CALLER, recording_id=voicemail.carrier_recording_id,
                            duration_seconds=12, recording_ref_id=voicemail.id, created_at=at))
    for j, status in enumerate(EntryStatus):
        db.add(QueueEntry(tenant_id=tenant.id, queue_id=queues[j % len(queues)].id, call_id=calls[j].id, status=status,
                          entered_at=at + timedelta(minutes=j), agent_user_id=agent.id))
    for j, outcome in enumerate(Outcome):
        db.add(QueueEntry(tenant_id=tenant.id, queue_id=queues[0].id, call_id=calls[j].id, status=list(EntryStatus)[-1],
                          entered_at=at + timedelta(minutes=j), ended_at=at + timedelta(minutes=j, seconds=60), outcome=outcome, ended_by="caller"))

    lst = DialingList(tenant_id=tenant.id, name=typed("秋のご案内"), caller_id=NUMBER, weekly={"mon": [["09:00", "18:00"]]},
                      status=ListStatus.running, columns=["number", "name"])
    db.add(lst)
    db.flush()
    db.add(DialingListAgent(tenant_id=tenant.id, list_id=lst.id, user_id=agent.id))
    for j, status in enumerate(RowStatus):
        db.add(DialingRow(tenant_id=tenant.id, list_id=lst.id, row_number=j + 2, number=f"+8190111100{j:02d}", name=typed(f"顧客{j}"), status=status))
    for status in ListStatus:
        db.add(DialingList(tenant_id=tenant.id, name=typed(f"リスト{status.value}"), caller_id=NUMBER, status=status))
        USER_DATA.add(status.value)  # inside the seeded name only (see _visible)
    db.add(DoNotCall(tenant_id=tenant.id, number="+819099998888", reason=typed("本人の希望")))
    contact = Contact(tenant_id=tenant.id, name=typed("山田 太郎"), company=typed("山田商店"))
    db.add(contact)
    db.flush()
    db.add(ContactNumber(tenant_id=tenant.id, contact_id=contact.id, e164=CALLER))
    for j, status in enumerate(MessageStatus):
        db.add(Message(tenant_id=tenant.id, direction=Direction.inbound if j % 2 else Direction.outbound, from_number=NUMBER, to_number=CALLER,
                       remote_number=CALLER, body=typed(f"SMS本文{j}"), status=status, created_at=at))
    for status in ("pending", "sent", "failed"):
        db.add(NotificationDelivery(tenant_id=tenant.id, kind="voicemail.received", subject_id=1, channel="email",
                                    recipient=admin.email, status=status, last_error=typed("SMTP 接続エラー") if status == "failed" else None))
    # API keys (active, revoked, expired) and a webhook with a delivery of each status.
    from ecti.apikeys.scopes import TENANT_SCOPES
    from ecti.apikeys.services import create_key
    from ecti.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription
    from ecti.webhooks.services import EVENT_TYPES

    for j, name in enumerate(("BI", "CRM", "WFM")):
        key, _secret = create_key(db, user=admin, name=typed(name), scopes=list(TENANT_SCOPES))
        key.revoked_at = at if j == 1 else None
        key.expires_at = at if j == 2 else None
        key.last_used_at = at if j == 0 else None
    hook = WebhookSubscription(tenant_id=tenant.id, url=typed("https://crm.example.jp/hooks"), description=typed("CRM 連携"),
                               events=list(EVENT_TYPES), secret_encrypted=registry.secret_box.encrypt("whsec_x"))
    db.add(hook)
    event = WebhookEvent(tenant_id=tenant.id, public_id="evt_seed", type="call.ended", payload={})
    db.add(event)
    for status, code in (("pending", None), ("succeeded", 200), ("failed", 500)):
        db.add(WebhookDelivery(tenant_id=tenant.id, subscription=hook, event=event, status=status, attempts=1, response_status=code,
                               last_error=typed("HTTP 500") if status == "failed" else None))
    db.add(WebhookSubscription(tenant_id=tenant.id, url=typed("https://old.example.jp/hooks"), events=["call.ended"], status="paused",
                               secret_encrypted=registry.secret_box.encrypt("whsec_y")))
    db.commit()
    return {"flow": flow, "schedule": schedule, "box": box, "prompt": prompt, "queue": queues[0], "call": calls[0], "list": lst,
            "contact": contact, "voicemail": db.scalar(select(VoicemailMessage)), "recording": voicemail}


@pytest.fixture
def site(app, db, make_tenant, make_user):
    from ecti.tenancy.models import Role, User
    from ecti.tenancy.services import create_user

    tenant = make_tenant(slug="acme", name=typed("株式会社アクメ"))
    from ecti.telephony.models import PhoneNumber

    db.add(PhoneNumber(tenant_id=tenant.id, e164=NUMBER, label=typed("代表番号"), sms_capable=True))
    db.commit()
    users = [make_user(tenant, role=r, email=f"{r}@acme.example", name=typed(n)) for r, n in
             (("admin", "管理 一郎"), ("supervisor", "監督 二郎"), ("agent", "応対 三郎"))]
    operator = create_user(db, tenant=None, email="operator@ecti.example", display_name=typed("運用 太郎"), role=Role.operator, password="correct horse battery")
    db.commit()
    operator.password = "correct horse battery"
    from ecti.config import configure  # noqa: F401  (the app's registry is the one below)

    ids = _seed(db, app.registry, tenant, users)
    return {"users": dict(zip(("admin", "supervisor", "agent"), users)) | {"operator": operator}, "ids": ids, "tenant": tenant}


#: Route → what fills its {id} (the seeded object's attribute).
ROUTE_IDS = {
    "ivr.flow": "flow", "ivr.schedule": "schedule", "voicemail.box": "box", "admin.prompt": "prompt", "admin.queue": "queue",
    "call": "call", "dialer.list": "list", "contacts.edit": "contact", "voicemail.message": "voicemail", "voicemail.delete": "voicemail",
    "recording_delete": "recording", "admin.prompt_delete": "prompt", "operator.tenant": "tenant",
}
#: Routes that are not pages people read (media, downloads, webhooks, redirects, JSON).
NOT_PAGES = re.compile(r"^(api\.|twilio\.(incoming|fallback|status|client|step|sms_)|prompts\.media|recording_|.*download|.*\.csv|.*_csv|logout|lang|sms\.send|.*callcenter|.*static)")

#: Words that are codes, whatever the page: every enum value of the models and of the registries.
def _codes(registry) -> set[str]:
    import enum

    from ecti.acd import models as acd
    from ecti.calls import models as calls
    from ecti.dialer import models as dialer
    from ecti.messaging import models as messaging
    from ecti.prompts import models as prompts
    from ecti.tenancy import models as tenancy

    values = set()
    for module in (acd, calls, dialer, messaging, prompts, tenancy):
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, enum.Enum) and obj is not enum.Enum:
                values.update(str(m.value) for m in obj)
    values.update(registry.ecti.routing_strategies)
    values.update(registry.ecti.ivr_node_types)
    for node_type in registry.ecti.ivr_node_types.values():  # the settings' names ("destinations")
        values.update(node_type.settings_schema.get("properties", {}))
    values.update(("open", "closed", "holiday", "fallback", "no_input", "in-progress", "absent", "Pause", "Beep", "Say", "Play", "Dial",
                   "Record", "Enqueue", "Hangup", "voicemail", "completed", "pending", "sent", "failed", "email"))
    # Words that are also plain English (or our product's words) and not codes on their own.
    return {v for v in values if v not in {"ja", "en", "SMS"}}


SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
CLASS_ATTR = re.compile(r"\b[A-Z][A-Za-z]+\.[a-z_]+\b")
E164_JP = re.compile(r"\+81\d{9,10}")


def _visible(html: str, *, japanese_only: bool = False) -> str:
    """The text a person reads, without code samples, form contents and the seeded data;
    ``japanese_only``: without passages marked as English (a bilingual page's other language)."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "code", "pre", "textarea", "template", "noscript"]):
        tag.decompose()
    if japanese_only:
        for tag in soup.select("[lang]:not([lang=ja]):not(html)"):
            tag.decompose()
    main = soup.select_one("main") or soup.body or soup
    text = " ".join(main.stripped_strings)
    for word in sorted(USER_DATA, key=len, reverse=True):
        text = text.replace(word, " ")
    return text


def problems(html: str, codes: set[str]) -> list[str]:
    text = _visible(html)
    found = []
    found += [f"snake_case {m}" for m in SNAKE.findall(text)]
    found += [f"Class.attribute {m}" for m in CLASS_ATTR.findall(text)]
    found += [f"E.164 number {m}" for m in E164_JP.findall(text)]
    japanese = _visible(html, japanese_only=True)
    for code in codes:
        if re.search(rf"(?<![\w@.-]){re.escape(code)}(?![\w@-])", japanese):
            found.append(f"code {code}")
    return sorted(set(found))


def _pages(app, ids) -> list[tuple[str, str]]:
    mapper = app.registry.getUtility(IRoutesMapper)
    pages, unmapped = [], []
    for route in mapper.get_routes():
        if NOT_PAGES.match(route.name) or "*" in route.pattern or route.pattern.startswith(("/api", "/slds", "/static", "/_")):
            continue
        placeholders = re.findall(r"\{(\w+)", route.pattern)
        if not placeholders:
            pages.append((route.name, route.generate({})))
        elif placeholders == ["id"] and route.name in ROUTE_IDS:
            pages.append((route.name, route.generate({"id": str(ids[ROUTE_IDS[route.name]].id)})))
        else:
            unmapped.append(route.name)
    return pages, unmapped


def test_no_page_shows_an_internal_identifier(app, site, login):
    codes = _codes(app.registry)
    ids = site["ids"] | {"tenant": site["tenant"]}
    pages, unmapped = _pages(app, ids)
    failures, seen = {}, 0
    for role, user in site["users"].items():
        browser = wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
        login(browser, user)
        for name, path in pages:
            response = browser.get(path, expect_errors=True)
            if response.status_int != 200 or "text/html" not in response.content_type:
                continue
            seen += 1
            found = problems(response.text, codes)
            if found:
                failures[f"{role} {path}"] = found
    # Pages in states a plain visit does not show: the schedule's "what happens at" answers, and
    # the flow editor refusing a step with a missing field.
    browser = wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    login(browser, site["users"]["admin"])
    schedule = f"/admin/ivr/schedules/{ids['schedule'].id}"
    states = {f"{schedule}?at={at}": browser.get(schedule, {"at": at}) for at in ("2026-06-10T10:00", "2026-06-14T10:00", "2026-01-01T10:00")}
    form = browser.get(f"/admin/ivr/flows/{ids['flow'].id}/form").forms["flow-editor"]
    for field in form.fields:
        if field.endswith("settings.destinations"):
            form[field] = ""
    states["flow editor, refused"] = form.submit("action", value="save", status=422)
    form = browser.get(f"/admin/ivr/flows/{ids['flow'].id}/form").forms["flow-editor"]
    form["new.type"], form["new.id"] = "forward", "extra"
    USER_DATA.add("extra")
    added = form.submit("action", value="add")
    states["flow editor, a new step saved empty"] = added.forms["flow-editor"].submit("action", value="save", status=422)
    for state, response in states.items():
        seen += 1
        found = problems(response.text, codes)
        if found:
            failures[f"admin {state}"] = found
    print(f"{seen} pages rendered; routes with other placeholders: {unmapped}")
    assert seen > 60, f"only {seen} pages rendered"
    assert not failures, "internal words on screen:\n" + "\n".join(f"{page}: {', '.join(found)}" for page, found in sorted(failures.items()))
