"""Voicemail (F-PH-6): recording messages, the inbox, telling the box's recipients.

A message is saved in the transaction of the carrier's recording callback, together with its
:class:`~ecti.calls.models.Recording` (purpose ``voicemail``, played through
``/recordings/{id}/media``) and its notification deliveries; mail goes out after commit
(:mod:`ecti.notifications`). See ``docs/voicemail.md``.
"""


def includeme(config):
    from .notify import build_notification
    from .services import record_handler

    config.add_call_handler("voicemail.record", record_handler, after_end=True)  # the message, after a hang-up
    config.add_notification_kind("voicemail.received", build_notification)
    config.include(".views")
