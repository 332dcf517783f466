"""A plugin's node type, exactly as docs/plugins.md shows it, runs in a call and is validated."""
import sys
import types
from datetime import date

import pytest
import webtest
from sqlalchemy import select

from ecti import hookimpl
from ecti.config import configure
from ecti.i18n import _
from ecti.ivr.engine import NodeOutcome
from ecti.ivr.models import Closure
from ecti.ivr.services import FlowInvalid, save_flow
from ecti.plugins import get_plugin_manager
from ecti.telephony.models import PhoneNumber

FORECASTS = {"tokyo": "東京は晴れ", "osaka": "大阪はくもり"}


class Weather:
    name = "weather"
    label = _("Weather forecast")
    settings_schema = {"type": "object", "properties": {"city": {"enum": sorted(FORECASTS)}}, "required": ["city"]}

    def exits(self, settings):
        return ["next"]

    def run(self, ctx, settings):
        return NodeOutcome.follow("next", *ctx.prompt({"text": FORECASTS[settings["city"]]}), city=settings["city"])


class Broken(Weather):
    name = "broken"

    def run(self, ctx, settings):
        raise RuntimeError("a bug in a plugin")


class BrokenReadOnly(Broken):
    """Declares it writes nothing: the engine runs it without a savepoint."""

    name = "broken_read_only"
    read_only = True


class HalfDone(Weather):
    """Writes a row, then fails: what it wrote must not stay."""

    name = "half_done"

    def run(self, ctx, settings):
        ctx.db.add(Closure(tenant_id=ctx.tenant.id, name="書きかけ", start_date=date(2026, 12, 29), end_date=date(2027, 1, 3)))
        ctx.db.flush()
        raise RuntimeError("a bug after a write")


@pytest.fixture
def weather_config(app_settings, engine, clean_database):
    module = types.ModuleType("weather_plugin")
    sys.modules["weather_plugin"] = module
    module.ecti_ivr_node_types = hookimpl(lambda: [Weather(), Broken(), BrokenReadOnly(), HalfDone()])
    module.ecti_ivr_node_types.__name__ = "ecti_ivr_node_types"
    return configure(dict(app_settings), plugin_manager=get_plugin_manager(plugins=[module]), engine=engine)


def test_hook_ecti_ivr_node_types_a_plugins_node_runs_in_a_call(weather_config, scoped, call, path):
    flow = save_flow(scoped, weather_config.registry, {"name": "天気", "start": "w", "nodes": [
        {"id": "w", "type": "weather", "settings": {"city": "osaka"}, "next": {"next": "bye"}},
        {"id": "bye", "type": "hangup", "settings": {"prompt": {"text": "さようなら"}}},
    ]})
    scoped.scalar(select(PhoneNumber)).flow_id = flow.id
    scoped.commit()
    caller = call()
    caller.app = webtest.TestApp(weather_config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost"})
    twiml = caller.dial()
    assert twiml.said() == ["大阪はくもり", "さようなら"] and twiml.verbs()[-1] == "Hangup"
    assert path(caller) == [("w", "next"), ("bye", None)]


def test_a_plugins_settings_are_checked_by_its_schema(weather_config, scoped):
    with pytest.raises(FlowInvalid) as invalid:
        save_flow(scoped, weather_config.registry, {"name": "天気", "start": "w", "nodes": [{"id": "w", "type": "weather", "settings": {"city": "sapporo"}}]})
    assert [p.path for p in invalid.value.problems] == ["nodes[0].settings.city"]


@pytest.mark.parametrize("node_type", ["broken", "broken_read_only", "half_done"])
def test_a_node_that_fails_ends_the_call_with_an_apology_not_silence(weather_config, scoped, call, path, node_type):
    flow = save_flow(scoped, weather_config.registry, {"name": "壊れた", "start": "b", "nodes": [{"id": "b", "type": node_type, "settings": {"city": "tokyo"}}]})
    scoped.scalar(select(PhoneNumber)).flow_id = flow.id
    scoped.commit()
    caller = call()
    caller.app = webtest.TestApp(weather_config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost"})
    twiml = caller.dial()
    assert twiml.said() == ["申し訳ございません。システムエラーが発生しました。恐れ入りますが、しばらくしてからおかけ直しください。"]
    assert twiml.verbs() == ["Say", "Hangup"]
    assert path(caller) == [("b", "error")]
    # The call and its path are recorded; whatever the failed node had written is not.
    assert scoped.scalars(select(Closure)).all() == []
