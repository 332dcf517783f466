"""The web console shell: layout, navigation, home, plugin list, health check.

Subsystems and plugins add entries to the navigation with
``config.add_console_nav(route_name, label, permission=..., order=...)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyramid.events import BeforeRender

NAV_KEY = "ecti.console_nav"


@dataclass(frozen=True)
class NavItem:
    route_name: str
    label: Any
    permission: str
    order: int


def add_console_nav(config, route_name: str, label, *, permission: str = "console", order: int = 100):
    config.registry.setdefault(NAV_KEY, []).append(NavItem(route_name, label, permission, order))


def console_nav(request) -> list[dict]:
    items = sorted(request.registry.get(NAV_KEY, []), key=lambda item: item.order)
    return [
        {"url": request.route_url(item.route_name), "label": item.label}
        for item in items
        if request.has_permission(item.permission)
    ]


def _template_globals(event: BeforeRender):
    event.setdefault("console_nav", console_nav)


def includeme(config):
    config.add_directive("add_console_nav", add_console_nav)
    config.add_subscriber(_template_globals, BeforeRender)
    config.add_route("home", "/")
    config.add_route("plugins", "/admin/plugins")
    config.add_route("healthz", "/healthz")
    config.add_static_view("static", "ecti:static", cache_max_age=3600)
