"""Security headers on every response (one tween).

* ``Content-Security-Policy``: scripts and styles from ECTI itself only (no inline ``<script>``,
  no ``style=""``, no ``on…=`` handlers), nothing embedded from elsewhere, and
  ``frame-ancestors 'none'`` — no site may frame an ECTI page — except on the pages made to be
  framed (the softphone, its check page, the sign-in shown inside the frame, the Salesforce
  standby page), which call :func:`allow_framing` with the company's own list.
* ``X-Frame-Options: DENY`` (``SAMEORIGIN`` where only ECTI may frame) for older browsers.
* ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``.
* ``Strict-Transport-Security`` when ``ecti.public_url`` is https.

A view or subscriber adds sources for its page with :func:`add_sources` (the softphone page loads
the Open CTI script from the company's Salesforce domain).
"""
from __future__ import annotations

from urllib.parse import urlsplit

#: The policy of every page; :func:`add_sources` extends it for one response.
BASE_POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'", "data:", "blob:"),
    "font-src": ("'self'", "data:"),
    # Recordings may be streamed from the carrier's storage.
    "media-src": ("'self'", "blob:", "https:"),
    "connect-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}

#: The Twilio Voice JS SDK talks to Twilio's signalling and event gateways (its ringtones come
#: from sdk.twilio.com: ``media-src https:``).
TWILIO_CONNECT = ("https://*.twilio.com", "wss://*.twilio.com")

HSTS = "max-age=31536000; includeSubDomains"
REFERRER_POLICY = "same-origin"
_POLICY_KEY = "ecti.content_security_policy"
DEBUG_TOOLBAR = "/_debug_toolbar/"


def _policy(request) -> dict[str, list[str]]:
    policy = request.environ.get(_POLICY_KEY)
    if policy is None:
        policy = {name: list(sources) for name, sources in BASE_POLICY.items()}
        policy["connect-src"].extend(request.registry.get("ecti.headers.connect_sources", ()))
        request.environ[_POLICY_KEY] = policy
    return policy


def add_sources(request, directive: str, sources) -> None:
    """Allow more sources for one directive of this response's policy."""
    current = _policy(request)[directive]
    current.extend(s for s in sources if s not in current)


def allow_framing(request, sources: list[str]) -> None:
    """This page may be framed by ``sources`` (CSP ``frame-ancestors`` sources, e.g. ``'self'``
    and the company's Salesforce domains) instead of by nobody."""
    _policy(request)["frame-ancestors"] = list(sources) or ["'none'"]


def policy_header(policy: dict[str, list[str]]) -> str:
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


def _origin(url: str) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def security_headers_tween_factory(handler, registry):
    settings = registry.settings
    https = (settings.get("ecti.public_url") or "").startswith("https://")
    # The Twilio simulator (development, tests) is driven from the browser at its own address, and
    # the push server (live updates) may have its own (development: another port).
    extra = list(TWILIO_CONNECT)
    for key in ("ecti.softphone.simulator_url", "ecti.twilio.api_base_url", "ecti.push.url"):
        origin = _origin(settings.get(key, ""))
        if origin and "twilio.com" not in origin and origin not in extra:
            extra.append(origin)
    registry["ecti.headers.connect_sources"] = tuple(extra)

    def security_headers_tween(request):
        response = handler(request)
        policy = _policy(request)
        headers = response.headers
        # The debug toolbar of development.ini (its own pages, with inline scripts) is not ECTI's.
        if not request.path_info.startswith(DEBUG_TOOLBAR):
            # A view that wrote its own policy keeps it (none does today).
            headers.setdefault("Content-Security-Policy", policy_header(policy))
        ancestors = policy["frame-ancestors"]
        if ancestors == ["'none'"]:
            headers.setdefault("X-Frame-Options", "DENY")
        elif ancestors == ["'self'"]:
            headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", REFERRER_POLICY)
        if https:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    return security_headers_tween


def includeme(config):
    config.add_tween("ecti.headers.security_headers_tween_factory")
