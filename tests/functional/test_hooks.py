"""Every hook spec is called by the core as documented (one test per hook, named after it)."""
import sys
import types

import click
import pytest
from click.testing import CliRunner

from ecti import hookimpl
from ecti.config import configure
from ecti.plugins import Registries, describe_plugins, get_plugin_manager


def plugin_module(name, **hooks):
    """A plugin as integrators write it: a module with @hookimpl functions."""
    module = types.ModuleType(name)
    sys.modules[name] = module  # importable, as an installed plugin's module would be
    for hook_name, function in hooks.items():
        function.__name__ = hook_name
        setattr(module, hook_name, hookimpl(function))
    return module


class Named:
    def __init__(self, name):
        self.name = name
        self.label = name


def test_hook_ecti_config_lets_a_plugin_add_a_route_and_view(app_settings, engine, clean_database):
    import webtest
    from pyramid.response import Response

    def ecti_config(config):
        config.add_route("hello", "/hello-from-plugin")
        config.add_view(lambda request: Response("こんにちは"), route_name="hello")

    pm = get_plugin_manager(load_entrypoints=False, plugins=[plugin_module("hello_plugin", ecti_config=ecti_config)])
    app = webtest.TestApp(configure(dict(app_settings), plugin_manager=pm, engine=engine).make_wsgi_app())
    assert app.get("/hello-from-plugin").text == "こんにちは"


def test_hook_ecti_register_commands_adds_a_cli_command(monkeypatch):
    from ecti import cli as cli_module

    @click.command("hello")
    def hello():
        click.echo("hello from a plugin")

    def ecti_register_commands(cli):
        cli.add_command(hello)

    pm = get_plugin_manager(load_entrypoints=False, plugins=[plugin_module("cli_plugin", ecti_register_commands=ecti_register_commands)])
    monkeypatch.setattr(cli_module, "get_plugin_manager", lambda **kw: pm)
    monkeypatch.setattr(cli_module, "cli", click.Group("ecti", commands=dict(cli_module.cli.commands)))
    cli_module.get_plugin_manager().hook.ecti_register_commands(cli=cli_module.cli)
    result = CliRunner().invoke(cli_module.cli, ["hello"])
    assert result.output.strip() == "hello from a plugin"


@pytest.mark.parametrize(
    "hook, registry",
    [
        ("ecti_routing_strategies", "routing_strategies"),
        ("ecti_tts_providers", "tts_providers"),
        ("ecti_crm_connectors", "crm_connectors"),
        ("ecti_notification_channels", "notification_channels"),
        ("ecti_carriers", "carriers"),
        ("ecti_holiday_calendars", "holiday_calendars"),
        ("ecti_ivr_node_types", "ivr_node_types"),
        ("ecti_plugin_settings", "plugin_settings"),
    ],
)
def test_hook_registration_hooks_are_collected_by_name(hook, registry):
    thing = Named("from_plugin")
    pm = get_plugin_manager(load_entrypoints=False, plugins=[plugin_module("reg_plugin", **{hook: lambda: [thing]})])
    assert getattr(Registries.collect(pm), registry)["from_plugin"] is thing


def test_a_later_plugin_replaces_a_bundled_routing_strategy():
    class MyLongestIdle(Named):
        def order(self, candidates, *, queue=None, cursor=None):
            return list(reversed(candidates))

    mine = MyLongestIdle("longest_idle")
    pm = get_plugin_manager(load_entrypoints=False, plugins=[plugin_module("override", ecti_routing_strategies=lambda: [mine])])
    strategies = Registries.collect(pm).routing_strategies
    assert strategies["longest_idle"] is mine
    assert "round_robin" in strategies  # the other bundled ones stay


def test_hook_ecti_call_event_observes_every_event(app_settings, engine, db, make_tenant):
    import transaction
    from pyramid.scripting import prepare

    from ecti.calls.events import apply_status
    from ecti.calls.models import Call, CallStatus, Direction, EventKind
    from ecti.db import set_tenant_scope

    seen = []

    def ecti_call_event(request, call, event):
        seen.append((call.carrier_call_id, event.kind))

    pm = get_plugin_manager(load_entrypoints=False, plugins=[plugin_module("observer", ecti_call_event=ecti_call_event)])
    config = configure(dict(app_settings), plugin_manager=pm, engine=engine)
    tenant = make_tenant()
    env = prepare(registry=config.registry)
    request = env["request"]
    request.tm = transaction.TransactionManager(explicit=True)
    request.tm.begin()
    set_tenant_scope(request.db, tenant.id)
    call = Call(tenant_id=tenant.id, carrier_call_id="CA1", direction=Direction.inbound, from_number="+819011112222", to_number="+815011112222", status=CallStatus.ringing)
    request.db.add(call)
    apply_status(request, call, CallStatus.in_progress)
    apply_status(request, call, CallStatus.ringing)  # late: moves nothing, tells nobody
    apply_status(request, call, CallStatus.completed, duration=42)
    request.tm.commit()
    env["closer"]()
    assert seen == [
        ("CA1", EventKind.status),
        ("CA1", EventKind.status),
        ("CA1", EventKind.completed),
    ]


def test_a_misspelled_hook_is_refused_at_start_up():
    import pluggy

    def ecti_routing_strategys():  # typo
        return []

    with pytest.raises(pluggy.PluginValidationError):
        get_plugin_manager(load_entrypoints=False, plugins=[plugin_module("typo", ecti_routing_strategys=ecti_routing_strategys)])


def test_disabled_plugins_are_not_loaded():
    loaded = get_plugin_manager()
    assert loaded.get_plugin("twilio") is not None
    pm = get_plugin_manager(disabled=["twilio"])
    assert pm.get_plugin("twilio") is None
    assert "twilio" not in Registries.collect(pm).carriers
    # Core behaviour cannot be switched off by accident.
    assert get_plugin_manager(disabled=["ecti.builtin_plugins"]).get_plugin("ecti.builtin_plugins") is not None


def test_the_disabled_plugins_setting_reaches_the_application(app_settings, engine, clean_database):
    config = configure({**app_settings, "ecti.disabled_plugins": "twilio"}, engine=engine)
    assert "twilio" not in config.registry.ecti.carriers


def test_plugins_are_described_with_version_and_hooks():
    infos = {info.name: info for info in describe_plugins(get_plugin_manager())}
    assert infos["twilio"].distribution == "ecti-twilio"
    assert infos["twilio"].version
    assert "ecti_carriers" in infos["twilio"].hooks
    assert infos["ecti.builtin_plugins"].builtin


def test_the_plugins_page_lists_plugins_for_admins(webtest, login, make_tenant, make_user):
    login(webtest, make_user(make_tenant(), role="admin"))
    page = webtest.get("/admin/plugins")
    assert "ecti-twilio" in page.text
    assert "ecti_carriers" in page.text
