"""Recording a message into a box and saving it (shared by the IVR's voicemail node and the
ACD's overflow to voicemail, the ``voicemail.record`` call handler)."""
from __future__ import annotations

from sqlalchemy import select

from ..calls.events import record_event
from ..calls.models import EventKind
from ..calls.recordings import store_recording
from ..i18n import _
from ..ivr.models import VoicemailBox, VoicemailMessage
from ..models.meta import utcnow
from ..notifications.services import notify
from ..prompts import prompt_instructions
from ..recordings.services import MAX_RECORDING_SECONDS, recording_status
from ..tenancy.models import Role, Tenant, User
from ..voice import call_has_ended
from ..voice.calls import say
from ..voice.instructions import Continuation, Hangup, Record, Redirect

DEFAULT_GREETING = _("Please leave a message after the tone.")
THANKS = _("Thank you. Your message has been recorded.")


def record_instructions(request, call, box: VoicemailBox, here: Continuation, *, greeting=None, max_length: int | None = None) -> list:
    """Greeting, beep, record; the carrier comes back to ``here`` with the recording (or, with
    no audio at all, to ``here`` + ``silent=1``)."""
    tenant = request.db.get(Tenant, call.tenant_id)
    greeting_audio = prompt_instructions(request, tenant, greeting or box.greeting) or [say(tenant, DEFAULT_GREETING)]
    length = min(max_length or box.max_length or 120, MAX_RECORDING_SECONDS)
    record = Record(next=here, status=recording_status(call).with_args(purpose="voicemail"), max_length=length)
    return [*greeting_audio, record, Redirect(here.with_args(silent="1"))]


def save_message(request, call, box: VoicemailBox, call_input) -> VoicemailMessage | None:
    """Store the recording and the message (once, however often the carrier repeats itself),
    write the ``voicemail`` call event and queue the notifications, all in this transaction."""
    if not call_input.recording_id:
        return None
    recording = store_recording(request, call, call_input, purpose="voicemail")
    message = request.db.scalar(select(VoicemailMessage).where(VoicemailMessage.recording_id == call_input.recording_id))
    if message is not None:
        return message
    message = VoicemailMessage(
        tenant_id=call.tenant_id, box_id=box.id, call_id=call.id, from_number=call.from_number,
        recording_id=call_input.recording_id, recording_url=call_input.recording_url or "",
        duration_seconds=call_input.recording_duration, recording_ref_id=recording.id, created_at=utcnow(),
    )
    request.db.add(message)
    request.db.flush()
    record_event(
        request, call, EventKind.voicemail, box=box.id, box_name=box.name,
        recording_id=call_input.recording_id, duration=call_input.recording_duration,
    )
    notify(request, kind="voicemail.received", subject_id=message.id, tenant_id=call.tenant_id, recipients=recipients(request.db, box))
    return message


def recipients(session, box: VoicemailBox) -> list[tuple[str, str]]:
    """``(address, locale)`` of the box's recipients: its users (active ones, in their own
    language) and plain addresses (in the company's language); the owner agent is one too.

    A box nobody was chosen for (a new one) notifies the company's active administrators, so a
    message is never left unnoticed because the box was not set up yet."""
    tenant = session.get(Tenant, box.tenant_id)
    default = tenant.locale or "ja"
    user_ids = set(box.recipient_user_ids or []) | ({box.user_id} if box.user_id else set())
    found = []
    if user_ids:
        users = session.scalars(select(User).where(User.id.in_(user_ids), User.is_active.is_(True)).order_by(User.id))
        found += [(u.email, u.locale or default) for u in users]
    elif not box.recipient_emails:
        admins = session.scalars(select(User).where(
            User.tenant_id == box.tenant_id, User.role == Role.admin, User.is_active.is_(True)).order_by(User.id))
        found += [(u.email, u.locale or default) for u in admins]
    found += [(address, default) for address in box.recipient_emails or []]
    return found


def record_handler(request, call, args, call_input) -> list:
    """``voicemail.record`` {"target": box id, "queue"?}: the ACD's overflow to voicemail (with
    no box named, the box whose ``queue_id`` is the queue).

    First visit: greeting and record; back here with the recording: save it, thank, hang up.
    """
    if args.get("stage") != "recorded" and call_has_ended(call):
        return [Hangup()]  # only the message of a call that has ended is still saved
    tenant = request.db.get(Tenant, call.tenant_id)
    box = None
    try:
        box = request.db.scalar(select(VoicemailBox).where(VoicemailBox.id == int(args.get("target", ""))))
    except ValueError:
        pass
    if box is None and args.get("queue", "").isdigit():  # no box named: the queue's own box
        box = request.db.scalar(select(VoicemailBox).where(VoicemailBox.queue_id == int(args["queue"])).order_by(VoicemailBox.id))
    if box is None:
        return [say(tenant, _("We are sorry, nobody can take your call now. Please call again later.")), Hangup()]
    here = Continuation("voicemail.record", {k: v for k, v in args.items() if k in ("target", "queue")} | {"stage": "recorded"})
    if args.get("stage") != "recorded":
        return record_instructions(request, call, box, here)
    if args.get("silent") or not call_input.recording_id:
        return [Hangup()]
    save_message(request, call, box, call_input)
    return [say(tenant, THANKS), Hangup()]
