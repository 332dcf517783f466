"""Pytest fixtures for end-to-end tests through the Twilio simulator.

``telephony`` gives a running ECTI (real HTTP) whose tenant has a Twilio account on a running
simulator, provisioned by ``ecti twilio sync`` exactly as in production: numbers point at ECTI's
webhooks, the TwiML App and API key exist. Scripts then play callers, agents and phones::

    def test_a_call(telephony):
        call = telephony.dial()            # a caller dials the tenant's number
        assert "お電話ありがとうございます" in " ".join(call.said())

Loaded with ``pytest_plugins = ["ecti.testing", "ecti_twilio.testing"]`` (the root conftest).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import pytest
import webtest as wt

from ecti.config import configure
from ecti.tenancy.models import Tenant, User
from ecti.testing import serve_in_thread
from ecti.voice.calls import softphone_identity

from .provisioning import sync_tenant
from .simulator import Simulator

ACCOUNT_SID = "AC" + "7" * 32
AUTH_TOKEN = "e2e-auth-token"
MAIN_NUMBER = "+815012345678"  # 050-1234-5678
FREE_DIAL = "+81120123456"  # 0120-123-456
CALLER = "+819011112222"  # 090-1111-2222


@dataclass
class Telephony:
    sim: Simulator
    base_url: str
    tenant: Tenant
    app: object
    webtest: wt.TestApp
    registry: object
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    number: str = MAIN_NUMBER

    def dial(self, from_: str = CALLER, to: str | None = None):
        """A caller dials one of the tenant's numbers; returns the simulator's call handle."""
        return self.sim.dial(from_=from_, to=to or self.number)

    def softphone(self, user: User):
        """The browser phone of ``user``, registered with a real token from ECTI's API."""
        return self.sim.client_from_token(self.token_for(user))

    def token_for(self, user: User) -> str:
        app = wt.TestApp(self.app, extra_environ={"HTTP_HOST": self.base_url.split("//", 1)[1]})
        form = app.get("/login").forms["login"]
        form["email"], form["password"] = user.email, user.password
        form.submit(status=303)
        csrf = app.get("/api/v1/me").json["csrf_token"]
        response = app.post("/api/v1/softphone/token", headers={"X-CSRF-Token": csrf})
        assert response.json["identity"] == softphone_identity(user)
        return response.json["token"]


@pytest.fixture
def telephony(app_settings, engine, clean_database, db, make_tenant):
    simulator = Simulator()
    simulator.serve()
    settings = {**app_settings, "ecti.twilio.api_base_url": simulator.api_base}
    settings.pop("ecti.public_url", None)  # ECTI's own address: known once it serves
    config = configure(settings, engine=engine)
    app = config.make_wsgi_app()
    with serve_in_thread(app) as base_url, contextlib.closing(simulator):
        # (closed before ECTI's server stops: its keep-alive connections end with it)
        config.registry.settings["ecti.public_url"] = base_url
        simulator.add_account(ACCOUNT_SID, AUTH_TOKEN, friendly_name="ECTI e2e")
        simulator.add_number(ACCOUNT_SID, MAIN_NUMBER, voice=True, sms=False, friendly_name="代表")
        simulator.add_number(ACCOUNT_SID, FREE_DIAL, voice=True, sms=False, friendly_name="フリーダイヤル")
        tenant = make_tenant(slug="tel", name="テレフォン株式会社")
        tenant = db.get(Tenant, tenant.id)
        tenant.set_carrier_credentials(config.registry.secret_box, ACCOUNT_SID, AUTH_TOKEN)
        db.commit()
        sync_tenant(db, config.registry, tenant, base_url)
        db.commit()
        yield Telephony(
            sim=simulator,
            base_url=base_url,
            tenant=tenant,
            app=app,
            webtest=wt.TestApp(app, extra_environ={"HTTP_HOST": base_url.split("//", 1)[1]}),
            registry=config.registry,
        )

