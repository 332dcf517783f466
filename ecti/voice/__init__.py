"""Carrier-neutral call control: what happens when a call arrives, moves on, or ends.

Carrier plugins (Twilio, the simulator-backed demo) receive the carrier's webhooks, verify
them, and call into this package:

* :func:`ecti.voice.calls.inbound_call` when a call arrives at one of the tenant's numbers;
* :func:`ecti.voice.calls.softphone_call` when an agent places a call from the browser;
* :func:`dispatch` when the carrier comes back to a :class:`~ecti.voice.instructions.Continuation`;
* :func:`ecti.voice.calls.call_status` for status callbacks.

Each returns instructions (:mod:`ecti.voice.instructions`) for the plugin to render.
Subsystems register continuation handlers with ``config.add_call_handler(name, handler)``; a
handler is ``handler(request, call, args, call_input) -> list[Instruction]``.
"""
from __future__ import annotations

from typing import Callable

from ..errors import UserError
from ..i18n import _

HANDLERS_KEY = "ecti.voice.handlers"

#: The handler that decides what an inbound call to a number does. The IVR registers its own;
#: until then (or when a number has no flow) the caller is told the number is not in service.
INBOUND_ENTRY = "inbound.start"


class UnknownHandler(UserError):
    """A continuation named a handler that is not registered (a stale or forged callback)."""


def add_call_handler(config, name: str, handler: Callable) -> None:
    """Register (or replace) the continuation handler ``name``."""
    handler = config.maybe_dotted(handler)

    def register():
        config.registry.setdefault(HANDLERS_KEY, {})[name] = handler

    config.action(("ecti.call_handler", name, id(handler)), register)


def dispatch(request, call, handler_name: str, args: dict, call_input) -> list:
    handler = request.registry.get(HANDLERS_KEY, {}).get(handler_name)
    if handler is None:
        raise UnknownHandler("unknown_handler", _("Unknown call step ${name}.", mapping={"name": handler_name}), status=404)
    return list(handler(request, call, args, call_input))


def includeme(config):
    config.add_directive("add_call_handler", add_call_handler)
    from .calls import OUTBOUND_DIAL_ENDED, outbound_dial_ended, not_in_service

    config.add_call_handler(INBOUND_ENTRY, not_in_service)
    config.add_call_handler(OUTBOUND_DIAL_ENDED, outbound_dial_ended)
