"""Every URL Twilio calls, verified by ``X-Twilio-Signature`` before anything else happens.

===========================================  ===============================================
URL (POST)                                   What Twilio sends there
===========================================  ===============================================
``/twilio/voice/incoming``                   a number's Voice URL: a call arrives
``/twilio/voice/fallback``                   a number's Voice Fallback URL: ECTI failed
``/twilio/voice/status``                     call status callbacks (number and REST calls)
``/twilio/voice/client``                     the TwiML App's Voice URL: an agent dials
``/twilio/voice/step/{handler}?…``           continuations: digits, dial/queue results,
                                             queue wait music, recording status, …
``/twilio/sms/incoming``                     an SMS-capable number's SMS URL
``/twilio/sms/status?ref=…``                 status callbacks of messages ECTI sent
===========================================  ===============================================

A continuation is dispatched with the call its CallSid names; a leg ECTI placed for a call (the
ACD ringing an agent) has its own CallSid, so its continuations carry ``call`` (ECTI's call id).

The signature is checked against the public URL (``ecti.public_url`` + path and query), which
is what Twilio signed when ECTI runs behind a proxy. A missing or wrong signature gets 403 and
changes nothing; an unknown account gets a polite spoken rejection and a log line. A signed
request whose parameters are not what Twilio sends (no CallSid, a 10,000-character From, a
30-digit duration: :mod:`ecti_twilio.params`) gets 400 and changes nothing.
"""
from __future__ import annotations

import logging
from functools import wraps

from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from ecti.calls.models import Call, CallStatus, find_call
from ecti.db import all_tenants, set_tenant_scope
from ecti.ivr.models import Flow
from ecti.telephony.models import PhoneNumber
from ecti.messaging.services import apply_message_status, receive_message
from ecti.tenancy.models import Tenant
from ecti.voice import UnknownHandler, dispatch
from ecti.voice.calls import CarrierCall, call_status, inbound_call, say, softphone_call
from ecti.voice.instructions import CallInput, Continuation, Hangup
from ecti.i18n import _

from .params import problems
from .twiml import TwiMLRenderer, continuation_query

log = logging.getLogger(__name__)

TWIML = "text/xml; charset=utf-8"


def public_base(request) -> str:
    """ECTI's address as Twilio reaches it (``ecti.public_url``, else this request's host)."""
    return (request.registry.settings.get("ecti.public_url") or request.host_url).rstrip("/")


def public_url(request) -> str:
    """The URL Twilio requested (and signed): the public base URL plus path and query."""
    return public_base(request) + request.path_qs


def step_url(request, continuation: Continuation) -> str:
    path = request.route_path("twilio.step", handler=continuation.handler)
    query = continuation_query(continuation)
    return public_base(request) + path + ("?" + query if query else "")


def twiml_response(request, instructions) -> Response:
    body = TwiMLRenderer(lambda c: step_url(request, c)).render(instructions)
    return Response(body, content_type=TWIML)


def _signed_params(request) -> dict:
    return dict(request.POST.items()) if request.method == "POST" else {}


def _tenant_of(account_sid: str):
    return select(Tenant).where(Tenant.carrier == "twilio", Tenant.carrier_account_id == account_sid)


def find_tenant(request, account_sid: str, params: dict):
    """The tenant whose Twilio account sent the webhook (the db is in the all-tenants scope)."""
    return request.db.scalar(_tenant_of(account_sid))


#: ``request.environ`` key: what :func:`find_tenant_for_call` loaded with the tenant.
PREFETCHED = "ecti_twilio.prefetched"
PREFETCHED_FLOW = "ecti_twilio.prefetched_flow"


