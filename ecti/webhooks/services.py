"""Subscribing, emitting, signing and delivering webhook events.

**Emitting.** The facts already recorded elsewhere are observed where they are written: a
session hook notes each new :class:`~ecti.calls.models.CallEvent` (``call.started``,
``call.queued``, ``call.answered``, ``call.ended``, ``offer.missed``, ``recording.ready``),
:class:`~ecti.ivr.models.VoicemailMessage` (``voicemail.created``),
:class:`~ecti.acd.models.AgentStatusChange` (``agent.status_changed``) and incoming
:class:`~ecti.messaging.models.Message` (``sms.received``), and changed :class:`~ecti.messaging.models.Message` statuses (``sms.status``)
and :class:`~ecti.dialer.models.DialingRow` rows that are done (``dialing_list.row_finished``); just before the transaction commits
the events are written with their payload, one delivery per subscription that wants them, each
queued in the notification outbox. A rolled-back transaction sends nothing.

**Delivering.** The outbox calls :class:`WebhookChannel`: a POST of the JSON body with
``ECTI-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the subscription's
secret>``; a 2xx answer is success, anything else is retried by the outbox with back-off.
``PAUSE_AFTER`` failures in a row pause the subscription and the admins are told.

**Addresses.** A URL whose host resolves to a loopback, private, link-local or otherwise
non-public address is refused, when subscribing and again at each delivery, unless
``ecti.webhooks.allow_private = true``.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pyramid.settings import asbool
from sqlalchemy import inspect, select

from .. import jobs
from ..db import all_tenants
from ..errors import UserError
from ..i18n import _
from ..interfaces import Notification
from ..models.meta import utcnow
from ..notifications.models import PENDING as OUTBOX_PENDING
from ..notifications.models import NotificationDelivery
from ..notifications.services import SEND_JOB
from .models import ACTIVE, EVENT_TYPES, FAILED, PAUSED, SUCCEEDED, WebhookDelivery, WebhookEvent, WebhookSubscription  # noqa: F401

log = logging.getLogger(__name__)

CHANNEL = "webhook"
#: The outbox's kind for a webhook delivery; the one for "a subscription was paused".
KIND, PAUSED_KIND = "webhook", "webhook.paused"
PAUSE_AFTER = 10
SIGNATURE_HEADER = "ECTI-Signature"
MAX_URL = 2000

_CALL_EVENT_TYPES = {
    "started": "call.started", "entered_queue": "call.queued", "connected": "call.answered", "completed": "call.ended",
    "no_answer": "offer.missed", "recording": "recording.ready",
}
PENDING_KEY = "ecti.webhooks.pending"
QUEUED_KEY = "ecti.webhooks.queued"


# --- subscribing ---------------------------------------------------------------------------------

def allow_private(settings) -> bool:
    return asbool(settings.get("ecti.webhooks.allow_private", False))


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved)


def check_url(url: str, *, allow_private_addresses: bool) -> str:
    """The URL if a webhook may be sent there, else a :class:`UserError` saying why."""
    url = (url or "").strip()
    if not url or len(url) > MAX_URL:
        raise UserError("invalid_url", _("Enter the receiver's URL (at most 2000 characters)."), field="url", status=422)
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UserError("invalid_url", _("The URL must start with https:// (or http://) and name a host."), field="url", status=422)
    if parts.username or parts.password:
        raise UserError("invalid_url", _("Put no user name or password in the URL; verify the signature instead."), field="url",
                        status=422)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError, ValueError):
        raise UserError("unresolvable_url", _("The host ${host} could not be found.", mapping={"host": parts.hostname}), field="url",
                        status=422)
    if not allow_private_addresses and not all(_is_public(a) for a in addresses):
        raise UserError("private_address", _("The host ${host} is a local or private address; webhooks are only sent to "
                                             "public addresses.", mapping={"host": parts.hostname}), field="url", status=422)
    return url


def check_events(events) -> list[str]:
    events = sorted(set(events or ()))
    if not events:
        raise UserError("no_events", _("Choose at least one event."), field="events", status=422)
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise UserError("unknown_event", _("Unknown events: ${events}", mapping={"events": ", ".join(unknown)}), field="events",
                        status=422)
    return events


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def subscribe(request, *, tenant_id: int, url: str, events, description: str = "") -> WebhookSubscription:
    url = check_url(url, allow_private_addresses=allow_private(request.registry.settings))
    events = check_events(events)
    subscription = WebhookSubscription(tenant_id=tenant_id, url=url, events=events, description=(description or "").strip()[:200],
                                       secret_encrypted=request.registry.secret_box.encrypt(new_secret()), status=ACTIVE,
                                       consecutive_failures=0, created_at=utcnow())
    request.db.add(subscription)
    request.db.flush()
    return subscription


def signing_secret(registry, subscription: WebhookSubscription) -> str:
    return registry.secret_box.decrypt(subscription.secret_encrypted)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``ECTI-Signature`` header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (docs/api.md): the timestamp is recent and one ``v1`` matches."""
    fields = [part.split("=", 1) for part in (header or "").split(",") if "=" in part]
    timestamps = [v for k, v in fields if k == "t"]
    if not timestamps or not timestamps[0].isdigit():
        return False
    timestamp = int(timestamps[0])
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, v) for k, v in fields if k == "v1")


