"""The flow engine: where a call is in its flow, turned into the carrier's next instructions.

A call enters a flow at its start node (:func:`start_flow`, from the number's inbound entry).
Each node type's ``run`` answers with a :class:`NodeOutcome`: follow one of its exits at once
(the engine runs the next node in the same webhook), or give the carrier instructions that end
the call or come back later to the node's ``resume`` through the ``ivr.resume`` continuation
(digits of a menu, the result of a dial, a recording). Every outcome is a ``flow_step`` call
event naming the flow, the node, its type and the branch taken, so the call's path is visible.

The engine never lets a caller fall into silence: an unknown node type, a node that raises, a
flow edited during the call or a runaway chain of steps ends with a spoken apology and a hangup,
logged for the admin.
"""
from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping

from ..calls.events import record_event
from ..calls.models import Call, EventKind
from ..i18n import _
from ..models.meta import utcnow
from ..prompts import prompt_instructions
from ..telephony.models import PhoneNumber
from ..tenancy.models import Tenant
from ..voice.calls import not_in_service, say
from ..voice.instructions import Continuation, Hangup, Say
from .models import Flow

log = logging.getLogger(__name__)

#: The continuation handler through which the carrier comes back to a node's ``resume``.
RESUME = "ivr.resume"
#: The continuation handler the ACD overflows into a flow with (``acd.handlers.FLOW_HANDLER``).
NODE_ENTRY = "ivr.node"
#: Registry key of the clock (a callable returning an aware UTC datetime); tests fix it.
CLOCK_KEY = "ecti.clock"
#: More steps than this in one webhook is a loop the validation could not see (a plugin's node).
MAX_STEPS = 50


def now(request) -> datetime:
    """The current time by the application's clock (``registry["ecti.clock"]``, else UTC now)."""
    clock: Callable[[], datetime] = request.registry.get(CLOCK_KEY, utcnow)
    return clock()


@dataclass(frozen=True)
class NodeOutcome:
    """What a node decided: instructions for the carrier, then an exit to follow or not.

    ``branch`` is what the ``flow_step`` event records (the exit by default); ``detail`` adds
    JSON-serialisable facts (the schedule's reason, the digits pressed, the dial status).
    """

    instructions: tuple = ()
    exit: str | None = None
    branch: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def follow(cls, exit: str, *instructions, branch: str | None = None, **detail) -> "NodeOutcome":
        """Play ``instructions`` (if any), then continue at the node on ``exit``."""
        return cls(tuple(instructions), exit, branch or exit, detail)

    @classmethod
    def wait(cls, *instructions, branch: str | None = None, **detail) -> "NodeOutcome":
        """Give the carrier ``instructions`` that come back to this node (``ctx.here()``)."""
        return cls(tuple(instructions), None, branch, detail)

    @classmethod
    def end(cls, *instructions, branch: str | None = None, **detail) -> "NodeOutcome":
        """Play ``instructions`` and hang up."""
        return cls((*instructions, Hangup()), None, branch, detail)


@dataclass
class NodeContext:
    """What a node type gets when a call reaches it (``run``) or comes back (``resume``)."""

    request: Any
    call: Call
    tenant: Tenant
    flow: Flow
    node: dict
    #: The arguments of the continuation that brought the call back (``{}`` in ``run``).
    args: Mapping[str, str]
    now: datetime

    @property
    def db(self):
        return self.request.db

    @property
    def registry(self):
        return self.request.registry

    def here(self, **args) -> Continuation:
        """A continuation back to this node's ``resume``, with extra string ``args``."""
        return Continuation(RESUME, {"flow": str(self.flow.id), "node": self.node["id"], **{k: str(v) for k, v in args.items()}})

    def prompt(self, ref) -> list:
        """The instructions that play a prompt reference (``{"text": …}`` / ``{"prompt_id": …}``)."""
        return prompt_instructions(self.request, self.tenant, ref)

    def say(self, message) -> Say:
        """A system message (a translation string) in the tenant's language."""
        return say(self.tenant, message)


def start_flow(request, call: Call, flow: Flow) -> list:
    """The call enters ``flow`` at its start node."""
    return continue_flow(request, call, flow, flow.start)


def continue_flow(request, call: Call, flow: Flow, node_id: str) -> list:
    """Run ``flow`` from ``node_id`` (the ACD's overflow to a flow node uses this too)."""
    node = flow.node(node_id)
    if node is None:
        return _apologise(request, call, flow, node_id, "node_missing")
    ctx = _context(request, call, flow, node, {})
    return _walk(ctx, lambda node_type, settings: node_type.run(ctx, settings))


