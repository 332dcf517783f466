"""The softphone: the agent's browser phone (F-PH-1..5, F-PH-9, F-PH-10).

``/softphone`` is a page for a 300×500 panel (also inside a Salesforce iframe) that drives the
ACD's agent API (``/api/v1/acd/…``) and a *device*: the Twilio Voice JS SDK when the carrier is
the real Twilio, or the Twilio simulator's control API (``/sim/v1``) in the demo and the browser
tests. ``/softphone/check`` checks the browser's requirements (WebRTC, microphone).

Extension points for CRM plugins (the Salesforce adapter uses them):

* ``config.add_softphone_script(spec)``: a static asset (``"pkg:static/x.js"``) or URL the page
  loads after its own scripts. The page talks to such scripts through events:
  ``window`` receives ``ecti:call`` CustomEvents whose ``detail.phase`` is ``incoming``,
  ``connected`` or ``ended`` (see docs/softphone.md), and ``window.ectiSoftphone.fillDial(number)``
  puts a number in the dial box.
* ``config.add_softphone_frame_ancestors(provider)``: ``provider(request, tenant)`` returns
  Content-Security-Policy sources that may frame the softphone pages (and the sign-in page
  opened inside the frame) for that tenant. Without any, only ECTI itself may frame them.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from pyramid.events import BeforeRender
from sqlalchemy import select

from ..db import all_tenants, set_tenant_scope
from ..i18n import _
from ..tenancy.models import Tenant

SCRIPTS_KEY = "ecti.softphone.scripts"
FRAME_ANCESTORS_KEY = "ecti.softphone.frame_ancestors"
#: Pages shown inside a CRM's iframe: the softphone, its check page and the sign-in before them.
FRAMED_ROUTES = ("softphone", "softphone.check", "login")

#: The repository's node_modules (``npm install`` in ``make install``), unless the setting says.
DEFAULT_NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"


def node_modules(settings) -> Path:
    return Path(settings.get("ecti.softphone.node_modules") or DEFAULT_NODE_MODULES)


def add_softphone_script(config, spec: str) -> None:
    """Config directive: one more script for the softphone page (an asset spec or a URL)."""
    config.registry.setdefault(SCRIPTS_KEY, []).append(spec)


def add_softphone_frame_ancestors(config, provider) -> None:
    """Config directive: ``provider(request, tenant) -> list[str]`` of CSP frame-ancestors sources."""
    config.registry.setdefault(FRAME_ANCESTORS_KEY, []).append(config.maybe_dotted(provider))


def softphone_scripts(request) -> list[str]:
    return [spec if "://" in spec or spec.startswith("/") else request.static_url(spec)
            for spec in request.registry.get(SCRIPTS_KEY, [])]


def framing_tenant(request):
    """The tenant whose CRM may frame this page: the signed-in user's, else the one the URL names
    (``?tenant=slug``, also inside the sign-in page's ``next``), so the sign-in page shown in the
    frame before anyone is signed in may be framed too."""
    if request.identity is not None:
        return request.tenant
    slug = request.params.get("tenant")
    if not slug:
        next_url = request.params.get("next", "")
        slug = (parse_qs(urlsplit(next_url).query).get("tenant") or [None])[0]
    if not slug:
        return None
    with all_tenants(request.db):
        return request.db.scalar(select(Tenant).where(Tenant.slug == slug[:63]))


def frame_ancestors(request) -> list[str]:
    sources = ["'self'"]
    providers = request.registry.get(FRAME_ANCESTORS_KEY, [])
    tenant = framing_tenant(request) if providers else None
    if tenant is None:
        return sources
    anonymous = request.identity is None
    if anonymous:  # the sign-in page: read the named tenant's settings, and only its
        set_tenant_scope(request.db, tenant.id)
    try:
        for provider in providers:
            sources.extend(s for s in provider(request, tenant) if s not in sources)
    finally:
        if anonymous:
            set_tenant_scope(request.db, None)
    return sources


def _frame_policy(event: BeforeRender) -> None:
    # While the page renders (inside the request's transaction): its response gets the header.
    request = event.get("request")
    route = getattr(request, "matched_route", None)
    if route is None or route.name not in FRAMED_ROUTES:
        return
    allow_framed_page(request)


def allow_framed_page(request) -> None:
    """This response may be framed by the company's CRM (``frame-ancestors``), and the scripts the
    CRM's adapter loads from those domains (Salesforce's Open CTI) may run."""
    from ..headers import add_sources, allow_framing

    sources = frame_ancestors(request)
    allow_framing(request, sources)
    add_sources(request, "script-src", [s for s in sources if s != "'self'"])


def includeme(config):
    from ..api import API_PREFIX

    config.include(".outbound")
    config.add_directive("add_softphone_script", add_softphone_script)
    config.add_directive("add_softphone_frame_ancestors", add_softphone_frame_ancestors)
    config.add_subscriber(_frame_policy, BeforeRender)

    config.add_route("softphone", "/softphone")
    config.add_route("softphone.check", "/softphone/check")
    config.add_route("api.softphone.caller_ids", f"{API_PREFIX}/softphone/caller-ids")
    config.add_route("api.softphone.check_number", f"{API_PREFIX}/softphone/check-number")
    config.add_route("api.softphone.log", f"{API_PREFIX}/softphone/log")
    config.add_route("api.softphone.lookup", f"{API_PREFIX}/softphone/lookup")
    config.add_static_view("softphone-static", "ecti:softphone/static", cache_max_age=3600)
    modules = node_modules(config.registry.settings)
    # Third-party assets installed by npm (never committed): SLDS styles and the Twilio SDK.
    config.add_static_view("slds", str(modules / "@salesforce-ux/design-system/assets"), cache_max_age=86400)
    config.add_static_view("voice-sdk", str(modules / "@twilio/voice-sdk/dist"), cache_max_age=86400)
