"""A Twilio REST client that can talk to another base URL (the local simulator).

``make_client(sid, token)`` is an ordinary :class:`twilio.rest.Client`; with
``api_base_url="http://127.0.0.1:4010"`` every request it makes — whatever Twilio domain the
SDK aims at (api, iam, …) — goes to that server instead, same path and query.
"""
from __future__ import annotations

from typing import Optional
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client


class RedirectingHttpClient(TwilioHttpClient):
    """``TwilioHttpClient`` that swaps the scheme and host of every URL for another base."""

    def __init__(self, api_base_url: str, **kwargs):
        super().__init__(**kwargs)
        base = urlsplit(api_base_url)
        if not base.scheme or not base.netloc:
            raise ValueError(f"api_base_url must be absolute, got {api_base_url!r}")
        self._scheme, self._netloc = base.scheme, base.netloc
        self._prefix = base.path.rstrip("/")

    def rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit((self._scheme, self._netloc, self._prefix + parts.path, parts.query,
                           parts.fragment))

    def request(self, method, url, *args, **kwargs):
        return super().request(method, self.rewrite(url), *args, **kwargs)


def make_client(account_sid: str, auth_token: str, api_base_url: Optional[str] = None, *,
                username: Optional[str] = None) -> Client:
    """A ``twilio.rest.Client`` for ``account_sid``.

    :param auth_token: the account's auth token, or the API key secret with ``username``.
    :param api_base_url: send every request there instead of Twilio (None: real Twilio).
    :param username: an API key SID (``SK…``) to authenticate with instead of the account SID.
    """
    http_client = RedirectingHttpClient(api_base_url) if api_base_url else None
    return Client(username or account_sid, auth_token, account_sid=account_sid,
                  http_client=http_client)
