"""What a queued call does at the carrier: continuation handlers of the ACD.

A Conference per call (named ``call-<id>``) is the call's structure: the caller waits in it
(the wait URL plays hold audio and announcements and is each waiting call's tick), the agent's
phone is rung with a separate leg that joins it when answered, hold is participant hold, and a
warm transfer adds the second agent before the first leaves.

=========================  ============================================================
handler                    when the carrier comes there
=========================  ============================================================
``acd.enqueue``            the IVR (or a transfer) puts the call in ``queue``
``acd.wait``               the caller waits: hold audio, announcements, routing tick
``acd.agent_answer``       the agent's phone answered: join the caller, or "too late"
``acd.agent_leg``          status of the agent's leg (no answer, refused, hung up)
``acd.overflow``           a caller sent on (max wait, left empty) reaches the overflow
``acd.forward``            blind transfer to an external number
``acd.hold_music``         what the caller hears on hold
=========================  ============================================================
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from ..calls.events import record_event
from ..calls.models import EventKind
from ..i18n import _
from ..models.meta import utcnow
from ..prompts import prompt_instructions
from ..recordings.services import recording_status, records_queue
from ..telephony.numbering import NumberError, check_outbound
from ..tenancy.models import Tenant
from ..voice import HANDLERS_KEY, dispatch
from ..voice.calls import say
from ..voice.instructions import CallInput, Conference, Continuation, Dial, DialTarget, Hangup, Pause, Redirect, Say
from .callback import REOFFER, callback_offered, offer_instructions
from .models import EntryStatus, Outcome, QueueEntry
from .queues import find_queue
from .carrier_ops import later
from .routing import (
    accept, conference_name, leave_queue, leg_ended, live_entry_of_call, lock_entry, logged_in_members, position_of,
    remember_leg, route, waiting_count,
)

log = logging.getLogger(__name__)

#: Handlers other subsystems provide for the overflow kinds ``voicemail`` and ``flow``.
VOICEMAIL_HANDLER = "voicemail.record"
FLOW_HANDLER = "ivr.node"
#: A queue overflowing into a queue overflowing into … stops here.
MAX_OVERFLOW_DEPTH = 3
#: The wait loop: how long one round of default hold audio lasts.
WAIT_ROUND_SECONDS = 10
FINAL_LEG_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")


def _tenant(request, call) -> Tenant:
    return request.db.get(Tenant, call.tenant_id)


def enqueue_handler(request, call, args, call_input):
    """``acd.enqueue`` {"queue": id}: the IVR's queue node (and blind transfers) end here."""
    tenant = _tenant(request, call)
    queue = find_queue(request.db, args.get("queue"))
    if queue is None:
        record_event(request, call, EventKind.refused, reason="unknown_queue", queue=args.get("queue"))
        return [say(tenant, _("We are sorry, this line cannot take calls now. Please call again later.")), Hangup()]
    return enqueue_call(request, call, queue)


def enqueue_call(request, call, queue, *, depth: int = 0) -> list:
    now = utcnow()
    existing = live_entry_of_call(request, call.id)
    if existing is not None:
        if existing.queue_id == queue.id and existing.status is not EntryStatus.connected:
            return _join(request, call, existing)  # the carrier repeated the request
        leave_queue(request, existing, Outcome.transferred, now, reason="entered_other_queue", redirect=False)
    entry = QueueEntry(tenant_id=call.tenant_id, queue_id=queue.id, call_id=call.id, status=EntryStatus.waiting, entered_at=now,
                       on_hold=False, hold_seconds=0, missed_offers=0)
    reason = None
    if not queue.join_when_empty and logged_in_members(request, queue.id) == 0:
        reason = "no_agents"
    elif queue.max_length and waiting_count(request, queue.id) >= queue.max_length:
        reason = "queue_full"
    if reason is not None:
        entry.status, entry.outcome, entry.ended_at, entry.ended_by = EntryStatus.ended, Outcome.overflowed, now, "system"
        request.db.add(entry)
        request.db.flush()
        return overflow_instructions(request, call, queue, reason, depth=depth)
    request.db.add(entry)
    request.db.flush()
    record_event(request, call, EventKind.entered_queue, at=now, queue=queue.id, position=position_of(request, entry))
    route(request, queue, now)
    if entry.status is EntryStatus.waiting:
        # Queued callback (ecti.acd.callback): the estimated wait and the offer, before the
        # conference (whose wait URL cannot collect digits); the place counts from now.
        tenant = _tenant(request, call)
        offer = offer_instructions(request, tenant, call, queue, entry, wait_announcement(request, tenant, queue, entry))
        if offer is not None:
            entry.last_announced_at = now
            return offer
    return _join(request, call, entry)


