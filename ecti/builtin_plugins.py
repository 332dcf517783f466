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
def ecti_crm_connectors():
    from .contacts.services import DirectoryConnector

    return [DirectoryConnector()]


@hookimpl
def ecti_ivr_node_types():
    return list(IVR_NODE_TYPES)


@hookimpl
def ecti_call_event(request, call, event):
    """A call ended: a queued caller abandoned or completed (ACD), the external numbers its
    forward was ringing are free again even when the dial's own callback never comes (IVR), and
    an agent's dialing-list call goes to wrap-up until its result is recorded (dialer)."""
    if event.kind is not EventKind.completed:
        return
    release_destinations(object_session(call), call)
    if request is not None:
        from .acd.routing import caller_left
        from .dialer.services import call_ended

        caller_left(request, call, event.at)
        call_ended(request, call, event.at)


@hookimpl
def ecti_register_commands(cli):
    from .tenant_config.cli import add_commands

    add_commands(cli)
