"""管理 → Webhook: subscriptions (create, show the signing secret, pause/resume, delete) and the
latest deliveries with the receiver's answer and "resend"."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from ..api import API_PREFIX, api_view
from ..errors import UserError
from ..i18n import _
from ..web import flash, get_or_404
from .models import ACTIVE, FAILED, PAUSED, PENDING, SUCCEEDED, WebhookDelivery, WebhookSubscription
from .services import EVENT_TYPES, PAUSE_AFTER, resend, resume, signing_secret, subscribe

TEMPLATE = "ecti:webhooks/templates/webhooks.jinja2"
STATUS_LABELS = {ACTIVE: _("Active"), PAUSED: _("Paused"), PENDING: _("Not sent yet"), SUCCEEDED: _("Delivered"), FAILED: _("Failed")}


def _page(request, errors=None, form=None):
    request.response.headers["Cache-Control"] = "no-store"  # the page shows signing secrets
    subscriptions = list(request.db.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))
    deliveries = list(request.db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(100)))
    return {
        "subscriptions": subscriptions,
        "secrets": {s.id: signing_secret(request.registry, s) for s in subscriptions},
        "deliveries": deliveries,
        "event_types": EVENT_TYPES,
        "statuses": STATUS_LABELS,
        "pause_after": PAUSE_AFTER,
        "errors": errors or {},
        "form": form or {},
    }


@view_config(route_name="admin.webhooks", renderer=TEMPLATE, permission="manage", request_method="GET")
def webhooks_page(request):
    return _page(request)


@view_config(route_name="admin.webhooks", renderer=TEMPLATE, permission="manage", request_method="POST")
def webhook_create(request):
    post = request.POST
    try:
        with request.db.begin_nested():
            subscribe(request, tenant_id=request.tenant.id, url=post.get("url", ""), events=post.getall("event"),
                      description=post.get("description", ""))
    except UserError as err:
        request.response.status_int = 422
        return _page(request, errors={err.field or "": request.localizer.translate(err.message)},
                     form={"url": post.get("url", ""), "description": post.get("description", ""), "events": post.getall("event")})
    flash(request, _("The webhook was added. Verify each delivery with its signing secret."))
    return HTTPSeeOther(request.route_url("admin.webhooks"))


@view_config(route_name="admin.webhook_action", permission="manage", request_method="POST")
def webhook_action(request):
    subscription = get_or_404(request, WebhookSubscription, request.matchdict["id"])
    action = request.POST.get("action")
    if action == "pause":
        subscription.status = PAUSED
        message = _("The webhook was paused: no events are sent to it.")
    elif action == "resume":
        resume(subscription)
        message = _("The webhook was resumed.")
    elif action == "delete":
        request.db.delete(subscription)
        message = _("The webhook was deleted.")
    else:
        raise UserError("unknown_action", _("Unknown action."), status=400)
    flash(request, message)
    return HTTPSeeOther(request.route_url("admin.webhooks"))


@view_config(route_name="admin.webhook_resend", permission="manage", request_method="POST")
def webhook_resend(request):
    delivery = get_or_404(request, WebhookDelivery, request.matchdict["id"])
    resend(request, delivery)
    flash(request, _("The event will be sent again now (with the same event id)."))
    return HTTPSeeOther(request.route_url("admin.webhooks"))


# --- the JSON API (scopes webhooks:read / webhooks:write) ---------------------------------------

TAGS = ("webhooks",)


class WebhookOut(BaseModel):
    id: int
    url: str
    description: str
    events: list[str]
    status: str
    consecutive_failures: int
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret (whsec_…): verify each delivery's ECTI-Signature with it.")


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000)
    events: list[str] = Field(min_length=1, max_length=50, description="Event types, e.g. call.ended (docs/api.md).")
    description: str = Field(default="", max_length=200)


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    response_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]


def _out(subscription) -> dict:
    return WebhookOut.model_validate(subscription, from_attributes=True).model_dump()


@api_view("api.webhooks", method="GET", summary="The company's webhook subscriptions (without their secrets)", permission="manage",
          response=WebhookList, tags=TAGS)
def api_webhooks(request):
    return WebhookList(webhooks=[_out(s) for s in request.db.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id))])


@api_view("api.webhooks", method="POST", summary="Subscribe a URL to events; the answer carries the signing secret",
          permission="manage", body=WebhookIn, response=WebhookCreated, status=201, tags=TAGS)
def api_webhook_create(request, body: WebhookIn):
    subscription = subscribe(request, tenant_id=request.tenant.id, url=body.url, events=body.events, description=body.description)
    return WebhookCreated(**_out(subscription), secret=signing_secret(request.registry, subscription))


@api_view("api.webhook", method="DELETE", summary="Delete a webhook subscription (its deliveries go with it)", permission="manage",
          status=204, tags=TAGS, errors=(404,))
def api_webhook_delete(request):
    request.db.delete(get_or_404(request, WebhookSubscription, request.matchdict["id"]))


@api_view("api.webhook_deliveries", method="GET", summary="A subscription's latest 100 deliveries with the receiver's answers",
          permission="manage", response=DeliveryList, tags=TAGS, errors=(404,))
def api_webhook_deliveries(request):
    subscription = get_or_404(request, WebhookSubscription, request.matchdict["id"])
    rows = request.db.scalars(select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
                              .order_by(WebhookDelivery.id.desc()).limit(100))
    return DeliveryList(deliveries=[DeliveryOut(id=d.id, event_id=d.event.public_id, event_type=d.event.type, status=d.status,
                                                attempts=d.attempts, response_status=d.response_status, last_error=d.last_error,
                                                created_at=d.created_at, delivered_at=d.delivered_at) for d in rows])


def includeme(config):
    config.add_route("api.webhooks", f"{API_PREFIX}/webhooks")
    config.add_route("api.webhook", f"{API_PREFIX}/webhooks/{{id:\\d+}}")
    config.add_route("api.webhook_deliveries", f"{API_PREFIX}/webhooks/{{id:\\d+}}/deliveries")
    config.add_route("admin.webhooks", "/admin/webhooks")
    config.add_route("admin.webhook_action", "/admin/webhooks/{id:\\d+}")
    config.add_route("admin.webhook_resend", "/admin/webhooks/deliveries/{id:\\d+}/resend")
    config.add_console_nav("admin.webhooks", _("Webhooks"), group="admin", permission="manage", order=41)