# --- emitting ------------------------------------------------------------------------------------

def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _value(value):
    return getattr(value, "value", value)


def call_data(call) -> dict:
    return {
        "id": call.id, "direction": _value(call.direction), "from": call.from_number, "to": call.to_number,
        "company_number": call.tenant_number, "status": _value(call.status), "outcome": _value(call.outcome),
        "started_at": _iso(call.started_at), "queued_at": _iso(call.queued_at), "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at), "duration_seconds": call.duration_seconds, "queue_id": call.queue_id,
        "agent_user_id": call.agent_user_id, "wait_seconds": call.wait_seconds, "talk_seconds": call.talk_seconds,
        "hold_seconds": call.hold_seconds, "has_recording": bool(call.has_recording), "has_voicemail": bool(call.has_voicemail),
        "disposition": call.disposition,
    }


_WATCHED: tuple = ()


def _watched() -> tuple:
    """The models whose new rows are events (imported once, on first use)."""
    global _WATCHED
    if not _WATCHED:
        from ..acd.models import AgentStatusChange
        from ..calls.models import CallEvent
        from ..ivr.models import VoicemailMessage
        from ..dialer.models import DialingRow
        from ..messaging.models import Message

        _WATCHED = (CallEvent, VoicemailMessage, AgentStatusChange, Message, DialingRow)
    return _WATCHED


def _status_changed(obj) -> bool:
    return inspect(obj).attrs.status.history.has_changes()


def _changed_facts(obj) -> list[tuple[int, str, Any]]:
    """``(tenant_id, event type, object)`` told by a changed row: an SMS's delivery status, a
    dialing-list row that is done."""
    *_others, message, dialing_row = _watched()
    if isinstance(obj, message) and _status_changed(obj):
        return [(obj.tenant_id, "sms.status", obj)]
    if isinstance(obj, dialing_row) and _status_changed(obj) and _value(obj.status) == "done":
        return [(obj.tenant_id, "dialing_list.row_finished", obj)]
    return []


def _facts(obj) -> list[tuple[int, str, Any]]:
    """``(tenant_id, event type, object)`` told by a new row (usually none)."""
    call_event, voicemail, status_change, message, _row = _watched()
    if isinstance(obj, call_event):
        kind = _CALL_EVENT_TYPES.get(_value(obj.kind))
        return [(obj.tenant_id, kind, obj)] if kind else []
    if isinstance(obj, voicemail):
        return [(obj.tenant_id, "voicemail.created", obj)]
    if isinstance(obj, status_change):
        return [(obj.tenant_id, "agent.status_changed", obj)]
    if isinstance(obj, message) and _value(obj.direction) == "inbound":
        return [(obj.tenant_id, "sms.received", obj)]
    return []


def _payload(type_: str, obj) -> dict:
    if type_.startswith("call.") or type_ in ("offer.missed", "recording.ready"):
        data = {"call": call_data(obj.call)}
        if type_ == "offer.missed":
            data["agent_user_id"] = (obj.data or {}).get("user_id") or (obj.data or {}).get("agent")
        if type_ == "recording.ready":
            data["recording"] = {k: v for k, v in (obj.data or {}).items() if k in ("recording_id", "duration", "purpose")}
        return data
    if type_ == "voicemail.created":
        return {"voicemail": {"id": obj.id, "box_id": obj.box_id, "call_id": obj.call_id, "from": obj.from_number,
                              "duration_seconds": obj.duration_seconds, "created_at": _iso(obj.created_at)}}
    if type_ == "agent.status_changed":
        return {"agent": {"user_id": obj.user_id, "from_status": obj.from_status, "to_status": obj.to_status,
                          "reason": obj.reason, "at": _iso(obj.at), "call_id": obj.call_id}}
    if type_ == "sms.received":
        return {"sms": {"id": obj.id, "from": obj.from_number, "to": obj.to_number, "body": obj.body,
                        "created_at": _iso(obj.created_at)}}
    if type_ == "sms.status":
        return {"sms": {"id": obj.id, "direction": _value(obj.direction), "from": obj.from_number, "to": obj.to_number,
                        "status": _value(obj.status), "error_code": obj.error_code, "updated_at": _iso(obj.updated_at)}}
    if type_ == "dialing_list.row_finished":
        return {"row": {"id": obj.id, "list_id": obj.list_id, "row_number": obj.row_number, "number": obj.number, "name": obj.name,
                        "outcome": _value(obj.last_outcome), "attempts": obj.attempts}}
    return {}


