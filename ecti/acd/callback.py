"""Queued callback (issue 24, part 2): a waiting caller asks to be called back and hangs up;
their entry keeps its place in the queue, and when it reaches the front an agent is offered
the callback like a call. On accepting, the customer is called from the number they called
(the company's number) and joins the agent in the entry's conference; a customer who does not
answer is called again after the queue's retry delay, up to its number of attempts, and only
within the company's calling hours.

Where the offer is made: Twilio's conference ``waitUrl`` plays only ``<Play>``, ``<Say>``,
``<Pause>`` and ``<Redirect>`` — it cannot collect digits. So the caller hears the estimated
wait and the offer (``<Gather>``) as they enter the queue, with their entry already created
(their place counts from then), and goes on into the conference when they do not press the key;
at each later announcement time the wait loop redirects the caller's leg out of the conference
to ``acd.callback_offer`` (the same offer) and back, the entry unchanged.

==========================  ================================================================
handler                     when the carrier comes there
==========================  ================================================================
``acd.callback_choice``     the caller pressed a key (or nothing) after the offer
``acd.callback_offer``      a waiting caller, taken out of the conference at an announcement
                            time, hears the wait and the offer again (then back in the queue)
``acd.callback_agent``      the agent's phone answered a callback offer: call the customer
``acd.callback_answer``     the customer answered: join the agent in the conference
``acd.callback_leg``        status of the customer's leg (no answer: retry after the delay)
==========================  ================================================================

The original call has ended by the time the callback is offered, so the agent's and the
customer's continuations are registered to run after the end (``after_end``); the customer's
leg is a call of its own (outbound, ``parent_call_id`` = the original call: one contact in the
call list).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from .. import jobs
from ..calls.events import apply_status, record_event
from ..calls.models import Call, CallStatus, Direction, EventKind
from ..i18n import _
from ..models.meta import utcnow
from ..telephony.numbering import NumberClass, NumberError, check_outbound, classify
from ..voice.calls import say
from ..tenancy.models import Tenant
from ..voice.instructions import Conference, Continuation, Gather, Hangup
from .carrier_ops import after_commit, carrier_for, in_background, later
from .models import EntryStatus, Offer, OfferStatus, Outcome, Queue, QueueEntry
from .routing import (
    _free_agent, _to_wrap_up, accept, conference_name, end_call, live_offers, lock_call, lock_entry, position_of,
)

log = logging.getLogger(__name__)

CHOICE = "acd.callback_choice"
REOFFER = "acd.callback_offer"
AGENT = "acd.callback_agent"
ANSWER = "acd.callback_answer"
LEG = "acd.callback_leg"
#: Seconds the customer's phone rings before the attempt is a no-answer.
CUSTOMER_RING_SECONDS = 30
#: Seconds the caller has to press the key after the offer.
CHOICE_TIMEOUT = 6
CALLABLE = (NumberClass.MOBILE, NumberClass.FIXED)


def callable_number(call) -> str | None:
    """The caller's number in E.164 when it can be called back from the number they called
    (a Japanese mobile or fixed line, under the dialing rules); None when withheld, anonymous,
    a service or overseas number, or anything the rules refuse."""
    raw = (call.from_number or "").strip()
    if not raw or not raw.startswith("+"):
        return None  # withheld: "anonymous", "Restricted", "" …
    try:
        e164 = check_outbound(call.to_number, raw)
    except NumberError:
        return None
    return e164 if classify(e164) in CALLABLE else None


def is_callback(entry: QueueEntry) -> bool:
    return entry.callback_number is not None


def offer_instructions(request, tenant, call, queue: Queue, entry: QueueEntry, wait_announcement: list) -> list | None:
    """The estimated wait and the offer, collecting one key; None when the option is not offered
    (callbacks off, or a number that cannot be called back)."""
    if not queue.callback_enabled or callable_number(call) is None:
        return None
    key = queue.callback_key
    prompts = [*wait_announcement, say(tenant, _(
        "To be called back at the number you are calling from, without losing your place in line, press ${key}. "
        "To keep waiting, stay on the line.", mapping={"key": key_name(key)}))]
    return [Gather(Continuation(CHOICE, {"entry": str(entry.id)}), prompts=prompts, num_digits=1, timeout=CHOICE_TIMEOUT,
                   finish_on_key="")]


def callback_offered(queue: Queue, call, entry: QueueEntry) -> bool:
    return queue.callback_enabled and not is_callback(entry) and callable_number(call) is not None


def reoffer_handler(request, call, args, call_input):
    """``acd.callback_offer`` {"entry"}: the wait loop's repeated offer (the caller was
    redirected out of the conference; the entry, and so the place, did not change)."""
    from .handlers import _join, _tenant, wait_announcement

    tenant = _tenant(request, call)
    entry = lock_entry(request, int(args.get("entry", 0) or 0))
    if entry is None or entry.call_id != call.id or entry.status is EntryStatus.ended:
        return [say(tenant, _("We are sorry, this line cannot take calls now. Please call again later.")), Hangup()]
    if entry.status is not EntryStatus.waiting:
        return _join(request, call, entry)  # an agent is being rung: straight back in
    offer = offer_instructions(request, tenant, call, entry.queue, entry, wait_announcement(request, tenant, entry.queue, entry))
    return offer if offer is not None else _join(request, call, entry)


def key_name(key: str):
    return {"*": _("star"), "#": _("hash")}.get(key, key)


def choice_handler(request, call, args, call_input):
    """``acd.callback_choice`` {"entry"}: the key the caller pressed after the offer."""
    from .handlers import _join, _tenant

    tenant = _tenant(request, call)
    entry = lock_entry(request, int(args.get("entry", 0) or 0))
    if entry is None or entry.call_id != call.id or entry.status is EntryStatus.ended:
        return [say(tenant, _("We are sorry, this line cannot take calls now. Please call again later.")), Hangup()]
    digits = (call_input.digits or "").strip()
    if not digits:
        return _join(request, call, entry)  # stays on the line
    queue = entry.queue
    if not queue.callback_enabled:
        return [say(tenant, _("We are sorry, callbacks are not available for this line now. Please stay on the line.")),
                *_join(request, call, entry)]
    if digits != queue.callback_key:
        return [say(tenant, _("That key does not request a callback. Please stay on the line.")), *_join(request, call, entry)]
    number = callable_number(call)
    if number is None:
        return [say(tenant, _("We cannot call you back because your number is withheld or cannot be called. Please stay on the line.")),
                *_join(request, call, entry)]
    if entry.status is not EntryStatus.waiting or is_callback(entry):
        # An agent's phone is already ringing for this call: better to be connected now.
        return [say(tenant, _("A representative is about to answer. Please stay on the line.")), *_join(request, call, entry)]
    request_callback(request, call, entry, number)
    return [say(tenant, _("Thank you. We will call you back at the number you are calling from, in your turn. Goodbye.")), Hangup()]


def request_callback(request, call, entry: QueueEntry, number: str) -> None:
    """Mark the entry as a callback: it keeps its place (``entered_at``), and the caller's
    hanging up no longer abandons it (``ecti.acd.routing.caller_left``)."""
    now = utcnow()
    entry.callback_number = number
    entry.callback_requested_at = now
    entry.callback_attempts = 0
    entry.callback_due_at = None
    record_event(request, call, EventKind.callback_requested, at=now, queue=entry.queue_id, number=number,
                 position=position_of(request, entry))


# --- calling hours --------------------------------------------------------------------------

def within_hours(request, queue: Queue, now: datetime) -> bool:
    """May the queue call customers back now? Its callback hours are an IVR schedule (weekly
    hours, holiday calendars, the company's closures — as the dialer's calling hours); a queue
    without one calls back whenever an agent is free."""
    if queue.callback_schedule_id is None:
        return True
    from ..ivr.models import Schedule
    from ..ivr.schedules import decide

    schedule = request.db.scalar(select(Schedule).where(Schedule.id == queue.callback_schedule_id))
    if schedule is None:
        return True
    tenant = request.db.get(Tenant, queue.tenant_id)
    return decide(request.db, request.registry.ecti.holiday_calendars, schedule, tenant.time_zone or "Asia/Tokyo", now).branch == "open"


def may_offer(request, queue: Queue, entry: QueueEntry, now: datetime) -> bool:
    """A callback entry is offered once its retry time has come and within the calling hours."""
    if entry.callback_due_at is not None and entry.callback_due_at > now:
        return False
    return within_hours(request, queue, now)


# --- the agent accepts: call the customer ---------------------------------------------------

def agent_handler(request, call, args, call_input):
    """``acd.callback_agent`` {"call", "offer"}: the agent's phone answered a callback offer;
    ``call`` is the original (ended) call. The customer is called from the number they called."""
    tenant = request.db.get(Tenant, call.tenant_id)
    offer = accept(request, int(args.get("offer", 0) or 0), joined=True)
    if offer is None:
        return [say(tenant, _("This call has already been answered or has ended.")), Hangup()]
    if call_input.carrier_call_id and offer.leg_id is None:
        offer.leg_id = call_input.carrier_call_id
    entry = lock_entry(request, offer.entry_id)
    if entry.callback_call_id is None or _leg_of(request, entry) is None:
        dial_customer(request, call, entry, offer)
    return [say(tenant, _("This is a callback. Calling the customer at ${number} now. Please wait.",
                          mapping={"number": entry.callback_number})),
            Conference(conference_name(call.id), start_on_enter=True, end_on_exit=True)]


def _leg_of(request, entry: QueueEntry) -> Call | None:
    leg = request.db.get(Call, entry.callback_call_id) if entry.callback_call_id else None
    return leg if leg is not None and not leg.status.is_final else None


def dial_customer(request, call: Call, entry: QueueEntry, offer: Offer) -> Call:
    """Write the callback leg (a call of its own, linked to the original) and ring the customer
    after commit, through the carrier's ``dial_number``; a failed dial is a no-answer."""
    now = utcnow()
    leg = Call(tenant_id=call.tenant_id, carrier_call_id=f"pending-callback-{entry.id}-{entry.callback_attempts + 1}",
               direction=Direction.outbound, from_number=call.to_number, to_number=entry.callback_number,
               status=CallStatus.queued, started_at=now, user_id=offer.user_id, parent_call_id=call.id,
               tenant_number=call.to_number, queue_id=entry.queue_id, agent_user_id=offer.user_id)
    request.db.add(leg)
    request.db.flush()
    entry.callback_call_id = leg.id
    entry.callback_attempts += 1
    record_event(request, call, EventKind.callback_dialed, at=now, queue=entry.queue_id, agent=offer.user_id,
                 number=entry.callback_number, attempt=entry.callback_attempts, leg_call=leg.id)
    record_event(request, leg, EventKind.started, at=now)  # the agent placed it (call list: who made the call)
    record_event(request, leg, EventKind.callback_dialed, at=now, queue=entry.queue_id, agent=offer.user_id,
                 attempt=entry.callback_attempts, parent_call=call.id)
    registry, tenant_id, leg_id, entry_id = request.registry, call.tenant_id, leg.id, entry.id
    args = {"call": str(leg_id), "entry": str(entry_id)}
    to, caller_id = entry.callback_number, call.to_number
    background = in_background(request, tenant_id)

    def dial():
        try:
            with background as r:
                tenant = r.db.get(Tenant, tenant_id)
                sid = carrier_for(r, tenant).dial_number(
                    request=r, tenant=tenant, to=to, caller_id=caller_id, answer=Continuation(ANSWER, args),
                    status=Continuation(LEG, args), timeout=CUSTOMER_RING_SECONDS,
                )
        except Exception:
            log.exception("could not call back %s for entry %s", to, entry_id)
            jobs.run_with_retry(registry, tenant_id, lambda r: customer_leg_ended(r, leg_id, "failed"))
            return
        if sid:
            jobs.run_with_retry(registry, tenant_id, lambda r: _remember_sid(r, leg_id, sid))

    after_commit(request, dial, f"call back {to}", background=True)
    return leg


