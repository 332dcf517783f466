"""Sending SMS, recording what the carrier reports, announcing incoming messages.

Sending (:func:`send_message`) happens in three steps, so that nothing an agent wrote is lost:

1. the request is checked (an SMS-capable number of the company, a +country destination, a
   body of 1 to :data:`~ecti.messaging.segments.MAX_SEGMENTS` segments) — a refusal saves
   nothing;
2. the message is stored as ``queued`` and **committed**;
3. the carrier is asked. Its id, or its refusal (``failed`` with its error code), is written in
   a second transaction.

The carrier's status reports may arrive before step 3 is written; they carry ECTI's message id
(``reference``) so :func:`apply_message_status` finds the message anyway. Statuses only move
forward: repeated and late reports change nothing.
"""
from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..calls.models import Direction
from ..errors import UserError
from ..i18n import _
from ..interfaces import CarrierRefused, Notification, SmsCarrier
from ..models.meta import utcnow
from ..telephony.models import PhoneNumber
from ..telephony.numbering import NumberError, check_sms_destination, format_domestic, to_e164
from ..tenancy.models import User
from .models import Message, MessageStatus, SmsNotificationRecipient
from .segments import MAX_SEGMENTS, SegmentCount, count_segments, max_characters, normalise_body

log = logging.getLogger(__name__)

#: ``request.environ`` key: the message this request already handed to the carrier. pyramid_retry
#: re-runs a request with the same environ; the retry must not send the SMS a second time.
_SENT_KEY = "ecti.messaging.sent_message_id"


# --- reading ---------------------------------------------------------------------------------

def find_message(session, carrier_message_id: str, *, for_update: bool = False) -> Message | None:
    query = select(Message).where(Message.carrier_message_id == carrier_message_id)
    return session.scalar(query.with_for_update() if for_update else query)


def sms_numbers(session) -> list[PhoneNumber]:
    """The company's numbers that can send SMS, in number order."""
    return list(session.scalars(select(PhoneNumber).where(PhoneNumber.sms_capable.is_(True)).order_by(PhoneNumber.e164)))


def list_messages(session, *, remote_number: str | None = None, before_id: int | None = None, limit: int = 50) -> list[Message]:
    """Messages newest first (of one conversation when ``remote_number`` is given)."""
    query = select(Message).order_by(Message.id.desc()).limit(limit)
    if remote_number is not None:
        query = query.where(Message.remote_number == remote_number)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    return list(session.scalars(query))


def list_conversations(session, *, before_id: int | None = None, limit: int = 50) -> list[tuple[Message, int]]:
    """One entry per remote number, the most recent conversation first: its latest message and
    how many messages it has. ``before_id`` is the latest message id of the previous page's last
    conversation."""
    latest = func.max(Message.id).label("latest_id")
    query = select(latest, func.count(Message.id)).group_by(Message.remote_number).order_by(latest.desc()).limit(limit)
    if before_id is not None:
        query = query.having(latest < before_id)
    rows = session.execute(query).all()
    by_id = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_([r[0] for r in rows])))}
    return [(by_id[latest_id], count) for latest_id, count in rows]


# --- sending ---------------------------------------------------------------------------------

def sms_carrier(registry, tenant) -> SmsCarrier:
    """The company's carrier, if it can send SMS and is set up; else a 409 :class:`UserError`."""
    carrier = registry.ecti.carriers.get(tenant.carrier)
    if carrier is None or not isinstance(carrier, SmsCarrier):
        raise UserError("no_sms_carrier", _("This company's phone carrier cannot send SMS."), status=409)
    if not tenant.carrier_account_id:
        raise UserError(
            "carrier_not_configured",
            _("The company's carrier account is not set up yet, so SMS cannot be sent. Ask your operator."),
            status=409,
        )
    return carrier


def check_outgoing(session, *, from_number: str, to: str, body: str) -> tuple[PhoneNumber, str, str, SegmentCount]:
    """Check an SMS before anything is stored; return the sending number, the E.164
    destination, the body (line breaks normalised) and its segment count.

    :raises UserError: with ``field`` set to ``from_number``, ``to`` or ``body`` (status 422).
    """
    sender = _own_sms_number(session, from_number)
    try:
        destination = check_sms_destination(to)
    except NumberError as err:
        raise UserError(err.code, err.message, field="to", status=422) from None
    text = normalise_body(body)
    if not text.strip():
        raise UserError("empty_body", _("Enter the text of the message."), field="body", status=422)
    count = count_segments(text)
    if count.too_long:
        raise UserError(
            "body_too_long",
            _(
                "The message is too long: ${characters} characters make ${segments} SMS segments, and at most "
                "${max_segments} can be sent (${max_characters} characters of ${encoding} text). Shorten it by "
                "${over} characters.",
                mapping={
                    "characters": count.characters,
                    "segments": count.segments,
                    "max_segments": MAX_SEGMENTS,
                    "max_characters": max_characters(count.encoding),
                    "encoding": count.encoding,
                    "over": count.characters - max_characters(count.encoding),
                },
            ),
            field="body",
            status=422,
        )
    return sender, destination, text, count


