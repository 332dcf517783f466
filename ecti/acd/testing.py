"""Testing the ACD without a carrier: a recording carrier double and a driver that plays the
carrier's part (callers arriving and hanging up, agents' phones answering or not).

The ACD reaches the carrier only through the tenant's carrier object; :class:`RecordingCarrier`
is registered as an ordinary plugin (``ecti_carriers``) and records every operation, so tests
see what ECTI asked the carrier to do. :class:`ACDDriver` calls the same continuation handlers
the carrier's webhooks call (``ecti.voice.dispatch``), each in its own transaction, like
separate webhook requests. The softphone (issue 7) and plugin authors can use both.
"""
from __future__ import annotations

import itertools
import threading
import types
from datetime import timedelta

from sqlalchemy import select, update

from .. import hookimpl, jobs
from ..calls.models import Call, CallStatus, Direction
from ..models.meta import utcnow
from ..voice import dispatch
from ..voice.calls import call_status
from ..voice.instructions import CallInput


class RecordingCarrier:
    """A carrier that records what it is asked to do; ``fail`` names operations that raise."""

    name = "recording"
    label = "Recording test carrier"

    def __init__(self):
        self.operations: list[tuple] = []
        self.fail: set[str] = set()
        self.unreachable: set[str] = set()  # identities whose phone cannot be rung
        self.statuses: dict[str, str] = {}
        self.legs: dict[str, dict] = {}
        self.dialed: dict[str, str] = {}  # an outgoing call's id → the called party's leg (dialed_leg)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def _record(self, *op):
        if op[0] in self.fail:
            raise RuntimeError(f"carrier refused {op[0]}")
        with self._lock:
            self.operations.append(op)

    def check_credentials(self, *, registry, account_id, secret):
        return None

    def dial_agent(self, *, request, tenant, identity, caller_id, answer, status, timeout):
        if identity in self.unreachable:
            raise RuntimeError(f"{identity} is not registered")
        self._record("dial_agent", identity)
        with self._lock:
            leg = f"LEG{next(self._ids)}"
            self.legs[leg] = {"identity": identity, "answer": answer, "status": status, "caller_id": caller_id, "timeout": timeout}
        return leg

    def dial_number(self, *, request, tenant, to, caller_id, answer, status, timeout):
        """Call a customer back (ecti.acd.callback); the leg is listed under ``to``."""
        if to in self.unreachable:
            raise RuntimeError(f"{to} cannot be called")
        self._record("dial_number", to, caller_id)
        with self._lock:
            leg = f"LEG{next(self._ids)}"
            self.legs[leg] = {"identity": to, "answer": answer, "status": status, "caller_id": caller_id, "timeout": timeout}
        return leg

    def dialed_leg(self, *, request, tenant, carrier_call_id):
        self._record("dialed_leg", carrier_call_id)
        return self.dialed.get(carrier_call_id)

    def end_leg(self, *, request, tenant, carrier_call_id):
        self._record("end_leg", carrier_call_id)

    def hangup(self, *, request, tenant, carrier_call_id):
        self._record("hangup", carrier_call_id)

    def redirect(self, *, request, tenant, carrier_call_id, continuation):
        self._record("redirect", carrier_call_id, continuation.handler, dict(continuation.args))

    def hold(self, *, request, tenant, conference, carrier_call_id, hold, music=None):
        self._record("hold", conference, carrier_call_id, hold, music.handler if music else None)

    def remove_participant(self, *, request, tenant, conference, carrier_call_id):
        self._record("remove_participant", conference, carrier_call_id)

    def monitor_join(self, *, request, tenant, conference, identity, caller_id, mode, agent_leg, status):
        self._record("monitor_join", conference, identity, mode, agent_leg)
        with self._lock:
            leg = f"LEG{next(self._ids)}"
            self.legs[leg] = {"identity": identity, "status": status, "caller_id": caller_id, "mode": mode}
        return leg

    def monitor_mode(self, *, request, tenant, conference, carrier_call_id, mode, agent_leg):
        self._record("monitor_mode", conference, carrier_call_id, mode, agent_leg)

    def call_status(self, *, request, tenant, carrier_call_id):
        return self.statuses.get(carrier_call_id)

    def ops(self, kind: str) -> list[tuple]:
        return [op for op in self.operations if op[0] == kind]

    def rung(self) -> list[str]:
        """Identities rung so far, in order."""
        return [op[1] for op in self.ops("dial_agent")]


