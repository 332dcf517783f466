"""The ACD through the Twilio plugin's signed webhooks: the agent's leg comes back with its own
CallSid and is dispatched with the caller's call; the answer joins the call's conference."""
from urllib.parse import urlencode

import pytest

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from ecti.acd.agents import set_presence
from ecti.acd.models import Offer, OfferStatus, Presence, Queue, QueueMember
from ecti.calls.models import Call, CallStatus, Direction
from ecti.db import set_tenant_scope
from ecti.jobs import in_transaction
from ecti.tenancy.models import User

SID = "AC" + "1" * 32
TOKEN = "twilio-auth-token"


@pytest.fixture
def app_settings(database_url):
    from ecti.testing import base_settings

    # Twilio's REST API is never reached from tests: a closed local port refuses at once.
    return {**base_settings(database_url), "ecti.twilio.api_base_url": "http://127.0.0.1:9"}


def signed_post(webtest, path, params):
    url = "http://localhost" + path
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    return webtest.post(path, params, headers={"X-Twilio-Signature": signature})


def test_an_agent_leg_answers_into_the_callers_conference(app, webtest, db, make_tenant, make_user):
    tenant = make_tenant()
    tenant.set_carrier_credentials(app.registry.secret_box, SID, TOKEN)
    agent = make_user(tenant, role="agent")
    queue = Queue(tenant_id=tenant.id, name="サポート", overflow={}, hold_audio={}, wrap_up_seconds=0)
    db.add(queue)
    db.flush()
    db.add(QueueMember(tenant_id=tenant.id, queue_id=queue.id, user_id=agent.id, level=1, position=1))
    call = Call(tenant_id=tenant.id, carrier_call_id="CA" + "2" * 32, direction=Direction.inbound, from_number="+819012345678",
                to_number="+815011112222", status=CallStatus.in_progress)
    db.add(call)
    db.commit()
    with in_transaction(app.registry, tenant.id) as request:
        set_presence(request, request.db.get(User, agent.id), Presence.available)
    # The caller's call is queued through its own signed continuation.
    queued = signed_post(webtest, f"/twilio/voice/step/acd.enqueue?{urlencode({'queue': queue.id})}",
                         {"AccountSid": SID, "CallSid": call.carrier_call_id, "CallStatus": "in-progress"})
    assert "<Conference" in queued.text and f"call-{call.id}" in queued.text and "acd.wait" in queued.text
    set_tenant_scope(db, tenant.id)
    offer = db.scalar(select(Offer))
    # Twilio itself is not reachable from the tests: ringing the agent failed after commit, which
    # is a missed offer (the caller keeps waiting in the conference).
    assert offer.status is OfferStatus.failed
    leg = "CA" + "3" * 32
    late = signed_post(webtest, f"/twilio/voice/step/acd.agent_answer?{urlencode({'call': call.id, 'offer': offer.id})}",
                       {"AccountSid": SID, "CallSid": leg, "CallStatus": "in-progress"})
    # The leg's own CallSid is unknown; the ``call`` argument found the caller's call, and the
    # ACD refused the stale offer in Japanese.
    assert "すでにほかの担当者が応答したか" in late.text and "<Hangup" in late.text
