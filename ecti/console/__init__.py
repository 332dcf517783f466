"""The web console shell: layout, grouped navigation, landing pages, plugin list, health check.

The navigation is grouped by task (see docs/console.md): 通話 ``calls``, 分析 ``analytics``,
設定 ``settings``, 管理 ``admin`` and the operator's 運用 ``operator``. Subsystems and plugins
add entries with::

    config.add_console_nav(route_name, label, group="settings", permission="manage", order=...)

and a plugin may add a group of its own with ``config.add_console_nav_group(name, label, order=...)``
before its items. Each person sees the items their role's permissions allow; a group without
visible items is not shown.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyramid.events import BeforeRender
from pyramid.exceptions import ConfigurationError

from ..i18n import _

NAV_KEY = "ecti.console_nav"
NAV_GROUPS_KEY = "ecti.console_nav_groups"


@dataclass(frozen=True)
class NavGroup:
    name: str
    label: Any
    order: int
    icon: str = "apps"  # an SLDS utility icon (node_modules/@salesforce-ux/design-system/assets/icons)


@dataclass(frozen=True)
class NavItem:
    route_name: str
    label: Any
    permission: str
    order: int
    group: str
    #: Other routes whose pages belong to this item (it is marked current on them).
    routes: tuple[str, ...] = field(default=())


#: The groups every console has, in this order (UI.md §Navigation).
BUILTIN_GROUPS = (
    NavGroup("calls", _("Calls"), 10, "call"),
    NavGroup("analytics", _("Analytics"), 20, "chart"),
    NavGroup("settings", _("Settings"), 30, "settings"),
    NavGroup("admin", _("Administration"), 40, "shield"),
    NavGroup("operator", _("Service operation"), 50, "company"),
)


def add_console_nav_group(config, name: str, label, *, order: int = 100, icon: str = "apps") -> None:
    """Config directive: a navigation group of a plugin's own (add it before its items)."""
    groups = config.registry.setdefault(NAV_GROUPS_KEY, {g.name: g for g in BUILTIN_GROUPS})
    groups[name] = NavGroup(name, label, order, icon)


def add_console_nav(config, route_name: str, label, *, group: str = "settings", permission: str = "console",
                    order: int = 100, routes: tuple[str, ...] = ()) -> None:
    """Config directive: one navigation entry, shown to those with ``permission``, in ``group``."""
    groups = config.registry.setdefault(NAV_GROUPS_KEY, {g.name: g for g in BUILTIN_GROUPS})
    if group not in groups:
        raise ConfigurationError(
            f"console navigation item {route_name!r} names the unknown group {group!r}; "
            f"use one of {sorted(groups)} or add it first with config.add_console_nav_group()"
        )
    config.registry.setdefault(NAV_KEY, []).append(NavItem(route_name, label, permission, order, group, tuple(routes)))


def _path_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path.rstrip("/") or "/"


def console_nav(request) -> list[dict]:
    """The navigation this request's user may see: groups (in order) of items (in order).

    Each group is ``{"name", "label", "icon", "items"}``; each item ``{"url", "label",
    "current"}``. The current item is the one whose route matched, else the one whose path is the
    longest prefix of the page's path (a record page belongs to its list)."""
    groups = request.registry.get(NAV_GROUPS_KEY, {g.name: g for g in BUILTIN_GROUPS})
    visible = [item for item in request.registry.get(NAV_KEY, []) if request.has_permission(item.permission)]
    route = getattr(getattr(request, "matched_route", None), "name", None)
    entries = [(item, request.route_url(item.route_name)) for item in visible]
    current = next((item for item, _url in entries if route and (item.route_name == route or route in item.routes)), None)
    if current is None:
        path = request.path.rstrip("/") or "/"
        best = -1
        for item, url in entries:
            prefix = _path_of(url)
            if prefix != "/" and (path == prefix or path.startswith(prefix + "/")) and len(prefix) > best:
                current, best = item, len(prefix)
    result = []
    for group in sorted(groups.values(), key=lambda g: g.order):
        items = sorted((e for e in entries if e[0].group == group.name), key=lambda e: e[0].order)
        if items:
            result.append({
                "name": group.name, "label": group.label, "icon": group.icon,
                "items": [{"url": url, "label": item.label, "current": item is current} for item, url in items],
            })
    return result


def _template_globals(event: BeforeRender):
    event.setdefault("console_nav", console_nav)


def includeme(config):
    config.add_directive("add_console_nav_group", add_console_nav_group)
    config.add_directive("add_console_nav", add_console_nav)
    config.add_subscriber(_template_globals, BeforeRender)
    config.add_route("home", "/")
    config.add_route("phone", "/phone")
    config.add_route("plugins", "/admin/plugins")
    config.add_route("healthz", "/healthz")
    config.add_route("favicon", "/favicon.ico")
    config.add_static_view("static", "ecti:static", cache_max_age=3600)
    config.add_console_nav("phone", _("Softphone"), group="calls", permission="softphone", order=5)
    # The users page lives in ecti.tenancy, which is set up before this directive exists.
    config.add_console_nav("admin.users", _("Users"), group="admin", permission="manage", order=10)
    config.add_console_nav("plugins", _("Plugins"), group="admin", permission="manage", order=900)
    config.add_console_nav("plugins", _("Plugins"), group="operator", permission="operate", order=900)
