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

A call that has ended is final: a continuation for it (a menu answer the carrier retried, a
caller who pressed 1 and hung up at once, a replayed request) gets a harmless hang-up and the
handler does not run — nothing is written and nothing is asked of the carrier. Handlers that
exist to learn what happened after the end (a recording's status, a dial's result, the status
of an agent's leg) are registered with ``after_end=True`` and run all the same.
"""
from __future__ import annotations

import logging
from typing import Callable

from ..errors import UserError
from ..i18n import _

log = logging.getLogger(__name__)

HANDLERS_KEY = "ecti.voice.handlers"
#: The names of the handlers that still run for a call that has ended.
AFTER_END_KEY = "ecti.voice.after_end"

#: The handler that decides what an inbound call to a number does. The IVR registers its own;
#: until then (or when a number has no flow) the caller is told the number is not in service.
INBOUND_ENTRY = "inbound.start"


class UnknownHandler(UserError):
    """A continuation named a handler that is not registered (a stale or forged callback)."""


def add_call_handler(config, name: str, handler: Callable, *, after_end: bool = False) -> None:
    """Register (or replace) the continuation handler ``name``; ``after_end``: it also runs
    for a call that has ended (it records what the carrier reports after the end)."""
    handler = config.maybe_dotted(handler)

    def register():
        config.registry.setdefault(HANDLERS_KEY, {})[name] = handler
        after = config.registry.setdefault(AFTER_END_KEY, set())
        if after_end:
            after.add(name)
        else:
            after.discard(name)

    config.action(("ecti.call_handler", name, id(handler)), register)


def call_has_ended(call) -> bool:
    """The carrier reported the call's final status (completed, busy, no answer …)."""
    return call.status is not None and call.status.is_final


def dispatch(request, call, handler_name: str, args: dict, call_input) -> list:
    handler = request.registry.get(HANDLERS_KEY, {}).get(handler_name)
    if handler is None:
        raise UnknownHandler("unknown_handler", _("Unknown call step ${name}.", mapping={"name": handler_name}), status=404)
    if call_has_ended(call) and handler_name not in request.registry.get(AFTER_END_KEY, ()):
        log.info("call step %s for call %s, which has ended: hang-up, nothing done", handler_name, call.carrier_call_id)
        from .instructions import Hangup

        return [Hangup()]
    return list(handler(request, call, args, call_input))


def includeme(config):
    config.add_directive("add_call_handler", add_call_handler)
    from .calls import OUTBOUND_DIAL_ENDED, outbound_dial_ended, not_in_service

    config.add_call_handler(INBOUND_ENTRY, not_in_service)
    config.add_call_handler(OUTBOUND_DIAL_ENDED, outbound_dial_ended, after_end=True)
