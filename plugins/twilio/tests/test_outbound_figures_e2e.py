"""The center report and the call list agree on outbound calls (issue 19): both are computed
here from the same calls, placed from an agent's browser phone through the simulator."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ecti_twilio.testing import MAIN_NUMBER

sys.path.insert(0, str(Path(__file__).parent))  # the ACD's end-to-end helpers (tests run with --import-mode=importlib)
from test_acd_e2e import ACD  # noqa: E402


@pytest.fixture
def acd(telephony, db, make_user):
    return ACD(telephony, db, make_user)


def test_the_center_report_counts_the_answered_outbound_calls_the_call_list_lists(acd, make_user):
    agent = make_user(acd.t.tenant, role="agent", email="out@tel.example")
    supervisor = make_user(acd.t.tenant, role="supervisor", email="sv@tel.example")
    device = acd.t.softphone(agent)
    for number, behaviour in (("+81312345678", "answer"), ("+81312345679", "answer"), ("+81312345670", "busy")):
        acd.sim.phone(number).behaviour = behaviour
        device.connect({"To": number, "CallerId": MAIN_NUMBER})
        acd.sim.advance(5)
        if device.active is not None:
            device.hangup()
        acd.sim.settle()

    app, _csrf = acd.page(supervisor)
    listed = app.get("/api/v1/calls?direction=outbound&outcome=answered").json["calls"]
    everything = app.get("/api/v1/calls?direction=outbound").json["calls"]
    report = app.get("/api/v1/reports/center?preset=today").json
    assert len(listed) == 2 and len(everything) == 3
    assert report["total"]["outbound"] == len(everything)
    assert report["total"]["outbound_answered"] == len(listed)
    [number] = [n for n in report["numbers"] if n["number"] == MAIN_NUMBER]
    assert (number["outbound"], number["outbound_answered"]) == (3, 2)
    # and the agent's figures: three calls placed, the talk time the list shows
    [row] = [a for a in app.get("/api/v1/reports/agents?preset=today").json["agents"] if a["user_id"] == agent.id]
    assert row["handled_outbound"] == 3
    assert row["talk_seconds"] == sum(c["talk_seconds"] for c in listed) > 0
    acd.no_errors()