def _remember_sid(request, leg_id: int, sid: str) -> None:
    leg = request.db.get(Call, leg_id)
    if leg is not None and leg.carrier_call_id.startswith("pending-"):
        leg.carrier_call_id = sid


# --- the customer's leg ---------------------------------------------------------------------

def answer_handler(request, call, args, call_input):
    """``acd.callback_answer`` {"call", "entry"}: the customer picked up (``call`` is their leg)."""
    tenant = request.db.get(Tenant, call.tenant_id)
    now = utcnow()
    if call_input.carrier_call_id and call.carrier_call_id.startswith("pending-"):
        call.carrier_call_id = call_input.carrier_call_id
    entry = lock_entry(request, int(args.get("entry", 0) or 0))
    if entry is None or entry.callback_call_id != call.id or entry.status is not EntryStatus.connected:
        return [say(tenant, _("We are sorry, we called to return your call, but the representative is no longer available. "
                              "We will call you again.")), Hangup()]
    apply_status(request, call, CallStatus.in_progress, at=now)
    original = request.db.get(Call, entry.call_id)
    record_event(request, original, EventKind.callback_reached, at=now, queue=entry.queue_id, agent=entry.agent_user_id,
                 attempt=entry.callback_attempts, leg_call=call.id)
    return [say(tenant, _("This is a return call for your earlier call. We are connecting you to a representative.")),
            Conference(conference_name(entry.call_id), start_on_enter=True, end_on_exit=True)]


