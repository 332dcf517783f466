"""Hold, resume and transfer on the calls an agent places from the softphone (issue 18).

An outgoing call starts as the agent's leg dialing the number (``<Dial>`` in Twilio's words),
the two legs bridged. Queue calls are held in a conference; an outgoing call moves into one the
first time the agent holds it, with the carrier's call update (``redirect``):

1. **bridged → parked** (first hold): the called party's leg (``dialed_leg``) is redirected to
   the call's conference ``out-<call id>`` where it waits, hearing the hold audio, until the
   conference starts. Redirecting it ends the agent's dial, whose continuation
   (:func:`after_dial`) puts the agent's leg in the same conference, also waiting (silence).
2. **parked → conference** (resume): the agent's leg is redirected into the conference as the
   participant that starts it: both talk again.
3. **conference**: hold and resume are the conference's participant hold, as for queue calls.

A blind transfer redirects the called party to a new dial (a number, under the dialing rules of
the call's caller ID); the agent's leg ends with the dial or the conference.
Each step is a ``held`` / ``resumed`` / ``transferred`` event of the call with
``data["outbound"]`` (the mode) and ``data["leg"]`` (the called party's leg), so every app
process knows the state. Redirects of a leg whose continuation reads that state run after the
commit (``later``), so the carrier never comes back before the state is written.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..acd.carrier_ops import call_now, later
from ..calls.events import record_event
from ..calls.models import Call, CallEvent, Direction, EventKind
from ..errors import UserError
from ..i18n import _
from ..models.meta import utcnow
from ..telephony.numbering import NumberError, check_outbound
from ..tenancy.models import Tenant, User
from ..voice.instructions import Conference, Continuation, Dial, DialTarget

PARK = "softphone.outbound_park"  # the called party's leg: wait in the conference (hold audio)
JOIN = "softphone.outbound_join"  # the agent's leg: (re)join the conference
FORWARD = "softphone.outbound_forward"  # the called party's leg: a blind transfer to a number
HOLD_AUDIO = "acd.hold_music"  # silence without a queue (ecti.acd.handlers)
#: An outgoing call older than this is not "the call the agent is on" any more.
LIVE_FOR = timedelta(hours=12)
_STATE_EVENTS = (EventKind.held, EventKind.resumed, EventKind.transferred)


class NoOutboundCall(UserError):
    status = 409


def conference_of(call: Call) -> str:
    return f"out-{call.id}"


def live_call(request, user: User) -> Call | None:
    """The outgoing call ``user`` is on (placed from the softphone, not ended), if any."""
    return request.db.scalar(
        select(Call).where(Call.user_id == user.id, Call.direction == Direction.outbound, Call.ended_at.is_(None),
                           Call.started_at >= utcnow() - LIVE_FOR).order_by(Call.id.desc()).limit(1)
    )


def state(request, call: Call) -> dict:
    """The last hold/transfer step of an outgoing call: ``{"kind", "outbound", "leg"}`` or {}."""
    event = request.db.scalar(
        select(CallEvent).where(CallEvent.call_id == call.id, CallEvent.kind.in_(_STATE_EVENTS))
        .order_by(CallEvent.id.desc()).limit(1)
    )
    if event is None or not (event.data or {}).get("outbound"):
        return {}
    return {"kind": event.kind, **event.data}


def on_hold(request, call: Call) -> bool:
    return state(request, call).get("kind") is EventKind.held


def _tenant(request, call: Call) -> Tenant:
    return request.db.get(Tenant, call.tenant_id)


def _party_leg(request, call: Call, current: dict) -> str:
    """The called party's leg: remembered once known, else asked of the carrier."""
    if current.get("leg"):
        return current["leg"]
    leg = call_now(request, _tenant(request, call), "dialed_leg", carrier_call_id=call.carrier_call_id)
    if not leg:
        raise NoOutboundCall("not_answered", _("The called party has not answered yet."))
    return leg


def hold(request, user: User, call: Call, on: bool) -> None:
    now = utcnow()
    current = state(request, call)
    if current.get("kind") is EventKind.transferred:
        raise NoOutboundCall("no_call", _("You are not on a call."))
    held = current.get("kind") is EventKind.held
    if held == on:
        raise NoOutboundCall("already_on_hold" if on else "not_on_hold",
                             _("The call is already on hold.") if on else _("The call is not on hold."))
    tenant = _tenant(request, call)
    leg = _party_leg(request, call, current)
    mode = current.get("outbound", "bridged")
    music = Continuation(HOLD_AUDIO, {"call": str(call.id)})
    if on and mode == "bridged":
        mode = "parked"
        later(request, tenant, "redirect", carrier_call_id=leg, continuation=Continuation(PARK, {"call": str(call.id)}))
    elif not on and mode == "parked":
        mode = "conference"
        later(request, tenant, "redirect", carrier_call_id=call.carrier_call_id,
              continuation=Continuation(JOIN, {"call": str(call.id), "start": "1"}))
    else:
        call_now(request, tenant, "hold", conference=conference_of(call), carrier_call_id=leg, hold=on, music=music if on else None)
    record_event(request, call, EventKind.held if on else EventKind.resumed, at=now, agent=user.id, outbound=mode, leg=leg)


def transfer(request, user: User, call: Call, number: str) -> str:
    """Blind transfer of the called party to a number (the dialing rules of the call's caller
    ID apply); the agent's leg ends with the dial or the conference. Returns the number (E.164).

    Only to a number: the call record follows the agent's leg, which ends here, so a queue
    would see the call as over while the called party waits in it."""
    current = state(request, call)
    if current.get("kind") is EventKind.transferred:
        raise NoOutboundCall("no_call", _("You are not on a call."))
    try:
        to = check_outbound(call.from_number, number or "")
    except NumberError as err:
        raise UserError(err.code, err.message, field="number", status=422)
    leg = _party_leg(request, call, current)
    record_event(request, call, EventKind.transferred, to_kind="number", to=to, from_agent=user.id,
                 outbound=current.get("outbound", "bridged"), leg=leg)
    later(request, _tenant(request, call), "redirect", carrier_call_id=leg,
          continuation=Continuation(FORWARD, {"call": str(call.id), "number": to}))
    return to


def after_dial(request, call: Call) -> list | None:
    """What the agent's leg does when its dial ended: wait in the conference when the agent
    just put the call on hold (the called party was moved there); None: the call is over."""
    current = state(request, call)
    if current.get("kind") is EventKind.held and current.get("outbound") == "parked":
        return [_conference(call, start=False)]
    return None


def _conference(call: Call, *, start: bool) -> Conference:
    return Conference(conference_of(call), start_on_enter=start, end_on_exit=True,
                      wait=Continuation(HOLD_AUDIO, {"call": str(call.id)}))


def park_handler(request, call, args, call_input):
    """``softphone.outbound_park`` {"call"}: the called party waits in the conference."""
    return [_conference(call, start=False)]


def join_handler(request, call, args, call_input):
    """``softphone.outbound_join`` {"call", "start"}: the agent's leg joins (and starts) the conference."""
    return [_conference(call, start=args.get("start") == "1")]


def forward_handler(request, call, args, call_input):
    """``softphone.outbound_forward`` {"call", "number"}: the called party is put through to a number
    (checked when the agent asked), showing the call's caller ID."""
    return [Dial([DialTarget("number", args.get("number", ""))], caller_id=call.from_number)]


def includeme(config):
    config.add_call_handler(PARK, park_handler)
    config.add_call_handler(JOIN, join_handler)
    config.add_call_handler(FORWARD, forward_handler)
