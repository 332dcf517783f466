"""The softphone: the agent's browser phone (F-PH-1..5, F-PH-9, F-PH-10).

``/softphone`` is a page for a 300×500 panel (also inside a Salesforce iframe) that drives the
ACD's agent API (``/api/v1/acd/…``) and a *device*: the Twilio Voice JS SDK when the carrier is
the real Twilio, or the Twilio simulator's control API (``/sim/v1``) in the demo and the browser
tests. ``/softphone/check`` checks the browser's requirements (WebRTC, microphone).
"""
from __future__ import annotations

from pathlib import Path

from ..i18n import _

#: The repository's node_modules (``npm install`` in ``make install``), unless the setting says.
DEFAULT_NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"


def node_modules(settings) -> Path:
    return Path(settings.get("ecti.softphone.node_modules") or DEFAULT_NODE_MODULES)


def includeme(config):
    from ..api import API_PREFIX

    config.add_route("softphone", "/softphone")
    config.add_route("softphone.check", "/softphone/check")
    config.add_route("api.softphone.caller_ids", f"{API_PREFIX}/softphone/caller-ids")
    config.add_route("api.softphone.check_number", f"{API_PREFIX}/softphone/check-number")
    config.add_route("api.softphone.log", f"{API_PREFIX}/softphone/log")
    config.add_route("api.softphone.lookup", f"{API_PREFIX}/softphone/lookup")
    config.add_static_view("softphone-static", "ecti:softphone/static", cache_max_age=3600)
    modules = node_modules(config.registry.settings)
    # Third-party assets installed by npm (never committed): SLDS styles and the Twilio SDK.
    config.add_static_view("slds", str(modules / "@salesforce-ux/design-system/assets"), cache_max_age=86400)
    config.add_static_view("voice-sdk", str(modules / "@twilio/voice-sdk/dist"), cache_max_age=86400)
    config.add_console_nav("softphone", _("Softphone"), permission="softphone", order=5)
