"""The entry points carrier plugins call: a call arrives, an agent dials, a status changes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..calls.events import apply_status, record_event
from ..calls.models import Call, CallStatus, Direction, EventKind, find_call
from ..db import insert_first_wins
from ..i18n import _, localizer_for
from ..models.meta import utcnow
from ..telephony.models import PhoneNumber
from ..telephony.numbering import NumberError, check_outbound
from ..tenancy.models import Role, Tenant, User
from . import INBOUND_ENTRY, call_has_ended, dispatch
from .instructions import CallInput, Continuation, Dial, DialTarget, Hangup, Say

#: The continuation told how an agent's outgoing call ended (answered, busy, no answer …).
OUTBOUND_DIAL_ENDED = "calls.dial_ended"

#: The softphone identity of a user at the carrier ("client:agent-12" at Twilio).
IDENTITY_PREFIX = "agent-"


def softphone_identity(user: User) -> str:
    return f"{IDENTITY_PREFIX}{user.id}"


def user_id_from_identity(identity: str) -> int | None:
    identity = identity.removeprefix("client:")
    if not identity.startswith(IDENTITY_PREFIX):
        return None
    try:
        return int(identity[len(IDENTITY_PREFIX):])
    except ValueError:
        return None


def spoken(tenant: Tenant, message) -> str:
    """Translate a message into the tenant's language, for a caller's ears."""
    return localizer_for(tenant.locale or "ja").translate(message)


def say(tenant: Tenant, message) -> Say:
    return Say(spoken(tenant, message), language="ja-JP" if (tenant.locale or "ja") == "ja" else "en-US")


@dataclass(frozen=True)
class CarrierCall:
    """What the carrier told us about a call when it first reached ECTI."""

    carrier_call_id: str
    from_number: str
    to_number: str
    status: CallStatus = CallStatus.ringing
    at: datetime | None = None


#: "Not looked up yet" (as opposed to None: looked up, there is none).
LOOK_UP: Any = object()


def _find_or_create_call(request, tenant: Tenant, info: CarrierCall, direction: Direction, user_id=None, existing=LOOK_UP) -> tuple[Call, bool]:
    call = find_call(request.db, info.carrier_call_id) if existing is LOOK_UP else existing
    if call is not None:
        return call, False
    # The same CallSid may arrive twice at once (a retry, the fallback URL racing the original):
    # the first writer wins and the other continues with its call.
    call, created = insert_first_wins(request.db, Call, dict(
        tenant_id=tenant.id,
        carrier_call_id=info.carrier_call_id,
        direction=direction,
        from_number=info.from_number,
        to_number=info.to_number,
        status=info.status,
        started_at=info.at or utcnow(),
        user_id=user_id,
        # the summary the "started" event gives (so that it needs no UPDATE afterwards)
        tenant_number=info.to_number if direction is Direction.inbound else info.from_number,
        agent_user_id=user_id if direction is Direction.outbound else None,
    ), unique=("tenant_id", "carrier_call_id"))
    if not created:
        return call, False
    record_event(request, call, EventKind.started, direction=direction.value, **{"from": info.from_number, "to": info.to_number})
    return call, True


def inbound_call(request, tenant: Tenant, info: CarrierCall, *, number=LOOK_UP, existing=LOOK_UP) -> list:
    """A call arrived at one of ``tenant``'s numbers. The request's db is scoped to the tenant.

    A repeated webhook for the same call (the carrier retried) starts nothing twice: the call
    continues at its entry again, which is what the caller hears after a retry anyway.

    A carrier adapter that already loaded the called ``number`` (a :class:`PhoneNumber` of the
    tenant, or None) and the ``existing`` call for the carrier's call id (or None) — e.g. in
    the same query as the tenant — passes them, saving those round trips.
    """
    call, _created = _find_or_create_call(request, tenant, info, Direction.inbound, existing=existing)
    if call_has_ended(call):
        return [Hangup()]  # a replayed request for a call that is over: final, nothing to do
    if not tenant.is_active:
        record_event(request, call, EventKind.refused, reason="tenant_suspended")
        return [say(tenant, _("Thank you for calling. This service is currently unavailable. We apologise for the inconvenience.")), Hangup()]
    if number is LOOK_UP:
        number = request.db.scalar(select(PhoneNumber).where(PhoneNumber.e164 == info.to_number))
    if number is None:
        record_event(request, call, EventKind.refused, reason="unknown_number")
        return [say(tenant, _("The number you have called is not in service.")), Hangup()]
    return dispatch(request, call, INBOUND_ENTRY, {"number": str(number.id)}, CallInput())


def not_in_service(request, call: Call, args, call_input) -> list:
    """The inbound entry until the IVR (or a plugin) provides one."""
    tenant = request.db.get(Tenant, call.tenant_id)
    record_event(request, call, EventKind.refused, reason="no_flow")
    return [say(tenant, _("Thank you for calling. This number is not set up yet. Please call again later.")), Hangup()]


def softphone_call(request, tenant: Tenant, info: CarrierCall, *, identity: str, destination: str, caller_id: str) -> list:
    """An agent dialled ``destination`` from the browser, showing ``caller_id``.

    The dialing rules (F-PH-1, F-NUM-2..4) are checked here, on the server, whatever the page
    allowed: a refused number is never dialled, and the agent hears exactly why.
    """
    user_id = user_id_from_identity(identity)
    user = request.db.get(User, user_id) if user_id is not None else None
    if user is None or user.tenant_id != tenant.id or not user.is_active or user.role is Role.operator:
        return [say(tenant, _("This phone is not registered. Please sign in again.")), Hangup()]
    call, _created = _find_or_create_call(
        request, tenant, CarrierCall(info.carrier_call_id, caller_id or info.from_number, destination, info.status, info.at),
        Direction.outbound, user_id=user.id,
    )
    if call_has_ended(call):
        return [Hangup()]
    own = request.db.scalar(select(PhoneNumber).where(PhoneNumber.e164 == caller_id)) if caller_id else None
    if own is None or not own.voice_capable:
        record_event(request, call, EventKind.refused, reason="caller_id_not_owned", caller_id=caller_id)
        return [say(tenant, _("The chosen caller ID is not one of the company's numbers.")), Hangup()]
    try:
        e164 = check_outbound(caller_id, destination)
    except NumberError as err:
        record_event(request, call, EventKind.refused, reason=err.code, destination=destination)
        return [Say(spoken(tenant, err.message)), Hangup()]
    call.to_number = e164
    from ..recordings.services import recording_status, records_outbound

    record = records_outbound(request.db)
    request.db.flush()  # the call's id goes into the recording callback
    return [Dial([DialTarget("number", e164)], caller_id=caller_id, timeout=45, next=Continuation(OUTBOUND_DIAL_ENDED),
                 record=record, recording_status=recording_status(call) if record else None)]


def outbound_dial_ended(request, call: Call, args, call_input: CallInput) -> list:
    """The called party answered and hung up, was busy, did not answer …: the call record's
    outcome and talk time (a repeated report writes the same again)."""
    from ..softphone.outbound import after_dial

    record_event(request, call, EventKind.dial_ended, status=call_input.dial_status, duration=call_input.dial_duration)
    # The agent put the call on hold: the called party was moved to a conference, the agent follows.
    return after_dial(request, call) or [Hangup()]


def call_status(request, tenant: Tenant, carrier_call_id: str, status: str, *, duration: int | None = None, at: datetime | None = None) -> bool:
    """The carrier reports a status; late or repeated reports change nothing (returns False).
    The call's row is locked first (before its queue entry), so that two legs' callbacks
    arriving together decide one after the other."""
    call = request.db.scalar(
        select(Call).where(Call.carrier_call_id == carrier_call_id).with_for_update().execution_options(populate_existing=True)
    )
    if call is None:
        return False
    try:
        new_status = CallStatus(status)
    except ValueError:
        return False
    return apply_status(request, call, new_status, at=at, duration=duration)
