"""Core behaviour written as a plugin, through the same hooks external plugins use."""
from __future__ import annotations

from .acd.strategies import BUNDLED
from .hookspecs import hookimpl


@hookimpl
def ecti_routing_strategies():
    return list(BUNDLED)


@hookimpl
def ecti_call_event(request, call, event):
    """A queued caller's call ended: abandoned while waiting, or completed by the caller."""
    from .calls.models import EventKind

    if event.kind is EventKind.completed and request is not None:
        from .acd.routing import caller_left

        caller_left(request, call, event.at)
