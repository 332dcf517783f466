"""Queues and their members: validation and changes shared by the API, the console and the
IVR (which checks that a flow's queue node names a queue of the tenant)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..errors import UserError
from ..i18n import _
from ..tenancy.models import Role, User
from ..models.meta import utcnow
from .models import EntryStatus, Queue, QueueEntry, QueueMember

OVERFLOW_KINDS = ("hangup", "voicemail", "queue", "flow", "number")

#: Queue options, their bounds, and the field names the API and the console use.
LIMITS = {
    "ring_timeout": (5, 120),
    "wrap_up_seconds": (0, 3600),
    "escalation_seconds": (0, 3600),
    "max_wait_seconds": (10, 24 * 3600),
    "max_length": (1, 10000),
    "max_no_answers": (1, 100),
    "service_level_seconds": (1, 3600),
    "announce_seconds": (0, 3600),
    "callback_retry_seconds": (60, 24 * 3600),
    "callback_attempts": (1, 10),
}
#: The keys a caller may be asked to press for a callback.
CALLBACK_KEYS = tuple("0123456789*#")

#: The wallboard's colour thresholds (amber, red) of each figure: its label, bounds, and whether
#: a higher value is worse (calls waiting, longest wait) or a lower one (service level, percent).
WALLBOARD_FIGURES = {
    "waiting": (_("Calls waiting"), 1, 1000, "higher"),
    "wait": (_("Longest wait (seconds)"), 1, 24 * 3600, "higher"),
    "service_level": (_("Service level (%)"), 0, 100, "lower"),
}
#: Their fields on a queue (API, console form, configuration file): ``wallboard_<figure>_<amber|red>``.
WALLBOARD_FIELDS = tuple(f"wallboard_{figure}_{colour}" for figure in WALLBOARD_FIGURES for colour in ("amber", "red"))
WALLBOARD_DEFAULTS = {"waiting": (3, 6), "wait": (30, 60), "service_level": (80, 60)}


def live_queues():
    """``select(Queue)`` of the queues in use (not archived), by name."""
    return select(Queue).where(Queue.archived_at.is_(None)).order_by(Queue.name)


def find_queue(session, queue_id) -> Queue | None:
    """The queue ``queue_id`` of the session's tenant, or None (also for archived queues and
    ids that are not numbers)."""
    try:
        key = int(queue_id)
    except (TypeError, ValueError):
        return None
    return session.scalar(select(Queue).where(Queue.id == key, Queue.archived_at.is_(None)))


def queue_by_name(session, name: str) -> Queue | None:
    return session.scalar(select(Queue).where(Queue.name == name, Queue.archived_at.is_(None)))


def validate_queue_ref(session, queue_id) -> Queue:
    """For the IVR and config import: the queue a flow node names, or a clear error."""
    queue = find_queue(session, queue_id)
    if queue is None:
        raise UserError("unknown_queue", _("There is no queue with the id ${id}.", mapping={"id": queue_id}), field="queue", status=422)
    return queue


@dataclass
class QueueSettings:
    """Everything an admin sets on a queue (API body and console form alike)."""

    name: str
    strategy: str = "longest_idle"
    ring_timeout: int = 20
    wrap_up_seconds: int = 30
    escalation_seconds: int = 30
    max_wait_seconds: int | None = None
    max_length: int | None = None
    overflow: dict[str, Any] = field(default_factory=dict)
    join_when_empty: bool = False
    leave_when_empty: bool = True
    max_no_answers: int = 3
    service_level_seconds: int = 20
    hold_audio: dict[str, Any] = field(default_factory=dict)
    announce_seconds: int = 60
    announce_position: bool = True
    announce_wait: bool = True
    callback_enabled: bool = False
    callback_key: str = "9"
    callback_retry_seconds: int = 600
    callback_attempts: int = 3
    callback_schedule_id: int | None = None
    wallboard_waiting_amber: int = WALLBOARD_DEFAULTS["waiting"][0]
    wallboard_waiting_red: int = WALLBOARD_DEFAULTS["waiting"][1]
    wallboard_wait_amber: int = WALLBOARD_DEFAULTS["wait"][0]
    wallboard_wait_red: int = WALLBOARD_DEFAULTS["wait"][1]
    wallboard_service_level_amber: int = WALLBOARD_DEFAULTS["service_level"][0]
    wallboard_service_level_red: int = WALLBOARD_DEFAULTS["service_level"][1]


@dataclass(frozen=True)
class MemberSetting:
    user_id: int
    level: int = 1
    #: The member's place in the queue's order; None: their place in the list (1, 2, …).
    position: int | None = None


def check_settings(request, settings: QueueSettings, *, queue: Queue | None = None) -> None:
    name = (settings.name or "").strip()
    if not name:
        raise UserError("name_required", _("Enter the queue's name."), field="name", status=422)
    if len(name) > 100:
        raise UserError("name_too_long", _("A queue's name has at most 100 characters."), field="name", status=422)
    settings.name = name
    if settings.strategy not in request.registry.ecti.routing_strategies:
        raise UserError("unknown_strategy", _("Choose one of the routing strategies offered."), field="strategy", status=422)
    for key, (low, high) in LIMITS.items():
        value = getattr(settings, key)
        if value is None and key in ("max_wait_seconds", "max_length"):
            continue
        if not isinstance(value, int) or not low <= value <= high:
            raise UserError("out_of_range", _("${field} must be between ${low} and ${high}.", mapping={"field": key, "low": low, "high": high}),
                            field=key, status=422)
    check_wallboard_thresholds(settings, request.localizer.translate)
    if settings.callback_key not in CALLBACK_KEYS:
        raise UserError("bad_callback_key", _("The callback key is one of 0–9, * or #."), field="callback_key", status=422)
    if settings.callback_schedule_id is not None:
        from ..ivr.models import Schedule

        # A query, not Session.get: the tenant's scope applies (another company's schedule is unknown).
        if request.db.scalar(select(Schedule.id).where(Schedule.id == settings.callback_schedule_id)) is None:
            raise UserError("unknown_schedule", _("Choose one of the company's schedules for the callback hours."),
                            field="callback_schedule_id", status=422)
    kind = (settings.overflow or {}).get("kind") or "hangup"
    target = str((settings.overflow or {}).get("target") or "").strip()
    if kind not in OVERFLOW_KINDS:
        raise UserError("unknown_overflow", _("Choose where calls go when the queue overflows."), field="overflow", status=422)
    if kind == "queue":
        other = find_queue(request.db, target)
        if other is None or (queue is not None and other.id == queue.id):
            raise UserError("bad_overflow_queue", _("The overflow queue must be another queue of the company."), field="overflow", status=422)
    if kind == "number":
        from ..telephony.numbering import NumberError, to_e164

        try:
            target = to_e164(target)
        except NumberError as err:
            raise UserError(err.code, err.message, field="overflow", status=422)
    if kind == "flow" and not target:
        raise UserError("overflow_target_required", _("Name the flow node calls go to."), field="overflow", status=422)
    settings.overflow = {"kind": kind, "target": target} if kind != "hangup" else {"kind": "hangup"}
    check_hold_audio(request, settings.hold_audio)


#: What a hold-audio reference may hold: a prompt of the company's library, or text and a voice.
HOLD_AUDIO_KEYS = {"prompt_id", "text", "voice"}


def check_hold_audio(request, ref) -> None:
    """Hold audio is empty, a prompt of this company, or text to speak — like a flow's prompt
    references; another company's prompt id or any other JSON is refused."""
    from ..prompts import check_prompt_ref

    if ref in (None, {}):
        return
    if not isinstance(ref, dict) or not set(ref) <= HOLD_AUDIO_KEYS or ("prompt_id" in ref) == ("text" in ref):
        raise UserError("bad_hold_audio", _("Hold audio is either a prompt of the library or a text to speak."), field="hold_audio", status=422)
    try:
        check_prompt_ref(request, request.tenant, ref)
    except UserError as err:
        raise UserError(err.code, err.message, field="hold_audio", status=422) from None


