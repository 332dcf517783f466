"""API-wide views: the OpenAPI document, ``/me``, and errors answered as JSON."""
from __future__ import annotations

import json
import logging

from pydantic import BaseModel
from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPForbidden, HTTPMethodNotAllowed, HTTPNotFound
from pyramid.response import Response
from sqlalchemy.exc import DBAPIError
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config, view_config

from ..errors import UserError
from ..i18n import _
from . import API_PREFIX, RequestValidationFailed, api_view, error_response
from .openapi import build_document

log = logging.getLogger(__name__)


class TenantOut(BaseModel):
    id: int
    slug: str
    name: str
    time_zone: str
    locale: str


class MeOut(BaseModel):
    id: int
    email: str
    display_name: str
    role: str
    locale: str | None
    tenant: TenantOut | None
    csrf_token: str


@view_config(route_name="api.openapi", renderer="json", request_method="GET")
def openapi_document(request):
    """The OpenAPI 3.1 description of this API (public, like the docs)."""
    return build_document(request.registry, title="ECTI API", version=request.registry.settings["ecti.version"])


@api_view("api.me", method="GET", summary="The signed-in user and their tenant", permission="signed_in", response=MeOut, tags=("session",))
def me(request):
    from pyramid.csrf import get_csrf_token

    user = request.identity
    tenant = user.tenant
    return MeOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role.value,
        locale=user.locale,
        tenant=TenantOut.model_validate(tenant, from_attributes=True) if tenant else None,
        csrf_token=get_csrf_token(request),
    )


# --- errors, as JSON for /api/v1/ -----------------------------------------------------------

@exception_view_config(RequestValidationFailed, renderer="json", path_info=f"^{API_PREFIX}/")
def validation_failed(exc, request):
    return error_response(request, 422, "validation_failed", _("Some fields are not valid."), exc.fields)


@exception_view_config(UserError, renderer="json", path_info=f"^{API_PREFIX}/")
def user_error(exc, request):
    return error_response(request, exc.status, exc.code, exc.message)


@notfound_view_config(renderer="json", path_info=f"^{API_PREFIX}/")
def api_not_found(request):
    return error_response(request, 404, "not_found", _("Not found."))


@forbidden_view_config(renderer="json", path_info=f"^{API_PREFIX}/")
def api_forbidden(request):
    from ..apikeys.services import forbidden_answer

    answer = forbidden_answer(request)  # a request with an API key: 401, 403 or 429
    if answer is not None:
        return answer
    if request.identity is None:
        return error_response(request, 401, "not_signed_in", _("Please sign in."))
    return error_response(request, 403, "forbidden", _("You are not allowed to do this."))


@exception_view_config(BadCSRFToken, renderer="json", path_info=f"^{API_PREFIX}/")
def api_bad_csrf(exc, request):
    return error_response(
        request, 403, "csrf_failed", _("The security token is missing or expired. Reload the page and try again.")
    )


@exception_view_config(HTTPMethodNotAllowed, renderer="json", path_info=f"^{API_PREFIX}/")
def api_method_not_allowed(exc, request):
    return error_response(request, 405, "method_not_allowed", _("This method is not allowed here."))


#: The error answers when nothing else can be relied on (the database failed mid-request, so
#: neither the user's language nor their session may be read): both languages, no query.
_BUSY = ("database_busy", "データベースが混み合っています。少し待ってからもう一度お試しください。"
         " / The database is busy. Please try again in a moment.")
_INTERNAL = ("internal_error", "サーバー側でエラーが発生しました。エラーは記録されました。"
             " / Something went wrong on our side. The error was logged.")


@exception_view_config(Exception, path_info=f"^{API_PREFIX}/")
def api_internal_error(exc, request):
    """The last answer: never fails itself. A database that stayed locked through every retry
    (pyramid_retry runs a request ``retry.attempts`` times) is a 503 with ``Retry-After``."""
    if isinstance(exc, (HTTPNotFound, HTTPForbidden)):
        raise exc
    transient = _is_transient(exc)
    if transient:
        # Both languages: finding the user's would wait for the locked database once more.
        log.warning("database busy on %s %s after every retry: %s", request.method, request.path, exc)
        status, (code, fallback) = 503, _BUSY
        body = {"error": {"code": code, "message": fallback, "fields": []}}
    else:
        log.exception("internal error on %s %s", request.method, request.path)
        status, (code, fallback) = 500, _INTERNAL
        try:
            body = error_response(request, status, code, _("Something went wrong on our side. The error was logged."))
        except Exception:  # the request's transaction is broken: no translation from the user's settings
            log.exception("the error answer could not be translated")
            body = {"error": {"code": code, "message": fallback, "fields": []}}
    response = Response(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json", charset="utf-8")
    if transient:
        response.headers["Retry-After"] = "1"
    return response


_BUSY_PAGE = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>ECTI</title></head><body>
<h1>データベースが混み合っています</h1><p>少し待ってから、ページを再読み込みしてください。</p>
<h1 lang="en">The database is busy</h1><p lang="en">Please reload the page in a moment.</p></body></html>"""


@exception_view_config(DBAPIError, path_info=f"^(?!{API_PREFIX}/)")
def page_database_busy(exc, request):
    """A page whose database stayed locked through every retry: a static page (no query, no
    layout), so the error page itself cannot fail. Other database errors go on as before."""
    if not _is_transient(exc):
        raise exc
    log.warning("database busy on %s %s after every retry: %s", request.method, request.path, exc)
    return Response(_BUSY_PAGE, status=503, content_type="text/html", charset="utf-8", headers={"Retry-After": "1"})


def _is_transient(exc) -> bool:
    from ..db import is_transient

    original = getattr(exc, "orig", None)
    return is_transient(original if original is not None else exc)


def includeme(config):
    config.add_route("api.openapi", f"{API_PREFIX}/openapi.json")
    config.add_route("api.me", f"{API_PREFIX}/me")
