"""What an agent does with the call they are on: hold, resume, transfer, hang up (F-PH-2, F-PH-9)."""
from __future__ import annotations

from sqlalchemy import select

from ..calls.events import record_event
from ..calls.models import Call, EventKind
from ..errors import UserError
from ..i18n import _
from ..models.meta import utcnow
from ..telephony.numbering import NumberError, check_outbound
from ..tenancy.models import Role, Tenant, User
from ..voice.instructions import Continuation
from .agents import agent_for
from .carrier_ops import call_now, later
from .models import AgentState, EntryStatus, Offer, OfferStatus, Outcome, QueueEntry
from .queues import find_queue
from .routing import (
    _set_hold, _to_wrap_up, claim_agent, conference_name, decline, end_call, live_offers, lock_entry, make_offer,
)


class NoCall(UserError):
    status = 409


def current_entry(request, user: User, *, lock: bool = True) -> QueueEntry:
    """The queue call ``user`` is talking on, or a 409 that says so."""
    entry_id = request.db.scalar(
        select(QueueEntry.id).where(QueueEntry.agent_user_id == user.id, QueueEntry.status == EntryStatus.connected)
        .order_by(QueueEntry.id.desc()).limit(1)
    )
    entry = lock_entry(request, entry_id) if entry_id is not None and lock else (request.db.get(QueueEntry, entry_id) if entry_id else None)
    if entry is None or entry.status is not EntryStatus.connected or entry.agent_user_id != user.id:
        raise NoCall("no_call", _("You are not on a call."))
    return entry


def ringing_offer(request, user: User) -> Offer | None:
    return request.db.scalar(select(Offer).where(Offer.user_id == user.id, Offer.status == OfferStatus.ringing))


def hold(request, user: User, on: bool) -> QueueEntry:
    """Put the caller on hold (they hear the queue's hold audio) or take them back."""
    now = utcnow()
    entry = current_entry(request, user)
    if entry.on_hold == on:
        raise NoCall("already_on_hold" if on else "not_on_hold",
                     _("The call is already on hold.") if on else _("The call is not on hold."))
    call = request.db.get(Call, entry.call_id)
    tenant = request.db.get(Tenant, entry.tenant_id)
    call_now(request, tenant, "hold", conference=conference_name(call.id), carrier_call_id=call.carrier_call_id, hold=on,
             music=Continuation("acd.hold_music", {"call": str(call.id), "queue": str(entry.queue_id)}) if on else None)
    _set_hold(request, entry, on, now)
    record_event(request, call, EventKind.held if on else EventKind.resumed, at=now, queue=entry.queue_id, agent=user.id)
    return entry


def hang_up(request, user: User) -> None:
    """End the call the agent is on, or refuse the call ringing for them."""
    offer = ringing_offer(request, user)
    if offer is not None and offer.kind == "queue":
        decline(request, offer.id, user.id)
        return
    entry = current_entry(request, user)
    end_call(request, entry, "agent", utcnow())


def transfer_to_agent(request, user: User, target_id: int) -> Offer:
    """Warm transfer: ring ``target_id``; the call moves when they answer, else stays (F-PH-9)."""
    now = utcnow()
    entry = current_entry(request, user)
    target = request.db.scalar(select(User).where(User.id == target_id))
    if target is None or target.role is Role.operator or not target.is_active:
        raise UserError("unknown_agent", _("Choose an agent of the company."), field="agent_id", status=422)
    if target.id == user.id:
        raise UserError("transfer_to_self", _("You cannot transfer a call to yourself."), field="agent_id", status=422)
    if live_offers(request, entry.id, statuses=(OfferStatus.ringing,)):
        raise NoCall("transfer_pending", _("A transfer of this call is already ringing."))
    agent_for(request, target.id)  # exists, so it can be locked
    agent = claim_agent(request, target.id, now)
    if agent is None:
        raise NoCall("agent_not_available", _("${name} cannot take a call now.", mapping={"name": target.display_name}))
    return make_offer(request, entry, entry.queue, agent, now, kind="transfer", from_user_id=user.id)


def cancel_transfer(request, user: User) -> None:
    entry = current_entry(request, user)
    from .routing import resolve_offer

    pending = live_offers(request, entry.id, statuses=(OfferStatus.ringing,))
    if not pending:
        raise NoCall("no_transfer", _("No transfer is ringing."))
    for offer in pending:
        resolve_offer(request, entry, offer, OfferStatus.canceled, utcnow(), stop_phone=True)


def _hand_over(request, entry: QueueEntry, user: User, kind: str, to: str, continuation: Continuation) -> None:
    """Blind transfer: the caller goes on at ``continuation``; the agent goes to wrap-up."""
    now = utcnow()
    call = request.db.get(Call, entry.call_id)
    tenant = request.db.get(Tenant, entry.tenant_id)
    if live_offers(request, entry.id, statuses=(OfferStatus.ringing,)):
        raise NoCall("transfer_pending", _("A transfer of this call is already ringing."))
    call_now(request, tenant, "redirect", carrier_call_id=call.carrier_call_id, continuation=continuation)
    _set_hold(request, entry, False, now)
    entry.status = EntryStatus.ended
    entry.outcome = Outcome.transferred
    entry.ended_by = "agent"
    entry.ended_at = now
    for offer in live_offers(request, entry.id, statuses=(OfferStatus.accepted,)):
        offer.status = OfferStatus.ended
        offer.ended_at = now
        _to_wrap_up(request, offer, entry.queue, now, talk_from=offer.accepted_at)
        if offer.leg_id:
            later(request, tenant, "end_leg", carrier_call_id=offer.leg_id)
    record_event(request, call, EventKind.transferred, at=now, queue=entry.queue_id, to_kind=kind, to=to, from_agent=user.id)


def transfer_to_queue(request, user: User, queue_id: int) -> None:
    entry = current_entry(request, user)
    queue = find_queue(request.db, queue_id)
    if queue is None:
        raise UserError("unknown_queue", _("Choose a queue of the company."), field="queue_id", status=422)
    _hand_over(request, entry, user, "queue", str(queue.id), Continuation("acd.enqueue", {"queue": str(queue.id)}))


def transfer_to_number(request, user: User, number: str) -> str:
    """Blind transfer to an external number, under the dialing rules of the number called."""
    entry = current_entry(request, user)
    call = request.db.get(Call, entry.call_id)
    try:
        e164 = check_outbound(call.to_number, number)
    except NumberError as err:
        raise UserError(err.code, err.message, field="number", status=422)
    _hand_over(request, entry, user, "number", e164, Continuation("acd.forward", {"number": e164}))
    return e164


def is_busy(agent) -> bool:
    return agent.state in (AgentState.ringing, AgentState.on_call)