def find_tenant_for_call(request, account_sid: str, params: dict):
    """For an arriving call: the tenant, the called number with its flow, and the call if a
    retried webhook already recorded it — one round trip instead of four. The number and flow
    stay in the session (``db.get`` finds them without asking the database again)."""
    row = request.db.execute(
        select(Tenant, PhoneNumber, Flow, Call)
        .select_from(Tenant)
        .outerjoin(PhoneNumber, (PhoneNumber.tenant_id == Tenant.id) & (PhoneNumber.e164 == params.get("To", "")))
        .outerjoin(Flow, (Flow.id == PhoneNumber.flow_id) & (Flow.tenant_id == Tenant.id))
        .outerjoin(Call, (Call.tenant_id == Tenant.id) & (Call.carrier_call_id == params.get("CallSid", "")))
        .where(Tenant.carrier == "twilio", Tenant.carrier_account_id == account_sid)
    ).first()
    if row is None:
        return None
    request.environ[PREFETCHED] = {"number": row.PhoneNumber, "existing": row.Call}
    # The session's identity map holds objects weakly: keep the flow referenced for the
    # request, so the engine's ``db.get(Flow, …)`` finds it instead of loading it again.
    request.environ[PREFETCHED_FLOW] = row.Flow
    return row.Tenant


def twilio_webhook(view=None, *, find=find_tenant):
    """Find the tenant by AccountSid, verify the signature with its auth token, scope the db."""
    if view is None:
        return lambda view: twilio_webhook(view, find=find)

    @wraps(view)
    def verified(request):
        params = _signed_params(request)
        signature = request.headers.get("X-Twilio-Signature", "")
        account_sid = params.get("AccountSid") or request.GET.get("AccountSid", "")
        if not signature:
            return _forbidden("missing X-Twilio-Signature")
        with all_tenants(request.db):
            tenant = find(request, account_sid, params) if account_sid else None
        if tenant is None:
            log.warning("twilio webhook for unknown account %r at %s", account_sid, request.path)
            return _unknown_account(request)
        token = tenant.carrier_secret(request.registry.secret_box)
        if not token or not RequestValidator(token).validate(public_url(request), params, signature):
            log.warning("twilio webhook with a bad signature for %s at %s", tenant.slug, request.path)
            return _forbidden("bad X-Twilio-Signature")
        wrong = problems(request.matched_route.name if request.matched_route else None, params)
        if wrong:
            # Signed, so Twilio's (or its account's token leaked): still nothing is written.
            log.warning("twilio webhook for %s at %s refused: %s", tenant.slug, request.path, "; ".join(wrong))
            return Response("bad request: " + "; ".join(wrong), status=400, content_type="text/plain")
        set_tenant_scope(request.db, tenant.id)
        return view(request, tenant, params)

    return verified


def _forbidden(reason: str) -> Response:
    # A plain 403 for the carrier (not the console's "please sign in" redirect); nothing has
    # been read or written for this request.
    return Response(reason, status=403, content_type="text/plain")


def _unknown_account(request) -> Response:
    response = VoiceResponse()
    message = request.localizer.translate(_("The number you have called is not in service."))
    response.say(message, voice="Polly.Mizuki", language="ja-JP")
    response.hangup()
    return Response(str(response), content_type=TWIML)


def _carrier_call(params) -> CarrierCall:
    status = params.get("CallStatus", "ringing")
    try:
        parsed = CallStatus(status)
    except ValueError:
        parsed = CallStatus.ringing
    return CarrierCall(params.get("CallSid", ""), params.get("From", ""), params.get("To", ""), status=parsed)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def call_input(params: dict) -> CallInput:
    """Twilio's parameter names → ECTI's carrier-neutral :class:`CallInput`."""
    return CallInput(
        digits=params.get("Digits"),
        dial_status=params.get("DialCallStatus"),
        dial_call_id=params.get("DialCallSid"),
        dial_duration=_int(params.get("DialCallDuration")),
        queue_result=params.get("QueueResult"),
        queue_time=_int(params.get("QueueTime")),
        queue_position=_int(params.get("QueuePosition")),
        recording_id=params.get("RecordingSid"),
        recording_url=params.get("RecordingUrl"),
        recording_duration=_int(params.get("RecordingDuration")),
        recording_status=params.get("RecordingStatus"),
        recording_channels=_int(params.get("RecordingChannels")),
        call_status=params.get("CallStatus"),
        carrier_call_id=params.get("CallSid"),
        raw=params,
    )


