"""Queueing, sending and retrying notification deliveries.

At least once: a delivery is claimed (``next_attempt_at`` pushed past the send timeout) and
committed before the channel is called, so a crashed worker's delivery is tried again later,
and a failure never rolls back what the notification is about.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import or_, select

from .. import jobs
from ..db import all_tenants
from ..models.meta import utcnow
from .models import FAILED, PENDING, SENT, NotificationDelivery

log = logging.getLogger(__name__)

KINDS_KEY = "ecti.notification_kinds"
#: Channels of deliveries queued directly (one receiver each, e.g. webhooks), never used by
#: :func:`notify`: ``{name: channel}``, registered with :func:`add_direct_channel`.
DIRECT_CHANNELS_KEY = "ecti.notification_direct_channels"
SEND_JOB = "notifications.send"
#: After this many failed attempts a delivery waits for an admin's "retry now".
MAX_ATTEMPTS = 8
#: While one worker sends, nobody else picks the delivery up.
CLAIM = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, … minutes after the n-th failure, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def add_notification_kind(config, kind: str, build: Callable) -> None:
    """``build(request, delivery) -> Notification | None``: the notification a delivery sends,
    read from the database when it is sent (None: what it was about is gone; nothing is sent)."""
    config.registry.setdefault(KINDS_KEY, {})[kind] = build


def add_direct_channel(config, channel) -> None:
    """A channel whose deliveries a subsystem queues itself (not one for every notification)."""
    config.registry.setdefault(DIRECT_CHANNELS_KEY, {})[channel.name] = channel


def channel_named(registry, name: str):
    return registry.ecti.notification_channels.get(name) or registry.get(DIRECT_CHANNELS_KEY, {}).get(name)


def notify(request, *, kind: str, subject_id: int, tenant_id: int, recipients: list[tuple[str, str]]) -> list[NotificationDelivery]:
    """Queue ``kind`` about row ``subject_id`` for every enabled channel and each
    ``(address, locale)`` recipient, in the current transaction; sent after commit."""
    channels = list(request.registry.ecti.notification_channels)
    now = utcnow()
    rows = []
    seen = set()
    for channel in channels:
        for address, locale in recipients:
            if not address or (channel, address) in seen:
                continue
            seen.add((channel, address))
            row = NotificationDelivery(
                tenant_id=tenant_id, kind=kind, subject_id=subject_id, channel=channel, recipient=address,
                locale=locale or "ja", status=PENDING, attempts=0, next_attempt_at=now,
            )
            request.db.add(row)
            rows.append(row)
    if rows:
        request.db.flush()
        ids = [r.id for r in rows]
        registry = request.registry
        request.tm.get().addAfterCommitHook(lambda committed: committed and jobs.enqueue(registry, SEND_JOB, tenant_id, ids))
    return rows


def send_job(registry, tenant_id: int, ids: list[int]) -> list[str]:
    return [attempt(registry, tenant_id, delivery_id) for delivery_id in ids]


def attempt(registry, tenant_id: int, delivery_id: int, now: datetime | None = None) -> str:
    """Try one delivery now; returns its status afterwards ("sent", "failed", or "skipped")."""
    now = now or utcnow()
    with jobs.in_transaction(registry, tenant_id) as request:
        delivery = request.db.get(NotificationDelivery, delivery_id, with_for_update=True)
        if delivery is None or delivery.status == SENT or (delivery.next_attempt_at and delivery.next_attempt_at > now):
            return "skipped"
        build = registry.get(KINDS_KEY, {}).get(delivery.kind)
        channel = channel_named(registry, delivery.channel)
        notification = build(request, delivery) if build else None
        if notification is None or channel is None:
            delivery.status, delivery.next_attempt_at = FAILED, None
            delivery.last_error = "nothing to send" if notification is None else f"channel {delivery.channel} is not installed"
            return FAILED
        notification = replace(notification, recipients=[delivery.recipient], locale=delivery.locale)
        delivery.attempts += 1
        delivery.next_attempt_at = now + CLAIM
        attempts = delivery.attempts
    try:
        channel.deliver(notification, registry=registry)
    except Exception as exc:
        log.warning("notification %s via %s to %s failed: %s", delivery_id, channel.name, notification.recipients[0], exc)
        error = f"{type(exc).__name__}: {exc}"[:1000]
        with jobs.in_transaction(registry, tenant_id) as request:
            delivery = request.db.get(NotificationDelivery, delivery_id)
            delivery.status, delivery.last_error = FAILED, error
            delivery.next_attempt_at = now + backoff(attempts) if attempts < MAX_ATTEMPTS else None
        return FAILED
    with jobs.in_transaction(registry, tenant_id) as request:
        delivery = request.db.get(NotificationDelivery, delivery_id)
        delivery.status, delivery.sent_at, delivery.next_attempt_at = SENT, utcnow(), None
    return SENT


def send_due(registry, now: datetime | None = None) -> list[str]:
    """The periodic retry: every delivery (of any tenant) whose next attempt is due."""
    now = now or utcnow()
    with jobs.in_transaction(registry, None) as request:
        with all_tenants(request.db):
            due = request.db.execute(
                select(NotificationDelivery.tenant_id, NotificationDelivery.id).where(
                    NotificationDelivery.status.in_((PENDING, FAILED)), NotificationDelivery.next_attempt_at <= now,
                ).order_by(NotificationDelivery.id).limit(500)
            ).all()
    return [attempt(registry, tenant_id, delivery_id, now) for tenant_id, delivery_id in due]


def retry_now(request, delivery: NotificationDelivery) -> None:
    """An admin's "retry now": due at once, with a fresh allowance of attempts."""
    if delivery.status == SENT:
        return
    delivery.status = PENDING
    delivery.next_attempt_at = utcnow()
    delivery.attempts = min(delivery.attempts, MAX_ATTEMPTS - 1)
    registry, tenant_id, ids = request.registry, delivery.tenant_id, [delivery.id]
    request.tm.get().addAfterCommitHook(lambda committed: committed and jobs.enqueue(registry, SEND_JOB, tenant_id, ids))


def problems(session, limit: int = 200) -> list[NotificationDelivery]:
    """Deliveries an admin should see: failed ones and those still waiting."""
    return list(session.scalars(
        select(NotificationDelivery).where(or_(NotificationDelivery.status == FAILED, NotificationDelivery.status == PENDING))
        .order_by(NotificationDelivery.id.desc()).limit(limit)
    ))