def check_wallboard_thresholds(settings: QueueSettings, translate) -> None:
    """Each threshold a whole number within its bounds, and red no better than amber (the
    figure's and the colour's names are translated now: a message's mapping is not)."""
    colours = {"amber": translate(_("amber")), "red": translate(_("red"))}
    for figure, (name, low, high, worse) in WALLBOARD_FIGURES.items():
        label = translate(name)
        for colour in ("amber", "red"):
            key = f"wallboard_{figure}_{colour}"
            value = getattr(settings, key)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise UserError("bad_wallboard_threshold", _(
                    "Wallboard colours, ${figure}: the ${colour} threshold must be a whole number from ${low} to ${high}.",
                    mapping={"figure": label, "colour": colours[colour], "low": low, "high": high}), field=key, status=422)
        amber, red = getattr(settings, f"wallboard_{figure}_amber"), getattr(settings, f"wallboard_{figure}_red")
        if (worse == "higher" and red < amber) or (worse == "lower" and red > amber):
            message = (_("Wallboard colours, ${figure}: red must start at or above amber (amber ${amber}, red ${red}).", mapping={"figure": label, "amber": amber, "red": red})
                       if worse == "higher" else
                       _("Wallboard colours, ${figure}: red must start at or below amber (amber ${amber}, red ${red}).", mapping={"figure": label, "amber": amber, "red": red}))
            raise UserError("wallboard_thresholds_order", message, field=f"wallboard_{figure}_red", status=422)


