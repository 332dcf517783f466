"""Development only: a "test phone" page that places simulated calls to the tenant's numbers.

Shown when ``ecti.twilio.api_base_url`` points at the local simulator (``make run``): the
browser drives the simulator's control API (``/sim/v1``) directly and shows what the caller
hears — the text of each ``<Say>``, a player for each ``<Play>``.

The flow editor's "test call" button uses :func:`place_test_call` (registered as
``registry["ecti.ivr.test_call"]``): the simulator is asked to call the number only once the
button's request has committed — the simulator's webhook to ECTI needs the database, and on
SQLite the request still holds the write lock until then — and the admin lands on this page,
which follows that call.
"""
from __future__ import annotations

import logging

import requests
from pyramid.view import view_config
from sqlalchemy import select

from ecti.i18n import _
from ecti.telephony.models import PhoneNumber
from ecti.telephony.numbering import format_domestic

from ecti.web import flash

from .carrier import api_base_url

log = logging.getLogger(__name__)

#: ``request.session`` key: the simulator's id of the last test call placed by this admin.
LAST_TEST_CALL = "ecti_twilio.test_call"
#: The number test calls come from (``ecti.twilio.test_caller``).
DEFAULT_TEST_CALLER = "+819011112222"


def place_test_call(request, number) -> str:
    """Have the simulator call ``number`` (a :class:`PhoneNumber`) after the request commits;
    returns where the admin watches the call (the test phone page)."""
    base = api_base_url(request.registry).rstrip("/")
    caller = request.registry.settings.get("ecti.twilio.test_caller", DEFAULT_TEST_CALLER)
    to = number.e164

    def dial(committed: bool) -> None:
        if not committed:
            return
        try:
            response = requests.post(f"{base}/sim/v1/calls", json={"from": caller, "to": to}, timeout=30)
            response.raise_for_status()
            request.session[LAST_TEST_CALL] = response.json()["sid"]
        except Exception as exc:  # the page says so; the flow itself is saved either way
            log.warning("the simulator did not place the test call to %s: %s", to, exc)
            request.session.pop(LAST_TEST_CALL, None)
            flash(request, _("The simulator did not answer: ${error}", mapping={"error": str(exc)}), "error")

    request.tm.get().addAfterCommitHook(dial)
    request.session.pop(LAST_TEST_CALL, None)
    return request.route_url("twilio.test_phone")


@view_config(route_name="twilio.test_phone", renderer="ecti_twilio:templates/test_phone.jinja2", permission="manage")
def test_phone(request):
    numbers = request.db.scalars(select(PhoneNumber).where(PhoneNumber.voice_capable.is_(True)).order_by(PhoneNumber.e164)).all()
    return {
        "simulator_url": api_base_url(request.registry),
        "numbers": [(n.e164, f"{format_domestic(n.e164)} {n.label}".strip()) for n in numbers],
        # A test call placed from the flow editor: the page follows it.
        "call_sid": request.session.pop(LAST_TEST_CALL, ""),
        "words": {
            "verbs": {verb: request.localizer.translate(label) for verb, label in HEARD_LABELS.items()},
            "statuses": {status: request.localizer.translate(label) for status, label in STATUS_LABELS.items()},
        },
    }


#: What the caller hears besides speech and audio, and the call's status, as the page words them.
HEARD_LABELS = {"Pause": _("(silence)"), "Beep": _("(beep: recording starts)"), "other": _("(another instruction)")}
STATUS_LABELS = {"queued": _("Dialling"), "initiated": _("Dialling"), "ringing": _("Ringing"), "in-progress": _("Talking")}


def includeme(config):
    """Only where Twilio's REST calls go to a simulator: never in production."""
    base = api_base_url(config.registry) or ""
    if not base or "twilio.com" in base:
        return
    config.add_route("twilio.test_phone", "/twilio/test-phone")
    config.add_static_view("twilio-static", "ecti_twilio:static", cache_max_age=3600)
    config.add_console_nav("twilio.test_phone", _("Test phone"), group="settings", permission="manage", order=15)
    config.registry["ecti.ivr.test_call"] = place_test_call
    config.scan(".testphone")