def _join(request, call, entry) -> list:
    """The caller waits in the call's conference. A recorded queue's conference records from
    its start, which is when the agent joins (the caller alone does not start it): the
    recording begins at answer, the caller on the first channel (F-REC-1)."""
    record = records_queue(request.db, entry.queue_id)
    return [Conference(
        conference_name(call.id), start_on_enter=False, end_on_exit=True,
        wait=Continuation("acd.wait", {"entry": str(entry.id)}),
        record=record, recording_status=recording_status(call) if record else None,
    )]


def overflow_instructions(request, call, queue, reason: str, *, depth: int = 0) -> list:
    """Send the caller to the queue's overflow target (F-IVR: voicemail, queue, flow, number)."""
    tenant = _tenant(request, call)
    target = queue.overflow or {}
    kind = target.get("kind") or "hangup"
    value = str(target.get("target") or "")
    record_event(request, call, EventKind.overflowed, queue=queue.id, reason=reason, target_kind=kind, target=value)
    handlers = request.registry.get(HANDLERS_KEY, {})
    if kind == "queue" and depth < MAX_OVERFLOW_DEPTH:
        other = find_queue(request.db, value)
        if other is not None and other.id != queue.id:
            return enqueue_call(request, call, other, depth=depth + 1)
    elif kind == "number":
        try:
            e164 = check_outbound(call.to_number, value)
        except NumberError as err:
            log.warning("queue %s overflows to %r, which cannot be dialled: %s", queue.id, value, err.code)
        else:
            return [say(tenant, _("Please hold while we transfer your call.")), Dial([DialTarget("number", e164)], caller_id=call.to_number)]
    elif kind == "voicemail" and VOICEMAIL_HANDLER in handlers:
        return dispatch(request, call, VOICEMAIL_HANDLER, {"queue": str(queue.id), "target": value}, CallInput())
    elif kind == "flow" and FLOW_HANDLER in handlers:
        return dispatch(request, call, FLOW_HANDLER, {"node": value}, CallInput())
    if reason == "queue_full" or reason == "max_wait":
        message = _("We are sorry, all our staff are busy. Please call again later.")
    else:
        message = _("We are sorry, nobody can take your call now. Please call again later.")
    return [say(tenant, message), Hangup()]


def overflow_handler(request, call, args, call_input):
    """``acd.overflow`` {"entry", "reason"}: a caller taken out of the conference."""
    entry = request.db.get(QueueEntry, int(args.get("entry", 0) or 0))
    if entry is None or entry.call_id != call.id:
        return [say(_tenant(request, call), _("We are sorry, nobody can take your call now. Please call again later.")), Hangup()]
    return overflow_instructions(request, call, entry.queue, args.get("reason", "max_wait"))


def estimated_wait_seconds(request, queue, position: int) -> int:
    """Position × the recent average wait of answered calls per place in line (or a minute)."""
    recent = request.db.execute(
        select(QueueEntry.entered_at, QueueEntry.connected_at)
        .where(QueueEntry.queue_id == queue.id, QueueEntry.connected_at.is_not(None))
        .order_by(QueueEntry.connected_at.desc()).limit(20)
    ).all()
    per_call = 60
    if recent:
        per_call = max(15, sum((c - e).total_seconds() for e, c in recent) / len(recent))
    agents = max(1, logged_in_members(request, queue.id))
    return int(per_call * position / agents) if position > agents else int(per_call)


def wait_handler(request, call, args, call_input):
    """``acd.wait`` {"entry"}: the caller's hold audio; each fetch is also a routing tick."""
    tenant = _tenant(request, call)
    entry = lock_entry(request, int(args.get("entry", 0) or 0))
    if entry is None or entry.call_id != call.id or entry.status is EntryStatus.ended:
        return [Pause(WAIT_ROUND_SECONDS)]
    queue = entry.queue
    now = utcnow()
    if entry.status is EntryStatus.waiting:
        route(request, queue, now)  # escalation, wrap-ups that ended, max wait
    out = []
    if entry.status in (EntryStatus.waiting, EntryStatus.offered):
        first = entry.last_announced_at is None
        due = queue.announce_seconds > 0 and (first or now - entry.last_announced_at >= timedelta(seconds=queue.announce_seconds))
        if first:
            out.append(say(tenant, _("Thank you for waiting. We will connect you to the next available representative.")))
        if due and not first and entry.status is EntryStatus.waiting and callback_offered(queue, call, entry):
            # The conference's wait document cannot collect digits: the caller is taken out of
            # the conference (keeping their place) to hear the wait and the callback offer again.
            entry.last_announced_at = now
            later(request, tenant, "redirect", carrier_call_id=call.carrier_call_id,
                  continuation=Continuation(REOFFER, {"entry": str(entry.id)}))
            return hold_audio(request, tenant, queue) + [Redirect(Continuation("acd.wait", {"entry": str(entry.id)}))]
        if due:
            out.extend(announcement(request, tenant, queue, entry))
        if first or due:
            entry.last_announced_at = now
    out.extend(hold_audio(request, tenant, queue))
    out.append(Redirect(Continuation("acd.wait", {"entry": str(entry.id)})))
    return out