def apply_settings(queue: Queue, settings: QueueSettings) -> None:
    for key, value in settings.__dict__.items():
        setattr(queue, key, value)


def save_queue(request, settings: QueueSettings, *, queue: Queue | None = None) -> Queue:
    """Create (``queue`` None) or change a queue; a duplicate name is a clear error."""
    check_settings(request, settings, queue=queue)
    clash = queue_by_name(request.db, settings.name)
    if clash is not None and clash is not queue:
        raise UserError("duplicate_queue", _("A queue named ${name} exists already.", mapping={"name": settings.name}), field="name", status=409)
    if queue is None:
        queue = Queue(tenant_id=request.tenant.id)
        request.db.add(queue)
    apply_settings(queue, settings)
    try:
        with request.db.begin_nested():
            request.db.flush()
    except IntegrityError:
        raise UserError("duplicate_queue", _("A queue named ${name} exists already.", mapping={"name": settings.name}), field="name", status=409)
    return queue


def set_members(request, queue: Queue, members: Sequence[MemberSetting]) -> None:
    """Replace the queue's members; every one must be an agent, supervisor or admin of the tenant."""
    seen = set()
    for index, member in enumerate(members):
        user = request.db.scalar(select(User).where(User.id == member.user_id))
        if user is None or user.role is Role.operator or not user.is_active:
            raise UserError("unknown_member", _("User ${id} is not an active user of the company.", mapping={"id": member.user_id}),
                            field=f"members.{index}.user_id", status=422)
        if member.user_id in seen:
            raise UserError("duplicate_member", _("${name} is listed twice.", mapping={"name": user.display_name}),
                            field=f"members.{index}.user_id", status=422)
        if not 1 <= member.level <= 9:
            raise UserError("bad_level", _("A level is between 1 and 9."), field=f"members.{index}.level", status=422)
        seen.add(member.user_id)
    request.db.execute(delete(QueueMember).where(QueueMember.queue_id == queue.id))
    for index, member in enumerate(members):
        request.db.add(QueueMember(tenant_id=queue.tenant_id, queue_id=queue.id, user_id=member.user_id, level=member.level,
                                   position=index + 1 if member.position is None else member.position))
    request.db.flush()
    request.db.expire(queue, ["members"])


def delete_queue(request, queue: Queue) -> None:
    """Archive the queue: gone from lists, routing and flows, its name free again; its past
    entries stay (reports, call history). Refused while calls are in it or something routes
    calls to it (a flow's queue node, another queue's overflow)."""
    busy = request.db.scalar(
        select(QueueEntry.id).where(QueueEntry.queue_id == queue.id, QueueEntry.status != EntryStatus.ended).limit(1)
    )
    if busy is not None:
        raise UserError("queue_in_use", _("Calls are waiting in or connected through this queue. Try again when it is empty."), status=409)
    from ..ivr.services import flows_referring

    flows = flows_referring(request.db, request.registry, "queue", queue.id)
    if flows:
        raise UserError("queue_in_flows", _("The flows ${flows} send calls to this queue; change them first.", mapping={"flows": ", ".join(flows)}), status=409)
    feeding = [q.name for q in request.db.scalars(live_queues()) if (q.overflow or {}).get("kind") == "queue" and str((q.overflow or {}).get("target")) == str(queue.id)]
    if feeding:
        raise UserError("queue_is_overflow", _("The queues ${queues} overflow into this queue; change them first.", mapping={"queues": ", ".join(feeding)}), status=409)
    request.db.execute(delete(QueueMember).where(QueueMember.queue_id == queue.id))
    queue.archived_at = utcnow()
    request.db.flush()
    request.db.expire(queue, ["members"])
