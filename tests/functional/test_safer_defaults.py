"""Defaults that cannot hurt: a new user is an agent, an empty recording says so in words.

(A new voicemail box mailing the company's admins is tested through a real SMTP server in
plugins/mail/tests/test_mail_e2e.py.)"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from ecti.calls.models import Call, CallStatus, Direction, Recording
from ecti.ivr.models import VoicemailBox
from ecti.tenancy.models import Role, User
from ecti.voicemail.services import recipients


def test_a_user_added_with_the_form_as_it_comes_is_an_agent(webtest, login, make_tenant, make_user, db):
    login(webtest, make_user(make_tenant(), role="admin"))
    form = webtest.get("/admin/users").forms["add-user"]
    assert form["role"].value == "agent"
    form["display_name"], form["email"] = "新人 四郎", "shiro@acme.example"
    form.submit(status=200)
    assert db.scalar(select(User.role).where(User.email == "shiro@acme.example")) is Role.agent


def test_a_box_nobody_was_chosen_for_notifies_the_admins_until_someone_is(webtest, login, make_tenant, make_user, db):
    tenant = make_tenant()
    admin = make_user(tenant, role="admin", email="kanri@acme.example")
    make_user(tenant, role="supervisor", email="sv@acme.example")
    make_user(make_tenant(slug="beta", name="ベータ"), role="admin", email="kanri@beta.example")
    token = login(webtest, admin)
    webtest.post("/admin/ivr/voicemail", {"csrf_token": token, "name": "総務"}, status=303)
    db.commit()
    box = db.scalar(select(VoicemailBox))
    page = webtest.get(f"/voicemail/boxes/{box.id}")
    assert page.html.select_one("#default-recipients").text == "まだ誰も選ばれていないため、新しいメッセージは会社の管理者に通知されます。"
    assert recipients(db, box) == [("kanri@acme.example", "ja")]
    form = page.forms["box-settings"]
    form["recipient_emails"] = "soumu@acme.example"
    form.submit(status=303)
    db.commit()
    db.expire_all()
    assert recipients(db, db.get(VoicemailBox, box.id)) == [("soumu@acme.example", "ja")]
    assert not webtest.get(f"/voicemail/boxes/{box.id}").html.select("#default-recipients")


def test_an_empty_or_missing_recording_says_so_once_in_words(webtest, login, make_tenant, make_user, db):
    tenant = make_tenant()
    admin = make_user(tenant, role="admin")
    at = datetime(2026, 5, 20, 1, 0, tzinfo=timezone.utc)
    call = Call(tenant_id=tenant.id, carrier_call_id="CA" + "1" * 32, direction=Direction.inbound, from_number="+819011112222",
                to_number="+815012345678", status=CallStatus.completed, started_at=at)
    db.add(call)
    db.flush()
    for sid, status, seconds in [("RE1", "absent", 0), ("RE2", "completed", 0), ("RE3", "in-progress", None), ("RE4", "failed", None)]:
        db.add(Recording(tenant_id=tenant.id, call_id=call.id, carrier_recording_id=sid, status=status, duration_seconds=seconds, created_at=at))
    db.commit()
    login(webtest, admin)
    items = webtest.get(f"/calls/{call.id}").html.select("#recordings li")
    notes = [li.select_one(".recording-note").text for li in items]
    assert notes == [
        "空の録音です（音声は記録されていません）。",
        "空の録音です（音声は記録されていません）。",
        "まだ再生できません（通信事業者が準備中です）。",
        "通信事業者がこの通話を録音できませんでした。",
    ]
    # The note replaces the length ("0:00") and the player.
    assert [" ".join(li.text.split("·")[-1].split()) for li in items] == notes
    assert not any(li.select("audio") for li in items)
