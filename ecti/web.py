"""Small request-level helpers shared by console and API views."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from pyramid.httpexceptions import HTTPNotFound
from pyramid.i18n import TranslationString
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .formats import date_time

SUPPORTED_LOCALES = ("ja", "en")


def get_or_404(request, model, id_) -> object:
    """Load one row of ``model`` by id within the request's tenant scope, or raise 404.

    Rows of another tenant are indistinguishable from rows that do not exist.
    """
    try:
        key = int(id_)
    except (TypeError, ValueError):
        raise HTTPNotFound()
    obj = request.db.scalar(select(model).where(model.id == key))
    if obj is None:
        raise HTTPNotFound()
    return obj


def tenant_zone(request) -> ZoneInfo:
    tenant = getattr(request, "tenant", None)
    return ZoneInfo(tenant.time_zone if tenant else request.registry.settings.get("ecti.default_time_zone", "Asia/Tokyo"))


def localized_datetime(request, value: datetime | None) -> str:
    """A stored UTC time in the tenant's time zone (Asia/Tokyo by default), written as every
    console page writes one: ``2026/12/07（月）14:05`` (:func:`ecti.formats.date_time`)."""
    return date_time(value, tenant_zone(request), request.localizer.translate)


def locale_negotiator(request) -> str:
    """The user's choice, then the language cookie, then the tenant's, then Japanese."""
    cookie = request.cookies.get("_LOCALE_")
    try:
        user = request.identity
        if user is not None and user.locale in SUPPORTED_LOCALES:
            return user.locale
        if cookie not in SUPPORTED_LOCALES and user is not None and user.tenant is not None and user.tenant.locale in SUPPORTED_LOCALES:
            return user.tenant.locale
    except SQLAlchemyError:  # an error page after the database failed: no more queries
        pass
    if cookie in SUPPORTED_LOCALES:
        return cookie
    return request.registry.settings.get("pyramid.default_locale_name", "ja")


@pass_context
def translate(context, value):
    """Jinja2 filter ``t``: translate a :class:`TranslationString` (e.g. an error) for the page."""
    if isinstance(value, TranslationString):
        return context["request"].localizer.translate(value)
    return value


@pass_context
def local_time(context, value):
    """Jinja2 filter ``local_time``: a UTC datetime shown in the tenant's time zone."""
    return localized_datetime(context["request"], value)


def flash(request, message, queue: str = "") -> None:
    """Flash a message for the next page, translated now: the session keeps plain text only."""
    request.session.flash(request.localizer.translate(message), queue)


def client_address(request) -> str:
    """The address of the browser: ``request.remote_addr``, or — only when the request came
    from a proxy named in ``ecti.trusted_proxies`` — the last address that proxy chain added to
    ``X-Forwarded-For`` which is not itself a trusted proxy. (waitress with ``trusted_proxy``
    already does this before the app sees the request; then the setting may stay empty.)"""
    from pyramid.settings import aslist

    remote = request.remote_addr or ""
    trusted = set(aslist(request.registry.settings.get("ecti.trusted_proxies", "")))
    if remote in trusted:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
        for address in reversed(forwarded):
            if address not in trusted:
                return address[:45]
    return remote[:45]