def leg_handler(request, call, args, call_input):
    """``acd.callback_leg`` {"call", "entry"}: status callbacks of the customer's leg."""
    if call_input.carrier_call_id and call.carrier_call_id.startswith("pending-"):
        call.carrier_call_id = call_input.carrier_call_id
    status = call_input.call_status or ""
    try:
        final = CallStatus(status).is_final
    except ValueError:
        return []
    if final:
        customer_leg_ended(request, call.id, status)
    return []


def customer_leg_ended(request, leg_id: int, status: str, now: datetime | None = None) -> None:
    """The customer's leg ended: after talking (the call is over), or not reached (retry)."""
    now = now or utcnow()
    leg = lock_call(request, leg_id)
    if leg is None:
        return
    reached = leg.answered_at is not None
    apply_status(request, leg, CallStatus(status), at=now)
    entry = request.db.scalar(select(QueueEntry).where(QueueEntry.callback_call_id == leg_id))
    if entry is None:
        return
    entry = lock_entry(request, entry.id)
    if entry.status is not EntryStatus.connected:
        return
    if reached:
        end_call(request, entry, "caller", now)
        return
    not_reached(request, entry, status, now)


def not_reached(request, entry: QueueEntry, status: str, now: datetime) -> None:
    """The customer did not answer: the agent is free again (no wrap-up: nobody talked), the
    agent's leg ends, and the entry waits for its next attempt in its place — or, attempts
    used up, leaves the queue as ``callback_failed``."""
    queue = entry.queue
    original = request.db.get(Call, entry.call_id)
    tenant = request.db.get(Tenant, entry.tenant_id)
    for offer in live_offers(request, entry.id, statuses=(OfferStatus.accepted,)):
        offer.status = OfferStatus.ended
        offer.ended_at = now
        request.db.flush()
        _free_agent(request, offer, now, missed=False, reason="callback_not_reached", queue=queue)
        if offer.leg_id:
            later(request, tenant, "end_leg", carrier_call_id=offer.leg_id)
    entry.agent_user_id = None
    entry.connected_at = None
    if entry.callback_attempts >= max(1, queue.callback_attempts):
        entry.status = EntryStatus.ended
        entry.outcome = Outcome.callback_failed
        entry.ended_at = now
        entry.ended_by = "system"
        record_event(request, original, EventKind.callback_no_answer, at=now, queue=queue.id, status=status,
                     attempt=entry.callback_attempts, gave_up=True)
        return
    due = now + timedelta(seconds=queue.callback_retry_seconds)
    entry.status = EntryStatus.waiting
    entry.callback_due_at = due
    record_event(request, original, EventKind.callback_no_answer, at=now, queue=queue.id, status=status,
                 attempt=entry.callback_attempts, retry_at=due.isoformat())
    registry, tenant_id = request.registry, entry.tenant_id
    after_commit(request, lambda: jobs.enqueue(registry, "acd.route", tenant_id, eta=due), "schedule the callback's retry")


