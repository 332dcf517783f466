"""Which scope each API operation needs when it is called with an API key.

A scope is ``<area>:read`` (GET) or ``<area>:write`` (anything else); the area of an operation
comes from its route name. Operations of a person's own phone (presence, offers, softphone,
dialing as an agent…) have no area: they are not available with a key (403). ``/me`` works with
any key. Tenant keys take the company scopes, operator keys the ``operator:*`` scopes.
"""
from __future__ import annotations

from ..i18n import _

#: Route name prefixes → area, most specific first.
AREAS: tuple[tuple[str, str], ...] = (
    ("api.reports.", "reports"),
    ("api.calls", "calls"),
    ("api.call", "calls"),
    ("api.acd.agents", "agents"),
    ("api.acd.agent_presence", "agents"),
    ("api.acd.waiting", "agents"),
    ("api.acd.queue", "config"),
    ("api.numbers", "config"),
    ("api.number", "config"),
    ("api.ivr_", "config"),
    ("api.prompt", "config"),
    ("api.disposition", "config"),
    ("api.dialer.lists", "config"),
    ("api.dialer.list", "config"),
    ("api.dialer.imports", "config"),
    ("api.dialer.import_confirm", "config"),
    ("api.users", "users"),
    ("api.user", "users"),
    ("api.contact", "contacts"),
    ("api.audit", "audit"),
    ("api.billing_month", "billing"),
    ("api.messages", "sms"),
    ("api.message", "sms"),
    ("api.voicemail", "voicemail"),
    ("api.webhook", "webhooks"),
    ("api.operator.", "operator"),
)
#: Route names that are a person's own work even though a prefix above matches.
PERSONAL = frozenset({"api.call_wrap_up"})
#: Any valid key may call these.
ANY = "*"
OPEN_TO_ANY_KEY = frozenset({"api.me"})

TENANT_SCOPES: dict[str, object] = {
    "calls:read": _("Read calls"),
    "reports:read": _("Read reports"),
    "agents:read": _("Read agents' status"),
    "agents:write": _("Change agents' status"),
    "config:read": _("Read the configuration"),
    "config:write": _("Change the configuration"),
    "users:read": _("Read users"),
    "users:write": _("Change users"),
    "contacts:read": _("Read contacts"),
    "contacts:write": _("Change contacts"),
    "sms:read": _("Read SMS"),
    "sms:write": _("Send SMS"),
    "voicemail:read": _("Read voicemail"),
    "voicemail:write": _("Change voicemail"),
    "audit:read": _("Read the audit log"),
    "billing:read": _("Read billing"),
    "webhooks:read": _("Read webhooks"),
    "webhooks:write": _("Change webhooks"),
}
OPERATOR_SCOPES: dict[str, object] = {
    "operator:read": _("Read companies (operator)"),
    "operator:write": _("Change companies (operator)"),
}
ALL_SCOPES = {**TENANT_SCOPES, **OPERATOR_SCOPES}


def scope_for(route_name: str, method: str) -> str | None:
    """The scope an operation needs with a key; None: not available with a key."""
    if route_name in OPEN_TO_ANY_KEY:
        return ANY
    if route_name in PERSONAL:
        return None
    for prefix, area in AREAS:
        if route_name == prefix or route_name.startswith(prefix):
            scope = f"{area}:{'read' if method.upper() in ('GET', 'HEAD') else 'write'}"
            return scope if scope in ALL_SCOPES else None
    return None


def scopes_for_role(is_operator: bool) -> dict[str, object]:
    return OPERATOR_SCOPES if is_operator else TENANT_SCOPES
