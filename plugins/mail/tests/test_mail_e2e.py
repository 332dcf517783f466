"""Voicemail e-mail through a real SMTP server (aiosmtpd): an after-hours call leaves a message
through the Twilio simulator, and the mail arrives with what the recipient needs; while the
server is down the mail waits (visible to the admin) and nothing is lost."""
from __future__ import annotations

import email
import socket
from datetime import datetime, timedelta
from email import policy
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from ecti.ivr.models import VoicemailMessage
from ecti.ivr.services import create_box, save_flow, save_schedule
from ecti.db import set_tenant_scope
from ecti.notifications.models import NotificationDelivery
from ecti.notifications.services import send_due
from ecti.testing import run_queued_jobs
from ecti.telephony.models import PhoneNumber

TOKYO = ZoneInfo("Asia/Tokyo")
CLOSED = "本日の営業は終了しました。発信音のあとにメッセージをどうぞ。"


class Inbox:
    """aiosmtpd handler: every message the server accepted, parsed."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def to(self, address):
        return [m for rcpt, m in self.messages if address in rcpt]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(telephony):
    """A real SMTP server on a local port, configured as ``ecti.mail.*``; ``smtp.stop()`` and
    ``smtp.start()`` take it down and bring it back on the same port."""
    inbox = Inbox()
    port = free_port()
    settings = telephony.registry.settings
    settings.update({"ecti.mail.host": "127.0.0.1", "ecti.mail.port": str(port), "ecti.mail.sender": "ECTI <noreply@ecti.example>",
                     "ecti.mail.timeout": "5"})

    class Server:
        def __init__(self):
            self.inbox, self.controller = inbox, None

        def start(self):
            self.controller = Controller(inbox, hostname="127.0.0.1", port=port)
            self.controller.start()

        def stop(self):
            if self.controller is not None:
                self.controller.stop()
                self.controller = None

    server = Server()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def after_hours(telephony, db, make_user):
    """Weekday hours 9–18 in Tokyo, the clock at 19:30 on a Wednesday, a box whose recipients
    are a Japanese-speaking admin, an English-speaking supervisor and an outside address."""
    telephony.registry["ecti.clock"] = lambda: datetime(2025, 6, 11, 19, 30, tzinfo=TOKYO)
    admin = make_user(telephony.tenant, role="admin", email="kanri@tel.example", name="管理 花子")
    english = make_user(telephony.tenant, role="supervisor", email="sv@tel.example", name="Sam")
    db.rollback()
    set_tenant_scope(db, telephony.tenant.id)
    from ecti.tenancy.models import User

    db.get(User, english.id).locale = "en"
    schedule = save_schedule(db, telephony.registry, name="平日", weekly={d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
                             calendars=[])
    box = create_box(db, "代表伝言")
    box.recipient_user_ids = [admin.id, english.id]
    box.recipient_emails = ["owner@outside.example"]
    box.attach_audio = True
    flow = save_flow(db, telephony.registry, {"name": "代表", "start": "hours", "nodes": [
        {"id": "hours", "type": "schedule", "settings": {"schedule": schedule.id}, "next": {"open": "vm", "closed": "vm"}},
        {"id": "vm", "type": "voicemail", "settings": {"box": box.id, "greeting": {"text": CLOSED}}},
    ]})
    for number in db.scalars(select(PhoneNumber)):
        number.flow_id = flow.id
    db.commit()
    return admin


def leave_message(telephony, seconds=12):
    caller = telephony.dial(from_="+819011112222")
    assert CLOSED in caller.said()
    telephony.sim.advance(seconds)
    caller.silence()
    telephony.sim.settle()
    return caller


def messages(db):
    db.rollback()
    db.expire_all()
    return db.scalars(select(VoicemailMessage)).all()


def deliveries(db):
    db.rollback()
    db.expire_all()
    return db.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id)).all()


def test_an_after_hours_voicemail_is_mailed_to_the_boxs_recipients(telephony, db, smtp, after_hours):
    leave_message(telephony, seconds=12)
    [message] = messages(db)
    assert smtp.inbox.messages == []  # nothing is sent inside the webhook's transaction
    assert run_queued_jobs(telephony.registry) == 1
    [japanese] = smtp.inbox.to("kanri@tel.example")
    assert japanese["Subject"] == "留守番電話: 090-1111-2222 (代表伝言)"
    assert japanese["From"] == "ECTI <noreply@ecti.example>"
    received = message.created_at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")
    text = japanese.get_body(("plain",)).get_content()
    for expected in ("090-1111-2222", received, "12 秒", "代表伝言", f"{telephony.base_url}/voicemail/{message.id}"):
        assert expected in text, (expected, text)
    [attachment] = list(japanese.iter_attachments())
    assert attachment.get_filename() == f"voicemail-{message.id}.wav" and attachment.get_content()[:4] == b"RIFF"
    [english] = smtp.inbox.to("sv@tel.example")
    assert english["Subject"] == "Voicemail from 090-1111-2222 (代表伝言)"
    assert "Length: 12 seconds" in english.get_body(("plain",)).get_content()
    assert len(smtp.inbox.to("owner@outside.example")) == 1
    assert [d.status for d in deliveries(db)] == ["sent", "sent", "sent"]
    # The link opens the message for a signed-in recipient.
    from webtest import TestApp

    app = TestApp(telephony.app, extra_environ={"HTTP_HOST": telephony.base_url.split("//", 1)[1]})
    login = app.get(f"/voicemail/{message.id}", status=302)
    form = app.get(login.headers["Location"]).forms["login"]
    form["email"], form["password"] = after_hours.email, after_hours.password
    page = form.submit(status=303).follow()
    assert "090-1111-2222" in page.text and "代表伝言" in page.text


def test_hook_ecti_plugin_settings_the_company_names_the_sender_and_the_reply_to(telephony, db, smtp, after_hours):
    """The admin sets the company's sender name and Reply-To on the console; the mail comes from
    that name at the installation's own address, and a bad address is refused with its reason."""
    from webtest import TestApp

    app = TestApp(telephony.app, extra_environ={"HTTP_HOST": telephony.base_url.split("//", 1)[1]})
    form = app.get("/login").forms["login"]
    form["email"], form["password"] = after_hours.email, after_hours.password
    form.submit(status=303)
    settings = app.get("/admin/plugins/mail/settings").forms["plugin-settings"]
    settings["sender_name"] = "テレフォン株式会社 留守番電話"
    settings["reply_to"] = "support@tel"
    refused = settings.submit(status=422)
    assert "メールアドレス" in refused.html.select_one('[data-field="reply_to"]').get_text()
    settings = refused.forms["plugin-settings"]
    settings["reply_to"] = "support@tel.example"
    settings.submit(status=303)

    leave_message(telephony, seconds=6)
    assert run_queued_jobs(telephony.registry) == 1
    [mail] = smtp.inbox.to("kanri@tel.example")
    [sender] = mail["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("テレフォン株式会社 留守番電話", "noreply@ecti.example")
    assert mail["Reply-To"] == "support@tel.example"


def test_an_smtp_outage_delays_the_mail_but_loses_nothing(telephony, db, smtp, after_hours, make_user):
    smtp.stop()
    caller = leave_message(telephony, seconds=8)
    assert caller.status == "completed" and "ありがとう" in caller.said()[-1]  # the caller never waits for mail
    assert telephony.sim.errors_for(telephony.account_sid) == []
    [message] = messages(db)  # saved before any mail was tried
    run_queued_jobs(telephony.registry)
    rows = deliveries(db)
    assert {d.status for d in rows} == {"failed"} and all(d.attempts == 1 for d in rows)
    assert all("Connection refused" in d.last_error or "Errno" in d.last_error for d in rows)
    # The admin sees why, and when it will be tried again.
    from webtest import TestApp

    app = TestApp(telephony.app, extra_environ={"HTTP_HOST": telephony.base_url.split("//", 1)[1]})
    form = app.get("/login").forms["login"]
    form["email"], form["password"] = after_hours.email, after_hours.password
    form.submit(status=303)
    page = app.get("/notifications")
    failed = page.html.select("#deliveries tr.delivery-failed")
    assert len(failed) == 3 and "失敗" in failed[0].select_one(".status").text
    assert "Connection refused" in failed[0].select_one(".last-error").text or "Errno" in failed[0].select_one(".last-error").text
    # Not due yet: a retry now would be too early; the periodic retry after the backoff sends it.
    assert send_due(telephony.registry) == []
    smtp.start()
    later = datetime.now(tz=TOKYO) + timedelta(minutes=2)
    assert send_due(telephony.registry, now=later) == ["sent", "sent", "sent"]
    [mail] = smtp.inbox.to("kanri@tel.example")
    assert "090-1111-2222" in mail.get_body(("plain",)).get_content()
    assert [d.status for d in deliveries(db)] == ["sent"] * 3 and all(d.attempts == 2 for d in deliveries(db))
    assert app.get("/notifications").html.select("#deliveries tr.delivery-failed") == []
    assert len(messages(db)) == 1


def test_retry_now_sends_a_failed_mail_at_once(telephony, db, smtp, after_hours):
    smtp.stop()
    leave_message(telephony, seconds=5)
    run_queued_jobs(telephony.registry)
    smtp.start()
    from webtest import TestApp

    app = TestApp(telephony.app, extra_environ={"HTTP_HOST": telephony.base_url.split("//", 1)[1]})
    form = app.get("/login").forms["login"]
    form["email"], form["password"] = after_hours.email, after_hours.password
    form.submit(status=303)
    page = app.get("/notifications")
    retry = [f for f in page.forms.values() if f.action.endswith("/retry")][0]
    retry.submit(status=303)
    assert run_queued_jobs(telephony.registry) == 1
    assert len(smtp.inbox.messages) == 1
    assert [d.status for d in deliveries(db)].count("sent") == 1


def test_a_new_box_nobody_was_chosen_for_mails_the_companys_admins(telephony, db, smtp, make_user):
    """Safer default: a box left as created does not swallow messages silently; its company's
    active administrators get the mail until recipients are chosen."""
    telephony.registry["ecti.clock"] = lambda: datetime(2025, 6, 11, 19, 30, tzinfo=TOKYO)
    make_user(telephony.tenant, role="admin", email="kanri@tel.example", name="管理 花子")
    make_user(telephony.tenant, role="supervisor", email="sv@tel.example", name="監督 次郎")
    gone = make_user(telephony.tenant, role="admin", email="former@tel.example", name="退職 三郎")
    db.rollback()
    set_tenant_scope(db, telephony.tenant.id)
    from ecti.tenancy.models import User

    db.get(User, gone.id).is_active = False
    box = create_box(db, "新しい伝言")
    flow = save_flow(db, telephony.registry, {"name": "代表", "start": "vm", "nodes": [
        {"id": "vm", "type": "voicemail", "settings": {"box": box.id, "greeting": {"text": CLOSED}}},
    ]})
    for number in db.scalars(select(PhoneNumber)):
        number.flow_id = flow.id
    db.commit()
    leave_message(telephony, seconds=6)
    assert run_queued_jobs(telephony.registry) == 1
    assert sorted(rcpt for rcpts, _m in smtp.inbox.messages for rcpt in rcpts) == ["kanri@tel.example"]
    [mail] = smtp.inbox.to("kanri@tel.example")
    assert mail["Subject"] == "留守番電話: 090-1111-2222 (新しい伝言)"
