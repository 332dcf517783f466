"""Event webhooks (issue 23): companies subscribe URLs to events; each delivery is signed and
sent through the notification outbox. See :mod:`.services` and docs/api.md."""


def includeme(config):
    from sqlalchemy import event

    from ..db import EctiSession
    from ..notifications.services import add_direct_channel, add_notification_kind
    from . import services

    for name, listener in (("after_flush", services.note_new_rows), ("before_commit", services.write_events),
                           ("after_transaction_end", services.forget)):
        if not event.contains(EctiSession, name, listener):
            event.listen(EctiSession, name, listener)
    add_direct_channel(config, services.WebhookChannel())
    add_notification_kind(config, services.KIND, services.build)
    add_notification_kind(config, services.PAUSED_KIND, services.build_paused)
    config.include(".views")
