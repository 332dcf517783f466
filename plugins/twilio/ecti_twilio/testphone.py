"""Development only: a "test phone" page that places simulated calls to the tenant's numbers.

Shown when ``ecti.twilio.api_base_url`` points at the local simulator (``make run``): the
browser drives the simulator's control API (``/sim/v1``) directly and shows what the caller
hears — the text of each ``<Say>``, a player for each ``<Play>``.
"""
from __future__ import annotations

from pyramid.view import view_config
from sqlalchemy import select

from ecti.i18n import _
from ecti.telephony.models import PhoneNumber
from ecti.telephony.numbering import format_domestic

from .carrier import api_base_url


@view_config(route_name="twilio.test_phone", renderer="ecti_twilio:templates/test_phone.jinja2", permission="manage")
def test_phone(request):
    numbers = request.db.scalars(select(PhoneNumber).where(PhoneNumber.voice_capable.is_(True)).order_by(PhoneNumber.e164)).all()
    return {
        "simulator_url": api_base_url(request.registry),
        "numbers": [(n.e164, f"{format_domestic(n.e164)} {n.label}".strip()) for n in numbers],
    }


def includeme(config):
    """Only where Twilio's REST calls go to a simulator: never in production."""
    base = api_base_url(config.registry) or ""
    if not base or "twilio.com" in base:
        return
    config.add_route("twilio.test_phone", "/twilio/test-phone")
    config.add_static_view("twilio-static", "ecti_twilio:static", cache_max_age=3600)
    config.add_console_nav("twilio.test_phone", _("Test phone"), permission="manage", order=900)
    config.scan(".testphone")
