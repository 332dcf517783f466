"""Console pages that belong to no subsystem."""
from __future__ import annotations

import logging

from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPFound
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config, view_config
from sqlalchemy import text

from ..plugins import describe_plugins
from ..tenancy.models import Role

log = logging.getLogger(__name__)


@view_config(route_name="home", renderer="ecti:console/templates/home.jinja2", permission="signed_in")
def home(request):
    user = request.identity
    if user.role is Role.operator:
        return HTTPFound(request.route_url("operator.tenants"))
    return {}


@view_config(route_name="plugins", renderer="ecti:console/templates/plugins.jinja2", permission="console")
def plugins_page(request):
    return {"plugins": describe_plugins(request.registry.plugins)}


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