def note_new_rows(session, flush_context) -> None:
    """``after_flush``: remember the new rows that are webhook events (ids are assigned now)."""
    found = [fact for obj in session.new for fact in _facts(obj)]
    found += [fact for obj in session.dirty for fact in _changed_facts(obj)]
    if not found:
        return
    session.info.setdefault(PENDING_KEY, []).extend(found)


def write_events(session) -> None:
    """``before_commit``: write the events and their deliveries for the subscriptions that
    want them, and queue the sending after commit."""
    pending = session.info.pop(PENDING_KEY, None)
    if not pending:
        return
    pending = [(t, k, o) for t, k, o in pending if inspect(o).persistent]
    tenants = {t for t, _k, _o in pending}
    with all_tenants(session):
        subscriptions = list(session.scalars(select(WebhookSubscription).where(
            WebhookSubscription.tenant_id.in_(tenants), WebhookSubscription.status == ACTIVE)))
        if not subscriptions:
            return
        outbox = []
        now = utcnow()
        for tenant_id, type_, obj in pending:
            wanted = [s for s in subscriptions if s.tenant_id == tenant_id and type_ in (s.events or ())]
            if not wanted:
                continue
            public_id = "evt_" + secrets.token_urlsafe(18)
            event = WebhookEvent(tenant_id=tenant_id, public_id=public_id, type=type_, created_at=now, payload={
                "id": public_id, "type": type_, "created_at": _iso(now), "api_version": "v1", "data": _payload(type_, obj)})
            session.add(event)
            for subscription in wanted:
                delivery = WebhookDelivery(tenant_id=tenant_id, subscription=subscription, event=event, status="pending",
                                           attempts=0, created_at=now)
                session.add(delivery)
                outbox.append((tenant_id, delivery))
        session.flush()
        rows = [queue_delivery(session, tenant_id, delivery) for tenant_id, delivery in outbox]
        session.flush()
    request = session.info.get("ecti.audit.request")
    tm = getattr(request, "tm", None) if request is not None else None
    if tm is not None and rows:
        registry = request.registry
        by_tenant: dict[int, list[int]] = {}
        for row in rows:
            by_tenant.setdefault(row.tenant_id, []).append(row.id)
        tm.get().addAfterCommitHook(lambda ok: ok and [jobs.enqueue(registry, SEND_JOB, t, ids) for t, ids in by_tenant.items()])
    # Without a request (a script) the outbox's periodic retry sends them within a minute.


def queue_delivery(session, tenant_id: int, delivery: WebhookDelivery) -> NotificationDelivery:
    """One outbox row for one (re)sending of ``delivery``."""
    row = NotificationDelivery(tenant_id=tenant_id, kind=KIND, subject_id=delivery.id, channel=CHANNEL,
                               recipient=f"webhook:{delivery.subscription_id}", locale="ja", status=OUTBOX_PENDING, attempts=0,
                               next_attempt_at=utcnow())
    session.add(row)
    return row


def forget(session, transaction) -> None:
    """``after_transaction_end``: a finished (committed or rolled back) outer transaction
    leaves nothing behind; a savepoint's end changes nothing."""
    if transaction.parent is None:
        session.info.pop(PENDING_KEY, None)


def resend(request, delivery: WebhookDelivery) -> None:
    """An admin's "resend": the same event (same id) once more, now."""
    row = queue_delivery(request.db, delivery.tenant_id, delivery)
    delivery.status = "pending"
    request.db.flush()
    registry, tenant_id, ids = request.registry, delivery.tenant_id, [row.id]
    request.tm.get().addAfterCommitHook(lambda ok: ok and jobs.enqueue(registry, SEND_JOB, tenant_id, ids))


# --- delivering ----------------------------------------------------------------------------------

def build(request, outbox_row) -> Notification | None:
    """The outbox's view of a webhook delivery (None: the subscription or event is gone)."""
    delivery = request.db.get(WebhookDelivery, outbox_row.subject_id)
    if delivery is None:
        return None
    return Notification(tenant_id=delivery.tenant_id, kind=KIND, recipients=[outbox_row.recipient], subject=delivery.id, body="")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer like any other non-2xx: not followed