def carrier_plugin(carrier: RecordingCarrier) -> types.ModuleType:
    """A plugin module that offers ``carrier`` (register it with ``get_plugin_manager(plugins=…)``)."""
    module = types.ModuleType(f"recording_carrier_{id(carrier)}")

    @hookimpl
    def ecti_carriers():
        return [carrier]

    module.ecti_carriers = ecti_carriers
    return module


class ACDDriver:
    """Plays the carrier: each method is one webhook's worth of work in its own transaction."""

    def __init__(self, registry, tenant_id: int, carrier: RecordingCarrier, number: str = "+815011112222"):
        self.registry = registry
        self.tenant_id = tenant_id
        self.carrier = carrier
        self.number = number
        self._sids = itertools.count(1)

    def run(self, work):
        return jobs.run_with_retry(self.registry, self.tenant_id, work)

    def incoming(self, from_number: str = "+819012345678") -> int:
        """A caller rings the tenant's number; returns ECTI's call id."""
        sid = f"CA{next(self._sids):032d}"

        def work(r):
            call = Call(tenant_id=self.tenant_id, carrier_call_id=sid, direction=Direction.inbound, from_number=from_number,
                        to_number=self.number, status=CallStatus.in_progress, started_at=utcnow())
            r.db.add(call)
            r.db.flush()
            return call.id

        return self.run(work)

    def step(self, call_id: int, handler: str, args: dict, call_input: CallInput | None = None) -> list:
        def work(r):
            call = r.db.get(Call, call_id)
            return dispatch(r, call, handler, {k: str(v) for k, v in args.items()}, call_input or CallInput())

        return self.run(work)

    def enqueue(self, call_id: int, queue_id: int) -> list:
        return self.step(call_id, "acd.enqueue", {"queue": queue_id})

    def wait(self, call_id: int) -> list:
        from .models import QueueEntry

        entry_id = self.run(lambda r: r.db.scalar(select(QueueEntry.id).where(QueueEntry.call_id == call_id).order_by(QueueEntry.id.desc())))
        return self.step(call_id, "acd.wait", {"entry": entry_id})

    def leg_for(self, identity: str) -> str:
        """The latest leg that rang ``identity``."""
        legs = [leg for leg, info in self.carrier.legs.items() if info["identity"] == identity]
        if not legs:
            raise AssertionError(f"{identity} was never rung")
        return legs[-1]

    def answer(self, identity: str) -> list:
        """The agent's phone picks up (the carrier fetches the answer URL)."""
        leg = self.leg_for(identity)
        info = self.carrier.legs[leg]
        return self.step(int(info["answer"].args["call"]), info["answer"].handler, info["answer"].args, CallInput(carrier_call_id=leg))

    def leg_status(self, identity: str, status: str) -> list:
        """The carrier reports the agent leg's status (no-answer, busy, completed, …)."""
        leg = self.leg_for(identity)
        info = self.carrier.legs[leg]
        return self.step(int(info["status"].args["call"]), info["status"].handler, info["status"].args,
                         CallInput(call_status=status, carrier_call_id=leg))

    def caller_hangs_up(self, call_id: int) -> None:
        def work(r):
            from ..tenancy.models import Tenant

            call = r.db.get(Call, call_id)
            call_status(r, r.db.get(Tenant, self.tenant_id), call.carrier_call_id, "completed")

        self.run(work)

    def age_call(self, call_id: int, seconds: int) -> None:
        """Pretend the call entered its queue ``seconds`` earlier."""
        from .models import QueueEntry

        def work(r):
            for entry in r.db.scalars(select(QueueEntry).where(QueueEntry.call_id == call_id)):
                entry.entered_at -= timedelta(seconds=seconds)

        self.run(work)

    def expire_offers_of(self, identity_user_id: int) -> None:
        """Pretend the ring time of the user's ringing offer is over."""
        from .models import Offer, OfferStatus

        def work(r):
            r.db.execute(update(Offer).where(Offer.user_id == identity_user_id, Offer.status == OfferStatus.ringing)
                         .values(expires_at=utcnow()))

        self.run(work)

    def _available_now(self, user_id: int, state) -> None:
        from .models import Agent

        def work(r):
            r.db.execute(update(Agent).where(Agent.user_id == user_id, Agent.state == state, Agent.available_at.is_not(None))
                         .values(available_at=utcnow()))

        self.run(work)

    def end_pause(self, user_id: int) -> None:
        """Pretend the pause after a missed offer is over."""
        from .models import AgentState

        self._available_now(user_id, AgentState.idle)

    def end_wrap_up_by_clock(self, user_id: int) -> None:
        """Pretend the agent's wrap-up time is over."""
        from .models import AgentState

        self._available_now(user_id, AgentState.wrap_up)