def announcement(request, tenant, queue, entry) -> list:
    position = position_of(request, entry)
    out = []
    if queue.announce_position:
        out.append(say(tenant, _("You are number ${position} in line.", mapping={"position": position})))
    if queue.announce_wait:
        minutes = max(1, -(-estimated_wait_seconds(request, queue, position) // 60))
        out.append(say(tenant, _("The estimated waiting time is about ${minutes} minutes.", mapping={"minutes": minutes})))
    return out


def wait_announcement(request, tenant, queue, entry) -> list:
    """The position and the estimated wait, whatever the queue's announcement options (said
    before the callback offer, as issue 24 asks)."""
    position = position_of(request, entry)
    minutes = max(1, -(-estimated_wait_seconds(request, queue, position) // 60))
    return [say(tenant, _("You are number ${position} in line.", mapping={"position": position})),
            say(tenant, _("The estimated waiting time is about ${minutes} minutes.", mapping={"minutes": minutes}))]


def hold_audio(request, tenant, queue) -> list:
    """One round of what a waiting or held caller hears. A spoken message is followed by a
    pause, so the caller hears it once a round rather than back to back without a breath."""
    audio = prompt_instructions(request, tenant, queue.hold_audio)
    if not audio:
        return [Pause(WAIT_ROUND_SECONDS)]
    if all(isinstance(item, Say) for item in audio):
        audio.append(Pause(WAIT_ROUND_SECONDS))
    return audio


def hold_music_handler(request, call, args, call_input):
    """``acd.hold_music`` {"queue"}: what the caller hears while the agent holds the call."""
    tenant = _tenant(request, call)
    queue = find_queue(request.db, args.get("queue"))
    audio = hold_audio(request, tenant, queue) if queue is not None else [Pause(WAIT_ROUND_SECONDS)]
    return audio + [Redirect(Continuation("acd.hold_music", dict(args)))]


def agent_answer_handler(request, call, args, call_input):
    """``acd.agent_answer`` {"call", "offer"}: the agent's phone answered."""
    offer = accept(request, int(args.get("offer", 0) or 0), joined=True)
    if offer is None:
        return [say(_tenant(request, call), _("This call has already been answered or has ended.")), Hangup()]
    if call_input.carrier_call_id and offer.leg_id is None:
        offer.leg_id = call_input.carrier_call_id
    return [Conference(conference_name(call.id), start_on_enter=True, end_on_exit=False)]


def agent_leg_handler(request, call, args, call_input):
    """``acd.agent_leg`` {"call", "offer"}: status callbacks of the agent's leg."""
    offer_id = int(args.get("offer", 0) or 0)
    if call_input.call_status in FINAL_LEG_STATUSES:
        leg_ended(request, offer_id, call_input.call_status, call_input.carrier_call_id)
    elif call_input.carrier_call_id:
        remember_leg(request, offer_id, call_input.carrier_call_id)
    return []


def forward_handler(request, call, args, call_input):
    """``acd.forward`` {"number"}: a blind transfer to an external number (already checked)."""
    return [Dial([DialTarget("number", args.get("number", ""))], caller_id=call.to_number)]


def includeme(config):
    config.add_call_handler("acd.enqueue", enqueue_handler)
    config.add_call_handler("acd.wait", wait_handler)
    config.add_call_handler("acd.agent_answer", agent_answer_handler)
    config.add_call_handler("acd.agent_leg", agent_leg_handler, after_end=True)
    config.add_call_handler("acd.overflow", overflow_handler)
    config.add_call_handler("acd.forward", forward_handler)
    config.add_call_handler("acd.hold_music", hold_music_handler)
