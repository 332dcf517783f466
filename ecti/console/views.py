"""Console pages that belong to no subsystem."""
from __future__ import annotations

import logging
from pathlib import Path

from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPFound
from pyramid.response import FileResponse
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config, view_config
from sqlalchemy import text

from ..plugins import describe_plugins
from ..tenancy.models import Role

log = logging.getLogger(__name__)


#: Where each role lands after signing in (and on ``/``): what they use most (UI.md).
LANDING = {
    Role.operator: "operator.tenants",
    Role.supervisor: "reports.wallboard",
    Role.agent: "phone",
}


@view_config(route_name="home", renderer="ecti:console/templates/home.jinja2", permission="signed_in")
def home(request):
    """Agents land on their phone, supervisors on the wallboard, the operator on the companies;
    admins get the home page: every part of the console they may open, by group."""
    landing = LANDING.get(request.identity.role)
    if landing is not None:
        return HTTPFound(request.route_url(landing))
    return {}


@view_config(route_name="phone", renderer="ecti:console/templates/phone.jinja2", permission="softphone")
def phone(request):
    """The softphone inside the console (the same page a CRM frames), beside the agent's links."""
    return {}


_FAVICON = Path(__file__).resolve().parents[1] / "static" / "favicon.ico"


@view_config(route_name="favicon")
def favicon(request):
    return FileResponse(str(_FAVICON), request=request, content_type="image/x-icon", cache_max_age=86400)


@view_config(route_name="plugins", renderer="ecti:console/templates/plugins.jinja2", permission="console")
def plugins_page(request):
    return {"plugins": describe_plugins(request.registry.plugins),
            "settings": sorted(request.registry.ecti.plugin_settings.values(), key=lambda spec: spec.name)}


@view_config(route_name="healthz", renderer="json", require_csrf=False)
def healthz(request):
    """Process up and database reachable (for load balancers and monitoring)."""
    try:
        with request.registry["ecti.engine"].connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any database failure means "not healthy"
        log.warning("health check: database unreachable: %s", exc)
        request.response.status_int = 503
        return {"status": "error", "database": "unreachable"}
    return {"status": "ok", "database": "ok"}


@forbidden_view_config(renderer="ecti:console/templates/error.jinja2")
def forbidden(request):
    if request.identity is None:
        return HTTPFound(request.route_url("login", _query={"next": request.path_qs}))
    request.response.status_int = 403
    return {"title": "forbidden"}


@notfound_view_config(renderer="ecti:console/templates/error.jinja2")
def not_found(request):
    request.response.status_int = 404
    return {"title": "not_found"}


@exception_view_config(BadCSRFToken, renderer="ecti:console/templates/error.jinja2")
def bad_csrf(exc, request):
    request.response.status_int = 403
    return {"title": "csrf"}
