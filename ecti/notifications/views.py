"""``/notifications``: deliveries that failed or still wait, with "retry now" (admins)."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ..i18n import _
from ..web import flash, get_or_404
from .models import NotificationDelivery
from .services import DIRECT_CHANNELS_KEY, MAX_ATTEMPTS, problems, retry_now

STATUS_LABELS = {"pending": _("Not sent yet"), "sent": _("Sent"), "failed": _("Failed")}
KIND_LABELS = {"voicemail.received": _("Voicemail received"), "webhook": _("Webhook event"), "webhook.paused": _("Webhook paused")}


@view_config(route_name="notifications", request_method="GET", permission="manage", renderer="ecti:notifications/templates/deliveries.jinja2")
def deliveries_page(request):
    return {"deliveries": problems(request.db), "statuses": STATUS_LABELS, "kinds": KIND_LABELS, "max_attempts": MAX_ATTEMPTS,
            "channels": {**request.registry.get(DIRECT_CHANNELS_KEY, {}), **request.registry.ecti.notification_channels}}


@view_config(route_name="notification_retry", request_method="POST", permission="manage")
def delivery_retry(request):
    delivery = get_or_404(request, NotificationDelivery, request.matchdict["id"])
    retry_now(request, delivery)
    flash(request, _("The notification will be sent again now."))
    return HTTPSeeOther(request.route_url("notifications"))


def includeme(config):
    config.add_route("notifications", "/notifications")
    config.add_route("notification_retry", "/notifications/{id:\\d+}/retry")
    config.add_console_nav("notifications", _("Notifications"), group="admin", permission="manage", order=30)