class Failed(Exception):
    pass


class WebhookChannel:
    """Sends one webhook delivery (called by the outbox); raises when it did not succeed."""

    name = CHANNEL
    label = _("Webhook")

    def deliver(self, notification: Notification, *, registry) -> None:
        delivery_id = notification.subject
        with jobs.in_transaction(registry, notification.tenant_id) as request:
            delivery = request.db.get(WebhookDelivery, delivery_id)
            if delivery is None:
                return
            subscription = delivery.subscription
            if subscription.status != ACTIVE:
                raise Failed("the subscription is paused")
            url = subscription.url
            secret = signing_secret(registry, subscription)
            body = json.dumps(delivery.event.payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            event_id, event_type = delivery.event.public_id, delivery.event.type
        status, answer, error = None, None, None
        try:
            check_url(url, allow_private_addresses=allow_private(registry.settings))
            timestamp = int(time.time())
            headers = {
                "Content-Type": "application/json; charset=utf-8", "User-Agent": "ECTI-Webhooks/1",
                SIGNATURE_HEADER: sign(secret, body, timestamp), "ECTI-Event-Id": event_id, "ECTI-Event-Type": event_type,
            }
            opener = urllib.request.build_opener(_NoRedirects)
            timeout = float(registry.settings.get("ecti.webhooks.timeout") or 10)
            try:
                with opener.open(urllib.request.Request(url, data=body, headers=headers, method="POST"), timeout=timeout) as response:
                    status, answer = response.status, response.read(2000)
            except urllib.error.HTTPError as exc:
                status, answer = exc.code, exc.read(2000) if exc.fp else b""
        except UserError as exc:
            from ..i18n import localizer_for

            error = localizer_for(registry.settings.get("pyramid.default_locale_name", "ja")).translate(exc.message)
        except Exception as exc:  # refused, timed out, TLS…: tried again later
            error = f"{type(exc).__name__}: {exc}"[:1000]
        ok = status is not None and 200 <= status < 300
        self._record(registry, notification.tenant_id, delivery_id, status, answer, error, ok)
        if not ok:
            raise Failed(error or f"HTTP {status}")

    @staticmethod
    def _record(registry, tenant_id, delivery_id, status, answer, error, ok) -> None:
        from ..notifications.services import notify

        now = utcnow()
        with jobs.in_transaction(registry, tenant_id) as request:
            delivery = request.db.get(WebhookDelivery, delivery_id)
            if delivery is None:
                return
            subscription = request.db.get(WebhookSubscription, delivery.subscription_id, with_for_update=True)
            delivery.attempts += 1
            delivery.last_attempt_at = now
            delivery.response_status = status
            delivery.response_body = answer.decode("utf-8", "replace") if answer is not None else None
            delivery.last_error = None if ok else (error or f"HTTP {status}")
            if ok:
                delivery.status, delivery.delivered_at = SUCCEEDED, now
                subscription.consecutive_failures = 0
                return
            delivery.status = FAILED
            subscription.consecutive_failures += 1
            if subscription.status == ACTIVE and subscription.consecutive_failures >= PAUSE_AFTER:
                subscription.status, subscription.paused_at = PAUSED, now
                log.warning("webhook subscription %s paused after %s failures", subscription.id, subscription.consecutive_failures)
                notify(request, kind=PAUSED_KIND, subject_id=subscription.id, tenant_id=tenant_id, recipients=admins(request.db, tenant_id))


def admins(session, tenant_id: int) -> list[tuple[str, str]]:
    from ..tenancy.models import Role, User

    with all_tenants(session):
        users = session.scalars(select(User).where(User.tenant_id == tenant_id, User.role == Role.admin, User.is_active.is_(True)))
        return [(u.email, u.locale or "ja") for u in users]


def build_paused(request, outbox_row) -> Notification | None:
    subscription = request.db.get(WebhookSubscription, outbox_row.subject_id)
    if subscription is None:
        return None
    return Notification(
        tenant_id=subscription.tenant_id, kind=PAUSED_KIND, recipients=[outbox_row.recipient],
        subject=_("A webhook was paused"),
        body=_("Deliveries to ${url} failed ${n} times in a row, so it was paused. Fix the receiver, then resume it on the "
               "Webhooks page.", mapping={"url": subscription.url, "n": subscription.consecutive_failures}),
    )


def resume(subscription: WebhookSubscription) -> None:
    subscription.status, subscription.paused_at, subscription.consecutive_failures = ACTIVE, None, 0
