"""The bundled IVR node types, registered through ``ecti_ivr_node_types`` like a plugin's.

Each follows :class:`ecti.interfaces.IVRNodeType`: ``settings_schema`` (checked before a flow
is saved), ``exits(settings)``, ``run(ctx, settings)`` and ``resume(ctx, settings, call_input)``
returning :class:`~ecti.ivr.engine.NodeOutcome`. ``docs/ivr.md`` describes each for admins.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..i18n import _
from ..telephony.numbering import NumberError, check_outbound
from ..voice import UnknownHandler, dispatch
from ..voice.instructions import CallInput, Dial, DialTarget, Gather
from .engine import NodeOutcome
from .models import ActiveForward, Schedule, VoicemailBox
from .schedules import decide

#: A prompt reference in a node's settings (see :mod:`ecti.prompts`).
PROMPT_SCHEMA = {
    "type": "object",
    "x-ecti-prompt": True,
    "properties": {
        "text": {"type": "string", "maxLength": 500},
        "prompt_id": {"type": "integer", "minimum": 1},
        "voice": {"type": "object"},
    },
    "additionalProperties": False,
}
#: The continuation handler of the ACD that puts a call into a queue (issue 6).
ENQUEUE = "acd.enqueue"
#: How long a forward keeps its destination busy when no callback ever frees it.
FORWARD_LEASE = timedelta(hours=4)


def _schema(properties: dict, required=()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


class Announcement:
    """Play a prompt, then go on."""

    name = "announcement"
    read_only = True  # writes nothing: the engine needs no savepoint
    label = _("Announcement")
    settings_schema = _schema({"prompt": PROMPT_SCHEMA}, required=["prompt"])

    def exits(self, settings):
        return ["next"]

    def run(self, ctx, settings):
        return NodeOutcome.follow("next", *ctx.prompt(settings.get("prompt")))


class ScheduleBranch:
    """Branch by business hours: ``open``, ``closed`` or ``holiday`` (``closed`` when the
    holiday exit is not connected)."""

    name = "schedule"
    read_only = True  # writes nothing: the engine needs no savepoint
    label = _("Business hours")
    settings_schema = _schema({"schedule": {"type": "integer", "minimum": 1, "x-ecti-ref": "schedule"}}, required=["schedule"])

    def exits(self, settings):
        return ["open", "closed", "holiday"]

    def run(self, ctx, settings):
        schedule = ctx.db.get(Schedule, settings["schedule"])
        decision = decide(ctx.db, ctx.registry.ecti.holiday_calendars, schedule, ctx.tenant.time_zone, ctx.now)
        exit = decision.branch
        if exit == "holiday" and not (ctx.node.get("next") or {}).get("holiday"):
            exit = "closed"
        return NodeOutcome.follow(exit, reason=decision.reason, local_time=decision.local_time.isoformat(), **decision.detail)


class Menu:
    """"Press 1 for …": a prompt, then each digit leads to its node; an invalid key and silence
    each have their own prompt, the menu is repeated ``retries`` times, then ``fallback``."""

    name = "menu"
    read_only = True  # writes nothing: the engine needs no savepoint
    label = _("Menu")
    collects_input = True
    settings_schema = _schema(
        {
            "prompt": PROMPT_SCHEMA,
            "digits": {"type": "array", "items": {"type": "string", "pattern": "^[0-9*#]$"}, "minItems": 1, "maxItems": 12},
            "invalid_prompt": PROMPT_SCHEMA,
            "no_input_prompt": PROMPT_SCHEMA,
            "retries": {"type": "integer", "minimum": 0, "maximum": 5},
            "timeout": {"type": "integer", "minimum": 1, "maximum": 30},
        },
        required=["prompt", "digits"],
    )

    def exits(self, settings):
        return [*settings.get("digits", []), "fallback"]

    def required_exits(self, settings):
        return list(settings.get("digits", []))

    def check(self, settings, checker):
        digits = settings.get("digits", [])
        return [
            _("The digit ${digit} is used twice.", mapping={"digit": digit})
            for digit in sorted({d for d in digits if digits.count(d) > 1})
        ]

    def run(self, ctx, settings):
        return NodeOutcome.wait(self._gather(ctx, settings, attempt=1), branch="prompt")

    def resume(self, ctx, settings, call_input):
        digits = (call_input.digits or "").strip()
        if digits in settings["digits"]:
            return NodeOutcome.follow(digits, digits=digits)
        attempt = int(ctx.args.get("attempt", "1"))
        problem = "invalid" if digits else "no_input"
        ref = settings.get(f"{problem}_prompt")
        if ref:
            sorry = ctx.prompt(ref)
        elif digits:
            sorry = [ctx.say(_("Sorry, that is not a valid choice."))]
        else:
            sorry = [ctx.say(_("We did not receive your choice."))]
        if attempt > settings.get("retries", 2):
            return NodeOutcome.follow("fallback", *sorry, branch="fallback", reason=problem, attempt=attempt, digits=digits)
        return NodeOutcome.wait(*sorry, self._gather(ctx, settings, attempt=attempt + 1), branch=problem, attempt=attempt, digits=digits)

    def _gather(self, ctx, settings, *, attempt: int) -> Gather:
        return Gather(
            next=ctx.here(attempt=attempt),
            prompts=tuple(ctx.prompt(settings["prompt"])),
            num_digits=1,
            timeout=settings.get("timeout", 5),
            finish_on_key="" if "#" in settings["digits"] else "#",
        )


class QueueHandoff:
    """Hand the call to an ACD queue (the ACD's ``acd.enqueue`` handler takes it from there);
    ``fallback`` when no ACD can take it."""

    name = "queue"
    label = _("Queue")
    settings_schema = _schema({"queue": {"type": "integer", "minimum": 1, "x-ecti-ref": "queue"}}, required=["queue"])

    def exits(self, settings):
        return ["fallback"]

    def run(self, ctx, settings):
        queue = settings["queue"]
        try:
            instructions = dispatch(ctx.request, ctx.call, ENQUEUE, {"queue": str(queue)}, CallInput())
        except UnknownHandler:
            return NodeOutcome.follow("fallback", branch="unavailable", queue=queue)
        return NodeOutcome.wait(*instructions, branch="queued", queue=queue)


class Forward:
    """Ring external numbers (F-IVR-2, F-NUM-5). A number already on a call from a forward is
    not rung again: with none free the caller is disconnected, or sent to ``no_answer``."""

    name = "forward"
    label = _("Forward to external numbers")
    settings_schema = _schema(
        {
            "destinations": {
                "type": "array", "items": {"type": "string", "pattern": r"^\+[1-9][0-9]{6,14}$"}, "minItems": 1, "maxItems": 5,
                "x-ecti-phone": True,  # checked with the dialing rules from the flow's numbers
            },
            "timeout": {"type": "integer", "minimum": 5, "maximum": 120},
            "caller_id": {"enum": ["caller", "number"]},
            "when_in_use": {"enum": ["disconnect", "no_answer"]},
            "in_use_prompt": PROMPT_SCHEMA,
        },
        required=["destinations"],
    )

    def exits(self, settings):
        return ["no_answer"]

    def run(self, ctx, settings):
        claimed, refused = [], {}
        for destination in settings["destinations"]:
            try:
                check_outbound(ctx.call.to_number, destination)
            except NumberError as err:
                refused[destination] = err.code
                continue
            if claim_destination(ctx.db, ctx.call, destination, ctx.now):
                claimed.append(destination)
        if not claimed:
            branch = "in_use" if not refused else "refused"
            if branch == "in_use" and settings.get("when_in_use", "disconnect") == "disconnect":
                sorry = ctx.prompt(settings.get("in_use_prompt")) or [ctx.say(_("The line is busy. Please call again later."))]
                return NodeOutcome.end(*sorry, branch=branch)
            return NodeOutcome.follow("no_answer", branch=branch, refused=refused)
        caller_id = ctx.call.from_number if settings.get("caller_id", "caller") == "caller" else ctx.call.to_number
        dial = Dial([DialTarget("number", d) for d in claimed], next=ctx.here(), timeout=settings.get("timeout", 20), caller_id=caller_id)
        return NodeOutcome.wait(dial, branch="ringing", destinations=claimed)

    def resume(self, ctx, settings, call_input):
        release_destinations(ctx.db, ctx.call)
        status = call_input.dial_status or "failed"
        if status in ("completed", "answered"):
            return NodeOutcome.end(branch="answered", duration=call_input.dial_duration)
        return NodeOutcome.follow("no_answer", branch=status)


def claim_destination(session, call, destination: str, at) -> bool:
    """Mark ``destination`` as on a call from ``call``; False when another call has it."""
    session.execute(delete(ActiveForward).where(ActiveForward.destination == destination, ActiveForward.expires_at < at))
    holder = session.scalar(select(ActiveForward.call_id).where(ActiveForward.destination == destination))
    if holder is not None:
        return holder == call.id
    try:
        with session.begin_nested():
            session.add(ActiveForward(tenant_id=call.tenant_id, destination=destination, call_id=call.id, started_at=at, expires_at=at + FORWARD_LEASE))
    except IntegrityError:  # another process claimed it a moment ago
        return False
    return True


def release_destinations(session, call) -> None:
    """The forward of ``call`` ended: its destinations are free for the next caller."""
    session.execute(delete(ActiveForward).where(ActiveForward.call_id == call.id))


class Voicemail:
    """Play a greeting and record a message into a voicemail box."""

    name = "voicemail"
    label = _("Voicemail")
    settings_schema = _schema(
        {
            "box": {"type": "integer", "minimum": 1, "x-ecti-ref": "voicemail_box"},
            "greeting": PROMPT_SCHEMA,
            "max_length": {"type": "integer", "minimum": 5, "maximum": 600},
        },
        required=["box"],
    )

    def exits(self, settings):
        return []

    def run(self, ctx, settings):
        from ..voicemail.services import record_instructions

        box = ctx.db.get(VoicemailBox, settings["box"])
        # Without any audio the carrier skips the record's callback and runs the next instruction.
        instructions = record_instructions(
            ctx.request, ctx.call, box, ctx.here(), greeting=settings.get("greeting"), max_length=settings.get("max_length")
        )
        return NodeOutcome.wait(*instructions, branch="recording")

    def resume(self, ctx, settings, call_input):
        from ..voicemail.services import THANKS, save_message

        if not call_input.recording_id:
            return NodeOutcome.end(branch="no_message")
        save_message(ctx.request, ctx.call, ctx.db.get(VoicemailBox, settings["box"]), call_input)
        return NodeOutcome.end(ctx.say(THANKS), branch="recorded")


class HangupNode:
    """Optionally say something, then hang up."""

    name = "hangup"
    read_only = True  # writes nothing: the engine needs no savepoint
    label = _("Hang up")
    settings_schema = _schema({"prompt": PROMPT_SCHEMA})

    def exits(self, settings):
        return []

    def run(self, ctx, settings):
        return NodeOutcome.end(*ctx.prompt(settings.get("prompt")))


BUNDLED = (Announcement(), ScheduleBranch(), Menu(), QueueHandoff(), Forward(), Voicemail(), HangupNode())
