"""Tests of the example plugin, written as an integrator would (fixtures from ecti.testing)."""
from datetime import date

import transaction
from pyramid.scripting import prepare

from ecti.calls.events import apply_status
from ecti.calls.models import Call, CallStatus, Direction
from ecti.db import set_tenant_scope
from ecti.plugins import Registries, get_plugin_manager
from ecti_founding_day import plugin


def test_the_calendar_closes_the_founding_day_every_year():
    calendar = Registries.collect(get_plugin_manager(load_entrypoints=False, plugins=[plugin])).holiday_calendars["founding_day"]
    assert calendar.holidays(date(2026, 1, 1), date(2027, 12, 31)) == {date(2026, 4, 1): "創立記念日", date(2027, 4, 1): "創立記念日"}
    assert calendar.holidays(date(2026, 4, 2), date(2026, 12, 31)) == {}


def test_the_page_counts_call_events(make_app, make_tenant, make_user, login):
    app = make_app(plugin)  # the core and this plugin, nothing else installed
    tenant = make_tenant()
    login(app, make_user(tenant, role="admin"))
    assert "none yet" in app.get("/founding-day/events").text

    # A call ends, the way the core records it.
    env = prepare(registry=app.app.registry)
    request = env["request"]
    request.tm = transaction.TransactionManager(explicit=True)
    request.tm.begin()
    set_tenant_scope(request.db, tenant.id)
    call = Call(carrier_call_id="CA1", direction=Direction.inbound, from_number="+819011112222", to_number="+815011112222", status=CallStatus.in_progress)
    request.db.add(call)
    apply_status(request, call, CallStatus.completed, duration=30)
    request.tm.commit()
    env["closer"]()

    rows = app.get("/founding-day/events").html.select("tr")
    assert [[td.text for td in row.select("td")] for row in rows] == [["completed", "1"], ["status", "1"]]


def test_the_core_api_answers_as_documented_with_the_plugin_installed(api, make_tenant, make_user, login):
    """The ``api`` fixture checks each answer against the OpenAPI document. (A plugin's own
    run that uses it once exits 0: the core's rule that every operation be exercised is the
    core suite's, not the test kit's.)"""
    admin = make_user(make_tenant(), role="admin")
    assert api.get("/api/v1/me").status_int == 401
    login(api.testapp, admin)
    assert api.get("/api/v1/me").json["email"] == admin.email
