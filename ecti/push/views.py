"""``POST /api/v1/push/token``: where the browser connects for live updates, and a token for it."""
from __future__ import annotations

from pydantic import BaseModel

from ..api import API_PREFIX, api_view
from . import TOKEN_TTL, make_token


class PushTokenOut(BaseModel):
    #: False when no push server is configured (``ecti.push.url``): the page polls.
    enabled: bool
    #: The Server-Sent Events address; connect with ``?token=…``.
    url: str | None
    token: str | None
    expires_in: int


@api_view("api.push.token", method="POST",
          summary="A short-lived token and the address to receive live updates (Server-Sent Events)",
          permission="softphone", response=PushTokenOut, tags=("push",))
def api_push_token(request):
    url = (request.registry.settings.get("ecti.push.url") or "").strip()
    user = request.identity
    if not url or user.tenant_id is None:
        return PushTokenOut(enabled=False, url=None, token=None, expires_in=0)
    if url.startswith("/"):
        url = request.application_url + url
    token = make_token(request.registry.settings["ecti.secret_key"], tenant_id=user.tenant_id, user_id=user.id)
    request.response.headers["Cache-Control"] = "no-store"
    return PushTokenOut(enabled=True, url=url, token=token, expires_in=TOKEN_TTL)


def includeme(config):
    config.add_route("api.push.token", f"{API_PREFIX}/push/token")
