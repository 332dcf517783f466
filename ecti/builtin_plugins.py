"""Core behaviour written as a plugin, through the same hooks external plugins use."""
from __future__ import annotations

from sqlalchemy.orm import object_session

from .acd.strategies import BUNDLED
from .calls.models import EventKind
from .hookspecs import hookimpl
from .ivr.nodes import BUNDLED as IVR_NODE_TYPES
from .ivr.nodes import release_destinations


@hookimpl
def ecti_routing_strategies():
    return list(BUNDLED)


@hookimpl
def ecti_ivr_node_types():
    return list(IVR_NODE_TYPES)


@hookimpl
def ecti_call_event(request, call, event):
    # A call that ends frees the external numbers its forward was ringing, even when the
    # dial's own callback never comes.
    if event.kind is EventKind.completed:
        release_destinations(object_session(call), call)


@hookimpl
def ecti_register_commands(cli):
    from .tenant_config.cli import add_commands

    add_commands(cli)
