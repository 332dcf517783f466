"""Fixtures for the simulator tests: a simulator with one account and number, served on
127.0.0.1, the real twilio SDK pointed at it, and a small application that receives the
simulator's webhooks and checks every signature with the SDK's RequestValidator."""
from __future__ import annotations

import importlib.util
import pathlib
import sys
import threading
from dataclasses import dataclass
from typing import Callable, Optional, Union

import pytest

if importlib.util.find_spec("ecti_twilio") is None:  # the plugin is not installed (yet)
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from twilio.request_validator import RequestValidator  # noqa: E402
from webob import Request, Response  # noqa: E402

from ecti_twilio.rest import make_client  # noqa: E402
from ecti_twilio.simulator import Simulator  # noqa: E402
from ecti_twilio.simulator.server import SimulatorServer  # noqa: E402

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "secret-token-1"
NUMBER = "+815012345678"


@dataclass
class Hit:
    """One webhook request the application received."""

    path: str
    method: str
    url: str
    params: dict
    signature_ok: bool


Handler = Callable[[Hit], Union[str, Response, None]]


class WebhookApp:
    """A stand-in for ECTI: answers webhooks from a route table and records them."""

    def __init__(self, auth_token: str):
        self.validator = RequestValidator(auth_token)
        self.routes: dict[str, Union[str, Handler]] = {}
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.base = ""

    def route(self, path: str, answer: Union[str, Handler]) -> str:
        """Answer ``path`` with TwiML (a string) or a handler; returns the absolute URL."""
        self.routes[path] = answer
        return self.base + path

    def url(self, path: str) -> str:
        return self.base + path

    def __call__(self, environ, start_response):
        request = Request(environ)
        params = dict(request.POST) if request.method == "POST" else dict(request.GET)
        body_params = dict(request.POST) if request.method == "POST" else {}
        hit = Hit(request.path, request.method, request.url, params,
                  self.validator.validate(request.url, body_params,
                                          request.headers.get("X-Twilio-Signature", "")))
        with self.lock:
            self.hits.append(hit)
        answer = self.routes.get(request.path, "<Response/>")
        result = answer(hit) if callable(answer) else answer
        if isinstance(result, Response):
            response = result
        else:
            response = Response(body=(result or "").encode(), content_type="text/xml")
        return response(environ, start_response)

    def requests_to(self, path: str) -> list[Hit]:
        with self.lock:
            return [hit for hit in self.hits if hit.path == path]

    def last(self, path: str) -> Optional[Hit]:
        hits = self.requests_to(path)
        return hits[-1] if hits else None


@pytest.fixture
def webhooks():
    webhook_app = WebhookApp(AUTH_TOKEN)
    server = SimulatorServer(webhook_app)
    webhook_app.base = server.url
    server.start()
    yield webhook_app
    server.stop()


@pytest.fixture
def sim():
    simulator = Simulator(webhook_timeout=3)
    simulator.add_account(ACCOUNT_SID, AUTH_TOKEN, "Test tenant")
    simulator.serve()
    yield simulator
    simulator.close()


@pytest.fixture
def account(sim):
    """The test tenant's Twilio account (``sid``, ``auth_token``)."""
    return sim.accounts[ACCOUNT_SID]


@pytest.fixture
def number(sim, webhooks):
    """``+815012345678``: voice and SMS, its URLs on the webhook app's /voice and /sms."""
    return sim.add_number(ACCOUNT_SID, NUMBER, voice=True, sms=True,
                          voice_url=webhooks.url("/voice"), sms_url=webhooks.url("/sms"))


@pytest.fixture
def twilio_client(sim):
    """The real twilio SDK, talking to the simulator."""
    return make_client(ACCOUNT_SID, AUTH_TOKEN, sim.api_base)
