"""Outgoing webhooks, signed the way Twilio signs them.

``X-Twilio-Signature`` is computed with the twilio SDK's own
``RequestValidator(auth_token).compute_signature(url, params)`` over the exact URL requested
(for GET, the URL including the parameters appended to its query string, with no body
parameters), so an application validating with the SDK accepts exactly what Twilio would send.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlencode

import requests
from twilio.request_validator import RequestValidator

#: Twilio's error codes for failed webhook requests.
HTTP_RETRIEVAL_FAILURE = 11200
HTTP_CONNECTION_FAILURE = 11205


@dataclass
class WebhookResult:
    """What came back from one webhook request."""

    url: str
    method: str
    params: dict
    status: Optional[int] = None
    body: str = ""
    content_type: str = ""
    error_code: Optional[int] = None
    error_message: str = ""
    #: Real seconds the request took (the application's answer time as the carrier sees it).
    seconds: Optional[float] = None

    @property
    def ok(self) -> bool:
        return self.error_code is None


@dataclass
class WebhookRecord:
    """An entry of ``Simulator.webhooks``: one request the simulator made."""

    kind: str
    url: str
    method: str
    params: dict
    status: Optional[int]
    error_code: Optional[int]
    call_sid: Optional[str] = None
    body: str = ""
    seconds: Optional[float] = None

    def as_dict(self) -> dict:
        return {"kind": self.kind, "url": self.url, "method": self.method,
                "params": dict(self.params), "status": self.status,
                "error_code": self.error_code, "call_sid": self.call_sid, "body": self.body,
                "seconds": self.seconds}


class WebhookSender:
    """Sends signed webhook requests with a shared ``requests`` session."""

    def __init__(self, timeout: float = 15.0):
        self.timeout = timeout
        self.session = requests.Session()

    def send(self, url: str, method: str, params: dict, auth_token: str) -> WebhookResult:
        method = (method or "POST").upper()
        params = {k: str(v) for k, v in params.items() if v is not None}
        if method == "GET":
            request_url = url + ("&" if "?" in url else "?") + urlencode(params) if params else url
            signature = RequestValidator(auth_token).compute_signature(request_url, {})
            body = None
        else:
            method = "POST"
            request_url = url
            signature = RequestValidator(auth_token).compute_signature(url, params)
            body = params
        headers = {
            "X-Twilio-Signature": signature,
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
            "User-Agent": "TwilioProxy/1.1",
            "Accept": "*/*",
        }
        result = WebhookResult(url=request_url, method=method, params=params)
        started = time.perf_counter()
        try:
            response = self.session.request(method, request_url, data=body, headers=headers,
                                            timeout=self.timeout, allow_redirects=True)
        except requests.RequestException as exc:
            result.seconds = time.perf_counter() - started
            result.error_code = HTTP_CONNECTION_FAILURE
            result.error_message = f"HTTP connection failure: {exc}"
            return result
        result.seconds = time.perf_counter() - started
        result.status = response.status_code
        result.body = response.text
        result.content_type = response.headers.get("Content-Type", "")
        if not 200 <= response.status_code < 300:
            result.error_code = HTTP_RETRIEVAL_FAILURE
            result.error_message = f"HTTP retrieval failure: status {response.status_code}"
        return result