def _own_sms_number(session, text: str) -> PhoneNumber:
    shown = (text or "").strip()
    if not shown:
        raise UserError("empty_from_number", _("Choose the number to send from."), field="from_number", status=422)
    try:
        e164 = to_e164(shown)
    except NumberError:
        e164 = None
    # The tenant scope hides other companies' numbers: theirs read as "not ours", like unknown ones.
    number = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == e164)) if e164 else None
    if number is None:
        raise UserError(
            "not_own_number",
            _("${number} is not one of the company's numbers. Choose one of the company's SMS-capable numbers.", mapping={"number": shown}),
            field="from_number",
            status=422,
        )
    if not number.sms_capable:
        raise UserError(
            "not_sms_capable",
            _(
                "${number} cannot send SMS. Choose an SMS-capable number (an overseas number with SMS; "
                "Japanese 050, 0120 and 0800 numbers cannot send SMS).",
                mapping={"number": format_domestic(number.e164)},
            ),
            field="from_number",
            status=422,
        )
    return number


def send_message(request, *, from_number: str, to: str, body: str) -> Message:
    """Check, store, then hand an SMS to the company's carrier (see the module docstring).

    Returns the stored message: ``queued`` (or further) when the carrier accepted it, ``failed``
    with the carrier's error code when it refused or could not be reached.

    :raises UserError: the request was refused before anything was stored.
    """
    db = request.db
    already = request.environ.get(_SENT_KEY)
    if already is not None:  # a retried request: the carrier has had this message already
        return db.get(Message, already)
    tenant = request.tenant
    carrier = sms_carrier(request.registry, tenant)
    sender, destination, text, count = check_outgoing(db, from_number=from_number, to=to, body=body)
    message = Message(
        direction=Direction.outbound,
        from_number=sender.e164,
        to_number=destination,
        remote_number=destination,
        body=text,
        segments=count.segments,
        status=MessageStatus.queued,
        user_id=request.identity.id if request.identity else None,
    )
    db.add(message)
    db.flush()
    message_id = message.id
    # Committed before the carrier hears of it: whatever happens next, the message is kept.
    request.tm.commit()
    request.environ[_SENT_KEY] = message_id
    request.tm.begin()
    try:
        sent = carrier.send_sms(
            request=request, tenant=tenant, from_number=sender.e164, to_number=destination, body=text, reference=str(message_id)
        )
    except CarrierRefused as refused:
        log.info("carrier refused SMS %s of %s: %s %s", message_id, tenant.slug, refused.carrier_code, refused.detail)
        return _mark_failed(db, message_id, refused.carrier_code, refused.detail)
    except Exception as exc:  # the carrier could not be reached: the message stays, marked failed
        log.exception("SMS %s of %s: the carrier could not be reached", message_id, tenant.slug)
        return _mark_failed(db, message_id, None, str(exc) or type(exc).__name__)
    message = _locked(db, message_id)
    if message.carrier_message_id is None:  # a status report may have brought it already
        message.carrier_message_id = sent.carrier_message_id
    _move_forward(message, sent.status)
    return message


def _locked(session, message_id: int) -> Message:
    return session.scalar(select(Message).where(Message.id == message_id).with_for_update())


def _mark_failed(session, message_id: int, code: str | None, detail: str) -> Message:
    message = _locked(session, message_id)
    message.status = MessageStatus.failed
    message.error_code = code
    message.error_message = detail or None
    message.updated_at = utcnow()
    return message


def _move_forward(message: Message, status: str, error_code: str | None = None) -> bool:
    try:
        new = MessageStatus(status)
    except ValueError:
        return False
    if new.rank <= message.status.rank:
        return False
    message.status = new
    message.error_code = error_code or message.error_code
    message.updated_at = utcnow()
    return True


def error_text(registry, tenant, message: Message):
    """Why a message failed or was not delivered, for people; None when nothing went wrong."""
    if message.status not in (MessageStatus.failed, MessageStatus.undelivered) and not message.error_code:
        return None
    carrier = registry.ecti.carriers.get(tenant.carrier) if tenant is not None else None
    if message.error_code and isinstance(carrier, SmsCarrier):
        known = carrier.sms_error_message(message.error_code)
        if known is not None:
            return known
    if message.error_code:
        return _(
            "The carrier reported error ${code}: ${detail}",
            mapping={"code": message.error_code, "detail": message.error_message or "—"},
        )
    if message.status is MessageStatus.failed:
        return _(
            "The carrier could not be reached, so the SMS was not sent: ${detail}. Try again later.",
            mapping={"detail": message.error_message or "—"},
        )
    return None


