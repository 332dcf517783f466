"""The people and devices on the far end of call legs, as scripts drive them.

* :class:`CallHandle` — one call leg seen from its remote party: what it ``heard``, its
  ``events``, and the actions ``press``, ``silence``, ``hangup`` (and ``answer``/``decline``
  while it rings).
* :class:`Device` — a softphone (Voice SDK ``Device``) registered with an identity.
* :class:`Phone` — an external phone number with a scripted behaviour.

Every action runs on the simulator's engine and waits until the simulation settles, so a
script can assert on the outcome right after it.
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Optional

from .engine import SimulatorError

if TYPE_CHECKING:  # pragma: no cover
    from .core import Simulator
    from .models import Call


class CallHandle:
    """A call leg as its remote party sees it."""

    def __init__(self, sim: "Simulator", call: "Call"):
        self._sim = sim
        self._call = call

    # --- state -------------------------------------------------------------------------------
    @property
    def sid(self) -> str:
        return self._call.sid

    @property
    def status(self) -> str:
        return self._call.status

    @property
    def direction(self) -> str:
        return self._call.direction

    @property
    def from_(self) -> str:
        return self._call.from_

    @property
    def to(self) -> str:
        return self._call.to

    @property
    def parent_call_sid(self) -> Optional[str]:
        return self._call.parent_call_sid

    @property
    def duration(self) -> Optional[int]:
        return self._call.duration

    @property
    def heard(self) -> list[dict]:
        """What was played to this party, in order: ``{"verb": "Say", "text": …}``, …"""
        with self._sim.lock:
            return copy.deepcopy(self._call.heard)

    @property
    def events(self) -> list[dict]:
        """What happened on the leg: ``{"at": seconds, "event": "answered", …}``, …"""
        with self._sim.lock:
            return copy.deepcopy(self._call.events)

    @property
    def parameters(self) -> dict:
        """Custom parameters (from ``<Client><Parameter>``), as the Voice SDK exposes them."""
        return dict(self._call.custom_parameters)

    @property
    def peer(self) -> Optional["CallHandle"]:
        """The leg this one is bridged to, if any."""
        bridge = self._call.bridge
        return CallHandle(self._sim, bridge.other(self._call)) if bridge else None

    def said(self) -> list[str]:
        """The texts of the ``<Say>`` verbs heard, in order (a convenience for assertions)."""
        return [item["text"] for item in self.heard if item["verb"] == "Say"]

    def as_dict(self) -> dict:
        """The JSON shape of the control API."""
        return {"sid": self.sid, "status": self.status, "direction": self.direction,
                "from": self.from_, "to": self.to, "parent_call_sid": self.parent_call_sid,
                "duration": self.duration, "parameters": self.parameters,
                "peer": self.peer.sid if self.peer else None,
                "heard": self.heard, "events": self.events}

    # --- actions -----------------------------------------------------------------------------
    def press(self, digits: str) -> None:
        """Press DTMF keys (a waiting ``<Gather>`` or ``<Record>`` receives them)."""
        self._sim.act(self._sim.press, self._call, str(digits))

    def silence(self) -> None:
        """Stay silent: a waiting ``<Gather>`` times out, a ``<Record>`` ends, at once."""
        self._sim.act(self._sim.silence, self._call)

    def hangup(self) -> None:
        self._sim.act(self._sim.hangup, self._call)

    def answer(self) -> None:
        """Pick up this leg while it rings."""
        self._require_ringing()
        self._sim.act(self._sim.answer, self._call, self._call.party)

    def decline(self) -> None:
        """Reject this leg while it rings (the caller gets ``busy``)."""
        self._require_ringing()
        self._sim.act(self._sim.end_leg, self._call, "busy")

    def _require_ringing(self) -> None:
        if self._call.status != "ringing":
            raise SimulatorError(f"call {self.sid} is {self.status}, not ringing")

    def __eq__(self, other) -> bool:
        return isinstance(other, CallHandle) and other._call is self._call

    def __hash__(self) -> int:
        return hash(self._call.sid)

    def __repr__(self) -> str:
        return f"<CallHandle {self.sid} {self.from_} -> {self.to} {self.status}>"


class Party:
    """Something at the far end of legs; told when a leg rings or ends."""

    def on_ring(self, call: "Call") -> None:
        """A leg to this party starts ringing."""

    def on_ring_over(self, call: "Call") -> None:
        """A leg that rang this party was answered (maybe elsewhere) or ended."""

    def on_call_ended(self, call: "Call") -> None:
        """A leg of this party ended."""


class Caller(Party):
    """The person who placed an inbound call with :meth:`Simulator.dial`."""


class _LegOwner(Party):
    """A party that can have several legs: keeps them and offers the common actions."""

    def __init__(self, sim: "Simulator"):
        self._sim = sim
        self._legs: list = []

    def _handles(self, predicate) -> list[CallHandle]:
        with self._sim.lock:
            return [CallHandle(self._sim, leg) for leg in self._legs if predicate(leg)]

    @property
    def calls(self) -> list[CallHandle]:
        """Every leg this party has had, oldest first."""
        return self._handles(lambda leg: True)

    @property
    def ringing(self) -> Optional[CallHandle]:
        """The oldest leg ringing here now, or None."""
        legs = self._handles(lambda leg: leg.status == "ringing" and not leg.ended)
        return legs[0] if legs else None

    @property
    def active(self) -> Optional[CallHandle]:
        """The connected leg, or None."""
        legs = self._handles(lambda leg: leg.status == "in-progress" and not leg.ended)
        return legs[-1] if legs else None

    def _ringing_or_fail(self) -> CallHandle:
        call = self.ringing
        if call is None:
            raise SimulatorError(f"nothing is ringing at {self}")
        return call

    def _active_or_fail(self) -> CallHandle:
        call = self.active
        if call is None:
            raise SimulatorError(f"no call is connected at {self}")
        return call

    def answer(self) -> CallHandle:
        """Answer the oldest ringing call; returns it."""
        call = self._ringing_or_fail()
        self._sim.act(self._sim.answer, call._call, self)
        return call

    def decline(self) -> CallHandle:
        """Reject the oldest ringing call (the dialer sees ``busy``)."""
        call = self._ringing_or_fail()
        call.decline()
        return call

    def hangup(self) -> CallHandle:
        """Hang up the connected call."""
        call = self._active_or_fail()
        call.hangup()
        return call

    def send_digits(self, digits: str) -> None:
        """Send DTMF on the connected call."""
        self._active_or_fail().press(digits)

    def on_ring(self, call: "Call") -> None:
        with self._sim.lock:
            if call not in self._legs:
                self._legs.append(call)


class Device(_LegOwner):
    """A registered softphone (the Voice JS SDK's ``Device``) for one identity."""

    def __init__(self, sim: "Simulator", account_sid: str, identity: str,
                 application_sid: Optional[str] = None, incoming: bool = True):
        super().__init__(sim)
        self.account_sid = account_sid
        self.identity = identity
        self.application_sid = application_sid
        self.incoming = incoming
        self.registered = True

    def on_ring_over(self, call: "Call") -> None:
        # a leg answered on another device of the same identity is not this device's call
        with self._sim.lock:
            if call.party is not self and call in self._legs:
                self._legs.remove(call)

    def connect(self, params: Optional[dict] = None) -> CallHandle:
        """Place a call from the browser (``device.connect({params})``).

        The account's TwiML App named by the token (or given to :meth:`Simulator.client`)
        receives From=``client:<identity>``, Direction=inbound and the params; its TwiML runs.
        """
        params = {k: str(v) for k, v in (params or {}).items()}
        app = self._sim.applications.get(self.application_sid or "")
        if app is None or app.account_sid != self.account_sid:
            raise SimulatorError(f"client {self.identity} has no TwiML App for outgoing calls")
        from .interpreter import DocumentRequest
        call = self._sim._new_call(self.account_sid, "client:" + self.identity,
                                   params.get("To", ""), "inbound", party=self,
                                   application_sid=app.sid, request_params=params)
        call.status = "ringing"
        call.status_callback = app.status_callback
        call.status_callback_method = app.status_callback_method
        call.status_callback_events = ("completed",)
        call.fallback_url, call.fallback_method = app.voice_fallback_url, \
            app.voice_fallback_method
        with self._sim.lock:
            self._legs.append(call)
        self._sim.act(self._sim.start_process, call,
                      DocumentRequest(app.voice_url, app.voice_method))
        return CallHandle(self._sim, call)

    def unregister(self) -> None:
        """Go offline: calls to the identity no longer ring this device."""
        self.registered = False
        with self._sim.lock:
            devices = self._sim.devices.get((self.account_sid, self.identity), [])
            if self in devices:
                devices.remove(self)

    def as_dict(self) -> dict:
        ringing = self.ringing
        active = self.active
        return {"account_sid": self.account_sid, "identity": self.identity,
                "application_sid": self.application_sid, "registered": self.registered,
                "ringing": ringing.as_dict() if ringing else None,
                "active": active.as_dict() if active else None,
                "calls": [call.sid for call in self.calls]}

    def __repr__(self) -> str:
        return f"<Device client:{self.identity}>"


class Phone(_LegOwner):
    """An external phone. ``behaviour`` decides what it does when a call rings it:

    * ``"answer"`` (default) — picks up at once and stays connected until a side hangs up;
    * ``"busy"`` / ``"fail"`` — the call ends ``busy`` / ``failed``;
    * ``"no-answer"`` — rings until the dialler's timeout (advance the clock), unless the
      script calls :meth:`answer` or :meth:`decline` first.

    ``sms_behaviour`` decides the fate of SMS sent to it: ``"deliver"`` (default),
    ``"undelivered"`` or ``"fail"``; delivered messages are in :attr:`messages`.
    """

    BEHAVIOURS = ("answer", "busy", "no-answer", "fail")
    SMS_BEHAVIOURS = ("deliver", "undelivered", "fail")

    def __init__(self, sim: "Simulator", number: str):
        super().__init__(sim)
        self.number = number
        self._behaviour = "answer"
        self._sms_behaviour = "deliver"
        self.messages: list[dict] = []

    @property
    def behaviour(self) -> str:
        return self._behaviour

    @behaviour.setter
    def behaviour(self, value: str) -> None:
        if value not in self.BEHAVIOURS:
            raise ValueError(f"behaviour must be one of {self.BEHAVIOURS}")
        self._behaviour = value

    @property
    def sms_behaviour(self) -> str:
        return self._sms_behaviour

    @sms_behaviour.setter
    def sms_behaviour(self, value: str) -> None:
        if value not in self.SMS_BEHAVIOURS:
            raise ValueError(f"sms_behaviour must be one of {self.SMS_BEHAVIOURS}")
        self._sms_behaviour = value

    def on_ring(self, call: "Call") -> None:
        super().on_ring(call)
        if self._behaviour == "answer":
            self._sim.engine.submit(self._sim.answer, call, self)
        elif self._behaviour == "busy":
            self._sim.engine.submit(self._sim.end_leg, call, "busy")
        elif self._behaviour == "fail":
            self._sim.engine.submit(self._sim.end_leg, call, "failed")

    def receive_message(self, message) -> None:
        with self._sim.lock:
            self.messages.append({"sid": message.sid, "from": message.from_,
                                  "to": message.to, "body": message.body})

    def press(self, digits: str) -> None:
        """Press keys on the connected call."""
        self.send_digits(digits)

    def as_dict(self) -> dict:
        ringing = self.ringing
        active = self.active
        return {"number": self.number, "behaviour": self.behaviour,
                "sms_behaviour": self.sms_behaviour, "messages": list(self.messages),
                "ringing": ringing.as_dict() if ringing else None,
                "active": active.as_dict() if active else None,
                "calls": [call.sid for call in self.calls]}

    def __repr__(self) -> str:
        return f"<Phone {self.number}>"
