"""The plugin contract: every hook ECTI calls, in one module.

A plugin is a module (or object) with functions decorated by :data:`hookimpl` and named after
one of the specs below. Plugins are found through the ``ecti`` entry-point group; bundled plugins
in ``plugins/`` are ordinary distributions found the same way. Hooks are always called with
keyword arguments, so an implementation may accept only the arguments it needs, and specs can
grow new arguments without breaking plugins.

Registration hooks (``ecti_*`` returning a list) are collected once at start-up into
:class:`ecti.plugins.Registries`; the objects they return must follow the protocols in
:mod:`ecti.interfaces`. ``docs/plugins.md`` documents every hook with a runnable example, and
``tests/test_hook_docs.py`` fails when a spec here is undocumented or untested.
"""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("ecti")
hookimpl = pluggy.HookimplMarker("ecti")


@hookspec
def ecti_config(config):
    """Let a plugin extend the Pyramid application.

    Called once while the application is configured, after the core subsystems are included
    and before the configuration is committed. ``config`` is the Pyramid ``Configurator``
    positioned on the plugin's own package, so ``config.include(".views")``,
    ``config.add_route()``, ``config.add_static_view()``, ``config.add_jinja2_search_path()``
    and ``config.add_translation_dirs()`` resolve relative to the plugin. Return nothing.
    """


@hookspec
def ecti_register_commands(cli):
    """Add sub-commands to the ``ecti`` command line.

    Called when the CLI starts. ``cli`` is the root ``click.Group``; add a group or a command
    to it (``cli.add_command(my_group)``). Commands get the loaded configuration through
    ``click.get_current_context().obj`` (an :class:`ecti.cli.CommandContext`). Return nothing.
    """


@hookspec
def ecti_routing_strategies():
    """Return a list of routing strategies (:class:`ecti.interfaces.RoutingStrategy`).

    Called once at start-up. A queue names its strategy by ``strategy.name``; when two
    plugins offer the same name, the one registered later wins (so a plugin may replace a
    bundled strategy). Return ``[]`` or ``None`` to offer none.
    """


@hookspec
def ecti_tts_providers():
    """Return a list of text-to-speech providers (:class:`ecti.interfaces.TTSProvider`).

    Called once at start-up. A prompt names its provider by ``provider.name``.
    """


@hookspec
def ecti_crm_connectors():
    """Return a list of CRM connectors (:class:`ecti.interfaces.CRMConnector`).

    Called once at start-up. When a number is looked up (the softphone's caller name), every
    connector is asked in registration order — the core's contact directory first, then the
    installed plugins in the order they load — with the number in E.164 (``+819011112222``,
    whatever the agent typed), and the first that returns a contact answers. A connector that
    raises is skipped (a CRM that fails must not break the phone).
    """


@hookspec
def ecti_notification_channels():
    """Return a list of notification channels (:class:`ecti.interfaces.NotificationChannel`).

    Called once at start-up. The notifications that exist are ``voicemail.received`` (to the
    box's recipients, or the company's admins when it has none), ``sms.received`` and
    ``webhook.paused`` (to the company's admins, when a webhook subscription kept failing); each is
    queued once per installed channel and per recipient e-mail address, and delivered after
    commit with retries (the console's *Notifications* page shows every delivery). Recipients
    cannot yet choose channels: a channel receives every notification of every company.
    """


@hookspec
def ecti_plugin_settings():
    """Return a list of per-company settings (:class:`ecti.interfaces.PluginSettings`).

    Called once at start-up. Each company's admins fill them in on the console; the plugin reads
    them with ``ecti.plugin_settings.settings_for(request_or_session, tenant_id, name)``, which
    gives the schema's defaults for what was never set.
    """


@hookspec
def ecti_carriers():
    """Return a list of carriers (:class:`ecti.interfaces.Carrier`).

    Called once at start-up. A tenant's calls and messages travel through the carrier named by
    its ``carrier`` column.
    """


@hookspec
def ecti_holiday_calendars():
    """Return a list of holiday calendars (:class:`ecti.interfaces.HolidayCalendar`).

    Called once at start-up. A tenant's schedule names the calendars it honours.
    """


@hookspec
def ecti_ivr_node_types():
    """Return a list of IVR node types (:class:`ecti.interfaces.IVRNodeType`).

    Called once at start-up. A flow node names its type by ``node_type.name``; a plugin's type
    with the same name as a built-in one replaces it.
    """


@hookspec
def ecti_call_event(request, call, event):
    """Observe a step in a call's life.

    Called after a :class:`ecti.calls.models.CallEvent` has been added to the database session
    (same transaction; nothing is committed yet). ``call`` is the
    :class:`ecti.calls.models.Call`, ``event`` the new event (``event.kind`` is one of
    :class:`ecti.calls.models.EventKind`), ``request`` the Pyramid request being handled (or
    ``None`` from background work). Observers must not raise for ordinary problems: an exception
    aborts the transaction, which for a webhook means the caller hears an error. Work that may
    fail or take time (mail, CRM calls) belongs after commit, e.g. in a
    ``request.tm.get().addAfterCommitHook``. Return nothing.
    """