# --- what the carrier reports ----------------------------------------------------------------

def record_inbound(session, tenant, *, carrier_message_id: str, from_number: str, to_number: str, body: str, segments: int | None = None) -> tuple[Message, bool]:
    """Store a received SMS once, however often the carrier delivers the webhook.

    Returns the message and whether it is new.
    """
    message = find_message(session, carrier_message_id)
    if message is not None:
        return message, False
    message = Message(
        tenant_id=tenant.id,
        carrier_message_id=carrier_message_id,
        direction=Direction.inbound,
        from_number=from_number,
        to_number=to_number,
        remote_number=from_number,
        body=body,
        segments=segments or count_segments(body).segments or 1,
        status=MessageStatus.received,
    )
    try:
        with session.begin_nested():  # the same webhook, delivered twice at once
            session.add(message)
    except IntegrityError:
        return find_message(session, carrier_message_id), False
    return message, True


def apply_message_status(
    session, carrier_message_id: str, status: str, *, error_code: str | None = None, error_message: str | None = None,
    reference: str | None = None,
) -> bool:
    """Move a sent message forward to ``status``; False when unknown, repeated or late.

    ``reference`` is ECTI's message id, which the carrier brings back with its reports: the
    first report may come before :func:`send_message` has stored the carrier's id.
    """
    message = find_message(session, carrier_message_id, for_update=True) if carrier_message_id else None
    if message is None and reference and reference.isdigit():
        candidate = _locked(session, int(reference))
        if (
            candidate is not None
            and candidate.direction is Direction.outbound
            and candidate.carrier_message_id in (None, carrier_message_id)
        ):
            message = candidate
            message.carrier_message_id = carrier_message_id or None
            if message.status is MessageStatus.failed and message.error_code is None:
                # Marked failed because the carrier did not answer in time, yet it took the
                # message: from now on its reports tell what happened.
                message.status, message.error_message = MessageStatus.queued, None
    if message is None:
        return False
    moved = _move_forward(message, status, error_code)
    if moved and error_message and error_code:
        message.error_message = error_message
    return moved


def receive_message(request, tenant, **fields) -> Message:
    """Store an incoming SMS (see :func:`record_inbound`) and, the first time, announce it."""
    message, new = record_inbound(request.db, tenant, **fields)
    if new:
        announce_received(request, tenant, message)
    return message


# --- announcing incoming messages ------------------------------------------------------------

SMS_RECEIVED = "sms.received"


def notification_recipients(session) -> list[User]:
    """The company's active users chosen to hear about incoming SMS."""
    query = (
        select(User)
        .join(SmsNotificationRecipient, SmsNotificationRecipient.user_id == User.id)
        .where(User.is_active.is_(True))
        .order_by(User.display_name, User.id)
    )
    return list(session.scalars(query))


def set_notification_recipients(session, user_ids: set[int]) -> None:
    """Make exactly these users (of the company, active) the recipients."""
    current = {r.user_id: r for r in session.scalars(select(SmsNotificationRecipient))}
    valid = set(session.scalars(select(User.id).where(User.id.in_(user_ids), User.is_active.is_(True)))) if user_ids else set()
    for user_id, row in current.items():
        if user_id not in valid:
            session.delete(row)
    for user_id in valid - set(current):
        session.add(SmsNotificationRecipient(user_id=user_id))


def conversation_url(request, remote_number: str) -> str:
    """The conversation page, at ECTI's public address (a notification is read elsewhere)."""
    public = request.registry.settings.get("ecti.public_url")
    path = request.route_path("sms.conversation", number=remote_number)
    return public.rstrip("/") + path if public else request.route_url("sms.conversation", number=remote_number)


def announce_received(request, tenant, message: Message) -> None:
    """Queue "SMS received" for the chosen users on every notification channel, in the
    transaction that stores the message; the outbox (:mod:`ecti.notifications`) sends it after
    commit, retries a failure and shows it to the admins."""
    from ..notifications.services import notify

    recipients = [(u.email, u.locale or (tenant.locale or "ja")) for u in notification_recipients(request.db)]
    notify(request, kind=SMS_RECEIVED, subject_id=message.id, tenant_id=tenant.id, recipients=recipients)


def build_notification(request, delivery) -> Notification | None:
    """How "SMS received" reads, built when it is sent (None: the message is gone)."""
    message = request.db.get(Message, delivery.subject_id)
    if message is None:
        return None
    mapping = {"sender": format_domestic(message.from_number), "number": format_domestic(message.to_number), "body": message.body}
    return Notification(
        tenant_id=message.tenant_id,
        kind=SMS_RECEIVED,
        recipients=[delivery.recipient],
        subject=_("SMS from ${sender}", mapping=mapping),
        body=_("${sender} sent an SMS to ${number}:\n\n${body}", mapping=mapping),
        link=conversation_url(request, message.remote_number),
        locale=delivery.locale,
    )
