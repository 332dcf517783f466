"""Core behaviour written as a plugin, through the same hooks external plugins use."""
from __future__ import annotations

from .acd.strategies import BUNDLED
from .hookspecs import hookimpl


@hookimpl
def ecti_routing_strategies():
    return list(BUNDLED)
