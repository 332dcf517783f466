"""Shared by the recording and voicemail tests: a company whose number answers with a voicemail
box, messages left through the Twilio simulator, and signed-in browsers."""
from __future__ import annotations

import pytest
import webtest as wt
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from ecti.calls.models import Recording
from ecti.ivr.models import VoicemailBox, VoicemailMessage
from ecti.ivr.services import create_box, save_flow
from ecti.telephony.models import PhoneNumber
from ecti_twilio.testing import AUTH_TOKEN

GREETING = "ただいま営業時間外です。発信音のあとにメッセージをどうぞ。"


def voicemail_line(telephony, db, *, box_name="代表伝言", **box_settings) -> VoicemailBox:
    """The company's number answers straight into a voicemail box."""
    from ecti.db import set_tenant_scope

    db.rollback()
    set_tenant_scope(db, telephony.tenant.id)
    box = create_box(db, box_name)
    for key, value in box_settings.items():
        setattr(box, key, value)
    flow = save_flow(db, telephony.registry, {"name": "留守電", "start": "vm", "nodes": [
        {"id": "vm", "type": "voicemail", "settings": {"box": box.id, "greeting": {"text": GREETING}}},
    ]})
    for number in db.scalars(select(PhoneNumber)):
        number.flow_id = flow.id
    db.commit()
    return box


def leave_message(telephony, from_="+819011112222", seconds=9):
    call = telephony.dial(from_=from_)
    assert GREETING in call.said()
    telephony.sim.advance(seconds)
    call.silence()  # the caller stops talking: the recording ends
    telephony.sim.settle()
    return call


def stored(db, model):
    db.rollback()
    db.expire_all()
    return db.scalars(select(model).order_by(model.id)).all()


def last_message(db) -> VoicemailMessage:
    return stored(db, VoicemailMessage)[-1]


def recording_of(db, message) -> Recording:
    db.rollback()
    return db.get(Recording, message.recording_ref_id)


def browser(telephony, user=None):
    """A TestApp on ECTI's served app, signed in as ``user`` (None: anonymous)."""
    app = wt.TestApp(telephony.app, extra_environ={"HTTP_HOST": telephony.base_url.split("//", 1)[1]})
    if user is not None:
        form = app.get("/login").forms["login"]
        form["email"], form["password"] = user.email, user.password
        form.submit(status=303)
        app.csrf = app.get("/api/v1/me").json["csrf_token"]
    return app


def replay(telephony, webhook):
    """Post a webhook the simulator sent once more, signed as Twilio signs it."""
    url = webhook["url"]
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, webhook["params"])
    return telephony.webtest.post(url[len(telephony.base_url):], webhook["params"], headers={"X-Twilio-Signature": signature})


@pytest.fixture
def h():
    """The helpers above, for the tests of this directory (``h.browser(...)``)."""
    import types

    return types.SimpleNamespace(
        voicemail_line=voicemail_line, leave_message=leave_message, stored=stored, last_message=last_message,
        recording_of=recording_of, browser=browser, replay=replay, GREETING=GREETING,
    )