def resume(request, call: Call, args, call_input) -> list:
    """The ``ivr.resume`` handler: the carrier came back to a node."""
    tenant = request.db.get(Tenant, call.tenant_id)
    flow = request.db.get(Flow, _int(args.get("flow")))
    if flow is None:
        log.warning("call %s came back to flow %s, which no longer exists", call.carrier_call_id, args.get("flow"))
        record_event(request, call, EventKind.flow_step, flow=_int(args.get("flow")), node=args.get("node"), branch="error", error="flow_missing")
        return [say(tenant, _("We are sorry, a system error occurred. Please call again later.")), Hangup()]
    node = flow.node(args.get("node", ""))
    if node is None:
        # The flow was edited during the call: start it again rather than leave the caller.
        record_event(request, call, EventKind.flow_step, flow=flow.id, node=args.get("node"), branch="restart", error="node_missing")
        return start_flow(request, call, flow)
    ctx = _context(request, call, flow, node, dict(args))
    return _walk(ctx, lambda node_type, settings: node_type.resume(ctx, settings, call_input))


def inbound_entry(request, call: Call, args, call_input) -> list:
    """The inbound entry (``inbound.start``): run the flow assigned to the called number."""
    number = request.db.get(PhoneNumber, _int(args.get("number")))
    flow = request.db.get(Flow, number.flow_id) if number is not None and number.flow_id else None
    if flow is None:
        return not_in_service(request, call, args, call_input)
    return start_flow(request, call, flow)


def node_entry(request, call: Call, args, call_input) -> list:
    """``ivr.node`` {"node": "FLOW_ID" or "FLOW_ID:NODE_ID"}: the ACD's overflow into a flow."""
    flow_id, _sep, node_id = str(args.get("node", "")).partition(":")
    flow = request.db.get(Flow, _int(flow_id))
    if flow is None:
        tenant = request.db.get(Tenant, call.tenant_id)
        record_event(request, call, EventKind.flow_step, flow=_int(flow_id), node=node_id or None, branch="error", error="flow_missing")
        return [say(tenant, _("We are sorry, a system error occurred. Please call again later.")), Hangup()]
    return continue_flow(request, call, flow, node_id or flow.start)


def _context(request, call, flow, node, args) -> NodeContext:
    return NodeContext(request, call, request.db.get(Tenant, call.tenant_id), flow, node, args, now(request))


def _walk(ctx: NodeContext, first: Callable) -> list:
    """Run nodes from ``ctx.node`` (its outcome from ``first``) until one waits or ends."""
    instructions: list = []
    step = first
    for _step in range(MAX_STEPS):
        node = ctx.node
        node_type = ctx.registry.ecti.ivr_node_types.get(node.get("type"))
        if node_type is None:
            log.error("flow %s node %s has the unknown type %r", ctx.flow.id, node.get("id"), node.get("type"))
            return instructions + _apologise(ctx.request, ctx.call, ctx.flow, node.get("id"), "unknown_node_type")
        try:
            # A savepoint: a node that fails leaves the session usable for the apology. A node
            # type that writes nothing (``read_only``) has nothing to undo and runs without one.
            with nullcontext() if getattr(node_type, "read_only", False) else ctx.db.begin_nested():
                outcome = step(node_type, node.get("settings") or {})
        except Exception:  # a node (possibly a plugin's) failed: the caller must still hear something
            log.exception("flow %s node %s (%s) failed on call %s", ctx.flow.id, node.get("id"), node.get("type"), ctx.call.carrier_call_id)
            return instructions + _apologise(ctx.request, ctx.call, ctx.flow, node.get("id"), "node_failed")
        record_event(
            ctx.request, ctx.call, EventKind.flow_step,
            flow=ctx.flow.id, flow_name=ctx.flow.name, node=node["id"], type=node["type"], branch=outcome.branch, **dict(outcome.detail),
        )
        instructions.extend(outcome.instructions)
        if outcome.exit is None:
            return instructions
        target = (node.get("next") or {}).get(outcome.exit)
        if not target or ctx.flow.node(target) is None:
            # An exit left unconnected ends the call there.
            return instructions + [Hangup()]
        ctx = NodeContext(ctx.request, ctx.call, ctx.tenant, ctx.flow, ctx.flow.node(target), {}, ctx.now)
        step = _runner(ctx)
    log.error("flow %s ran more than %d steps on call %s", ctx.flow.id, MAX_STEPS, ctx.call.carrier_call_id)
    return instructions + _apologise(ctx.request, ctx.call, ctx.flow, ctx.node.get("id"), "too_many_steps")


def _runner(ctx: NodeContext) -> Callable:
    return lambda node_type, settings: node_type.run(ctx, settings)


def _apologise(request, call, flow, node_id, error: str) -> list:
    tenant = request.db.get(Tenant, call.tenant_id)
    record_event(request, call, EventKind.flow_step, flow=flow.id, flow_name=flow.name, node=node_id, branch="error", error=error)
    return [say(tenant, _("We are sorry, a system error occurred. Please call again later.")), Hangup()]


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
