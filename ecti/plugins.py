"""Finding plugins and collecting what they register.

There is no module-global plugin manager: :func:`get_plugin_manager` builds one, the
application keeps it on its registry (``registry.plugins``) and tests build their own with
exactly the plugins they want.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Iterable

import pluggy

from . import hookspecs

#: Core behaviour that is itself written as plugins, registered through the same path as
#: external ones (none of these may be disabled).
DEFAULT_PLUGINS = ("ecti.builtin_plugins",)

ENTRY_POINT_GROUP = "ecti"


def get_plugin_manager(
    *,
    load_entrypoints: bool = True,
    plugins: Iterable[Any] = (),
    disabled: Iterable[str] = (),
) -> pluggy.PluginManager:
    """Return a plugin manager with the core's default plugins, the installed plugins found
    through the ``ecti`` entry-point group (unless ``load_entrypoints`` is false) and
    ``plugins`` (objects or modules) registered in that order.

    ``disabled`` names entry points (or plugin names) that must not be loaded. Unknown hook
    implementations (a misspelled ``ecti_*`` function) raise
    :class:`pluggy.PluginValidationError` here, not later on a live call.
    """
    pm = pluggy.PluginManager("ecti")
    pm.add_hookspecs(hookspecs)
    disabled = set(disabled)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    for name in disabled - set(DEFAULT_PLUGINS):
        pm.set_blocked(name)
    if load_entrypoints:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in plugins:
        name = getattr(plugin, "__name__", None) or getattr(plugin, "name", None) or repr(plugin)
        if name not in disabled:
            pm.register(plugin, name=name)
    pm.check_pending()
    return pm


@dataclass(frozen=True)
class PluginInfo:
    """What ``ecti plugins`` and the admin page show for one plugin."""

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]
    builtin: bool


def describe_plugins(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """List every registered plugin with its distribution, version and implemented hooks."""
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        dist = dists.get(id(plugin))
        hooks = tuple(sorted(impl_hook.name for impl_hook in pm.get_hookcallers(plugin) or ()))
        infos.append(
            PluginInfo(
                name=name,
                distribution=dist.project_name if dist else None,
                version=dist.version if dist else None,
                hooks=hooks,
                builtin=name in DEFAULT_PLUGINS,
            )
        )
    return sorted(infos, key=lambda info: (not info.builtin, info.name))


@dataclass
class Registries:
    """Everything the registration hooks returned, by name; built once at start-up."""

    routing_strategies: dict[str, Any] = field(default_factory=dict)
    tts_providers: dict[str, Any] = field(default_factory=dict)
    crm_connectors: dict[str, Any] = field(default_factory=dict)
    notification_channels: dict[str, Any] = field(default_factory=dict)
    carriers: dict[str, Any] = field(default_factory=dict)
    holiday_calendars: dict[str, Any] = field(default_factory=dict)
    ivr_node_types: dict[str, Any] = field(default_factory=dict)
    plugin_settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def collect(cls, pm: pluggy.PluginManager) -> "Registries":
        registries = cls()
        for attr in cls.__dataclass_fields__:
            hook = getattr(pm.hook, f"ecti_{attr}")
            # pluggy returns results last-registered first; reverse so later plugins win.
            for provided in reversed(hook()):
                for item in provided or ():
                    getattr(registries, attr)[item.name] = item
        return registries
