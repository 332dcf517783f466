"""Media URLs the carrier fetches: unguessable, signed, and expiring.

``/media/t12/tts/openjtalk/<sha256>.wav?expires=1767225600&signature=…``: the signature is an
HMAC-SHA256 (keyed from ``ecti.secret_key``) of the storage key and the expiry, so nobody can
make a URL for another file, another tenant (the tenant is the key's first segment) or a later
time. Checks, in order: signature (403), expiry (410), file (404). The answers carry no page
and never redirect to the sign-in page: the carrier is the client.

Expiry is ``ecti.media_url_ttl`` seconds (default 3600) rounded up to ten minutes, so that the
same prompt keeps the same URL for a while and the carrier's media cache can work.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time

from pyramid.httpexceptions import HTTPForbidden, HTTPGone, HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from ..errors import UserError
from .audio import identify_audio
from .storage import MediaNotFound, check_key

DEFAULT_TTL = 3600
_ROUNDING = 600
MEDIA_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "aiff": "audio/aiff", "aifc": "audio/x-aifc", "gsm": "audio/x-gsm", "ulaw": "audio/ulaw"}


def _signature(registry, key: str, expires: int) -> str:
    # A key of its own for media URLs, derived from the secret, so a signature made here is
    # worth nothing anywhere else the secret signs (session cookies).
    secret = hmac.new(registry.settings["ecti.secret_key"].encode("utf-8"), b"ecti.prompts.media-url", hashlib.sha256).digest()
    digest = hmac.new(secret, f"{key}\n{expires}".encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def media_url(request, key: str, *, now: float | None = None) -> str:
    """The absolute, signed URL at which the carrier fetches the media stored under ``key``."""
    settings = request.registry.settings
    ttl = int(settings.get("ecti.media_url_ttl", DEFAULT_TTL))
    expires = (int((now if now is not None else time.time()) + ttl) // _ROUNDING + 1) * _ROUNDING
    base = (settings.get("ecti.public_url") or request.host_url).rstrip("/")
    path = request.route_path("prompts.media", key=tuple(check_key(key).split("/")))
    return f"{base}{path}?expires={expires}&signature={_signature(request.registry, key, expires)}"


def _content_type(key: str, data: bytes) -> str:
    name = key.rsplit("/", 1)[-1]
    if "." in name:
        return MEDIA_TYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream")
    try:  # rendered prompts are stored without an extension: the provider chose the format
        return identify_audio(data).content_type
    except UserError:
        return "application/octet-stream"


@view_config(route_name="prompts.media", request_method=("GET", "HEAD"), require_csrf=False)
def media(request):
    """Serve a stored media file to whoever holds a valid, unexpired URL (the carrier)."""
    key = "/".join(request.matchdict["key"])
    try:
        check_key(key)
    except ValueError:
        return HTTPNotFound()
    try:
        expires = int(request.GET.get("expires", ""))
    except ValueError:
        return HTTPForbidden()
    signature = request.GET.get("signature", "")
    if not hmac.compare_digest(signature.encode("ascii", "replace"), _signature(request.registry, key, expires).encode("ascii")):
        return HTTPForbidden()
    remaining = expires - int(time.time())
    if remaining <= 0:
        return HTTPGone()
    try:
        data = request.registry["ecti.media_storage"].load(key)
    except MediaNotFound:
        return HTTPNotFound()
    response = Response(body=data, content_type=_content_type(key, data), conditional_response=True)
    response.cache_control.private = True
    response.cache_control.max_age = remaining
    return response