def agent_left(request, entry: QueueEntry, offer: Offer, now: datetime) -> None:
    """The agent's leg of a connected callback ended (``ecti.acd.routing.leg_ended``): once the
    customer talked, the call is over (by the agent, unless the customer's leg ended first);
    before the customer answered, their ringing leg stops and the attempt does not count."""
    leg = request.db.get(Call, entry.callback_call_id) if entry.callback_call_id else None
    if leg is not None and leg.answered_at is not None:
        if not leg.status.is_final:
            later(request, request.db.get(Tenant, entry.tenant_id), "end_leg", carrier_call_id=leg.carrier_call_id)
        end_call(request, entry, "agent", now)
        return
    if leg is not None and not leg.status.is_final:
        later(request, request.db.get(Tenant, entry.tenant_id), "end_leg", carrier_call_id=leg.carrier_call_id)
        entry.callback_attempts = max(0, entry.callback_attempts - 1)
    entry.callback_call_id = None
    offer.status = OfferStatus.ended
    offer.ended_at = now
    request.db.flush()
    _to_wrap_up(request, offer, entry.queue, now, talk_from=None)
    entry.status = EntryStatus.waiting
    entry.agent_user_id = None
    entry.connected_at = None


def includeme(config):
    config.add_call_handler(CHOICE, choice_handler)
    config.add_call_handler(REOFFER, reoffer_handler)
    config.add_call_handler(AGENT, agent_handler, after_end=True)
    config.add_call_handler(ANSWER, answer_handler)
    config.add_call_handler(LEG, leg_handler, after_end=True)
