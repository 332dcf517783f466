"""SMS (F-PH-8): messages the tenant's numbers send and receive.

Console pages under ``/sms``, the JSON API under ``/api/v1/messages``; the carrier plugin
sends (:class:`ecti.interfaces.SmsCarrier`) and reports statuses and incoming messages to
:mod:`ecti.messaging.services`. See ``docs/sms.md``.
"""


def includeme(config):
    config.include(".views")
