"""The console page of API keys (管理 → APIキー; the operator's under 運用): create (the
secret is shown once, on the answer to the creation), list (prefix only), revoke."""
from __future__ import annotations

from datetime import timedelta

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from ..errors import UserError
from ..i18n import _
from ..models.meta import utcnow
from ..web import flash
from .scopes import scopes_for_role
from .services import create_key, get_key, list_keys, revoke

TEMPLATE = "ecti:apikeys/templates/api_keys.jinja2"
#: The expiries offered: days (0: never).
EXPIRIES = (0, 30, 90, 365)
STATUS_LABELS = {"active": _("Active"), "revoked": _("Revoked"), "expired": _("Expired")}


def _route(request) -> str:
    return "operator.api_keys" if request.identity.tenant_id is None else "admin.api_keys"


def _page(request, *, secret=None, created=None, errors=None, form=None):
    user = request.identity
    return {
        "keys": list_keys(request.db, user.tenant_id),
        "scopes": scopes_for_role(user.tenant_id is None),
        "expiries": EXPIRIES,
        "statuses": STATUS_LABELS,
        "now": utcnow(),
        "secret": secret,
        "created": created,
        "errors": errors or {},
        "form": form or {},
        "page_route": _route(request),
    }


@view_config(route_name="admin.api_keys", renderer=TEMPLATE, permission="manage", request_method="GET")
@view_config(route_name="operator.api_keys", renderer=TEMPLATE, permission="operate", request_method="GET")
def api_keys_page(request):
    return _page(request)


@view_config(route_name="admin.api_keys", renderer=TEMPLATE, permission="manage", request_method="POST")
@view_config(route_name="operator.api_keys", renderer=TEMPLATE, permission="operate", request_method="POST")
def api_key_create(request):
    post = request.POST
    translate = request.localizer.translate
    try:
        try:
            days = int(post.get("expires_days") or 0)
        except ValueError:
            days = -1
        if days not in EXPIRIES:
            raise UserError("invalid_expiry", _("Choose one of the offered expiries."), field="expires_days", status=422)
        with request.db.begin_nested():
            key, secret = create_key(request.db, user=request.identity, name=post.get("name", ""), scopes=post.getall("scope"),
                                     expires_at=utcnow() + timedelta(days=days) if days else None)
    except UserError as err:
        request.response.status_int = 422 if err.status in (400, 422) else err.status
        return _page(request, errors={err.field or "": translate(err.message)}, form={"name": post.get("name", ""), "scopes": post.getall("scope")})
    # Shown on this answer only; never stored anywhere but as its hash.
    request.response.headers["Cache-Control"] = "no-store"
    return _page(request, secret=secret, created=key)


@view_config(route_name="admin.api_key_revoke", permission="manage", request_method="POST")
@view_config(route_name="operator.api_key_revoke", permission="operate", request_method="POST")
def api_key_revoke(request):
    key = get_key(request.db, request.identity.tenant_id, request.matchdict["id"])
    if key is None:
        raise HTTPNotFound()
    revoke(key)
    flash(request, _("The API key ${name} was revoked. It no longer works.", mapping={"name": key.name}))
    return HTTPSeeOther(request.route_url(_route(request)))


def includeme(config):
    config.add_route("admin.api_keys", "/admin/api-keys")
    config.add_route("admin.api_key_revoke", "/admin/api-keys/{id:\\d+}/revoke")
    config.add_route("operator.api_keys", "/operator/api-keys")
    config.add_route("operator.api_key_revoke", "/operator/api-keys/{id:\\d+}/revoke")
    config.add_console_nav("admin.api_keys", _("API keys"), group="admin", permission="manage", order=40)
    config.add_console_nav("operator.api_keys", _("API keys"), group="operator", permission="operate", order=70)
