"""SMS (F-PH-8): messages the tenant's numbers send and receive.

Console pages under ``/sms``, the JSON API under ``/api/v1/messages``; the carrier plugin
sends (:class:`ecti.interfaces.SmsCarrier`) and reports statuses and incoming messages to
:mod:`ecti.messaging.services`. See ``docs/sms.md``.
"""


def includeme(config):
    from ..notifications.services import add_notification_kind
    from .services import SMS_RECEIVED, build_notification

    add_notification_kind(config, SMS_RECEIVED, build_notification)
    config.include(".views")
