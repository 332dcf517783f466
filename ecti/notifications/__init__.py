"""Notifications through the ``ecti_notification_channels`` plugins, with an outbox.

Subsystems call :func:`ecti.notifications.services.notify` in the transaction that produced
the news; it writes one :class:`~ecti.notifications.models.NotificationDelivery` per channel
and recipient and, after commit, queues the job that sends them. Failures are retried with
backoff and listed for admins at ``/notifications``. A subsystem registers how its news reads
with ``config.add_notification_kind(kind, build)``.
"""


def includeme(config):
    from .services import add_notification_kind

    config.add_directive("add_notification_kind", add_notification_kind)
    config.include(".views")
    config.include(".jobs")
