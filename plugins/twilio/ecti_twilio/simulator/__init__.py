"""A faithful local Twilio simulator for ECTI's tests, demo and plugin authors.

It speaks Twilio's REST API (2010-04-01), executes TwiML, sends webhooks signed exactly as
Twilio signs them and lets scripts play the callers, softphones and phones on the other end,
in deterministic virtual time. See ``plugins/twilio/SIMULATOR.md``.

    >>> sim = Simulator()
    >>> sim.add_account("AC" + "0" * 32, "token")   # doctest: +SKIP
    >>> server = sim.serve()                         # doctest: +SKIP
"""
from .core import Simulator, gather_action
from .engine import EngineFailure, SettleTimeout, SimulatorError
from .parties import CallHandle, Device, Phone
from .server import SimulatorServer

__all__ = ["Simulator", "gather_action", "SimulatorServer", "CallHandle", "Device", "Phone", "SimulatorError",
           "SettleTimeout", "EngineFailure"]