@view_config(route_name="twilio.incoming", request_method="POST", require_csrf=False)
@twilio_webhook(find=find_tenant_for_call)
def incoming(request, tenant, params):
    return twiml_response(request, inbound_call(request, tenant, _carrier_call(params), **request.environ.get(PREFETCHED, {})))


@view_config(route_name="twilio.fallback", request_method="POST", require_csrf=False)
@twilio_webhook
def fallback(request, tenant, params):
    log.error("twilio used the fallback URL for call %s of %s", params.get("CallSid"), tenant.slug)
    return twiml_response(request, [say(tenant, _("We are sorry, a system error occurred. Please call again later.")), Hangup()])


@view_config(route_name="twilio.status", request_method="POST", require_csrf=False)
@twilio_webhook
def status(request, tenant, params):
    call_status(request, tenant, params.get("CallSid", ""), params.get("CallStatus", ""), duration=_int(params.get("CallDuration")))
    return Response(status=204)


@view_config(route_name="twilio.client", request_method="POST", require_csrf=False)
@twilio_webhook
def client(request, tenant, params):
    """The TwiML App's Voice URL: the browser phone placed a call (``device.connect``)."""
    instructions = softphone_call(
        request,
        tenant,
        _carrier_call(params),
        identity=params.get("From", ""),
        destination=params.get("To", ""),
        caller_id=params.get("CallerId", ""),
    )
    return twiml_response(request, instructions)


def _call_of_leg(request, args):
    """A leg ECTI placed for a call (an agent's phone ringing for a caller) comes back with its
    own CallSid; its continuation names the call it belongs to (``call`` = ECTI's call id)."""
    from ecti.calls.models import Call

    try:
        call_id = int(args.get("call", ""))
    except ValueError:
        return None
    return request.db.scalar(select(Call).where(Call.id == call_id))


@view_config(route_name="twilio.step", request_method="POST", require_csrf=False)
@twilio_webhook
def step(request, tenant, params):
    args = {k: v for k, v in request.GET.items()}
    call = find_call(request.db, params.get("CallSid", "")) or _call_of_leg(request, args)
    if call is None:
        log.warning("twilio step %s for unknown call %s", request.matchdict["handler"], params.get("CallSid"))
        return twiml_response(request, [])
    try:
        instructions = dispatch(request, call, request.matchdict["handler"], args, call_input(params))
    except UnknownHandler:
        log.error("twilio step to unknown handler %s for call %s", request.matchdict["handler"], call.carrier_call_id)
        instructions = [say(tenant, _("We are sorry, a system error occurred. Please call again later.")), Hangup()]
    return twiml_response(request, instructions)


@view_config(route_name="twilio.sms_incoming", request_method="POST", require_csrf=False)
@twilio_webhook
def sms_incoming(request, tenant, params):
    receive_message(
        request,
        tenant,
        carrier_message_id=params.get("MessageSid") or params.get("SmsSid", ""),
        from_number=params.get("From", ""),
        to_number=params.get("To", ""),
        body=params.get("Body", ""),
        segments=_int(params.get("NumSegments")) or 1,
    )
    return Response(str(MessagingResponse()), content_type=TWIML)


@view_config(route_name="twilio.sms_status", request_method="POST", require_csrf=False)
@twilio_webhook
def sms_status(request, tenant, params):
    apply_message_status(
        request.db,
        params.get("MessageSid") or params.get("SmsSid", ""),
        params.get("MessageStatus") or params.get("SmsStatus", ""),
        error_code=params.get("ErrorCode"),
        error_message=params.get("ErrorMessage"),
        reference=request.GET.get("ref"),  # ECTI's message id, put in the StatusCallback URL
    )
    return Response(status=204)


def includeme(config):
    config.add_route("twilio.incoming", "/twilio/voice/incoming")
    config.add_route("twilio.fallback", "/twilio/voice/fallback")
    config.add_route("twilio.status", "/twilio/voice/status")
    config.add_route("twilio.client", "/twilio/voice/client")
    config.add_route("twilio.step", "/twilio/voice/step/{handler}")
    config.add_route("twilio.sms_incoming", "/twilio/sms/incoming")
    config.add_route("twilio.sms_status", "/twilio/sms/status")
    config.scan(".webhooks")
