"""The voicemail inbox (listen, mark heard, delete, call back), box settings, and the JSON API.

Who sees a message: users with the ``recordings`` permission (admins, supervisors) see every
box of the company; an agent sees the boxes that are theirs or name them as a recipient.
"""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from ..acd.models import Queue
from ..api import API_PREFIX, api_view
from ..calls.models import Recording
from ..errors import UserError
from ..i18n import _
from ..ivr.models import VoicemailBox, VoicemailMessage
from ..models.meta import utcnow
from ..recordings.services import MAX_RECORDING_SECONDS, delete_at_carrier
from ..telephony.numbering import display_number
from ..tenancy.models import Role, Tenant, User
from ..web import flash, get_or_404

TEMPLATES = "ecti:voicemail/templates/"


def visible_boxes(request) -> list[VoicemailBox]:
    boxes = request.db.scalars(select(VoicemailBox).order_by(VoicemailBox.name)).all()
    if request.has_permission("recordings"):
        return list(boxes)
    me = request.identity.id
    return [b for b in boxes if b.user_id == me or me in (b.recipient_user_ids or [])]


def visible_messages(request, box_id: int | None = None, limit: int = 200) -> list[VoicemailMessage]:
    boxes = {b.id for b in visible_boxes(request)}
    if box_id is not None:
        boxes &= {box_id}
    if not boxes:
        return []
    return list(request.db.scalars(
        select(VoicemailMessage).where(VoicemailMessage.box_id.in_(boxes), VoicemailMessage.deleted_at.is_(None))
        .order_by(VoicemailMessage.created_at.desc(), VoicemailMessage.id.desc()).limit(limit)
    ))


def message_for(request, id_) -> VoicemailMessage:
    message = get_or_404(request, VoicemailMessage, id_)
    if message.deleted_at is not None or message.box_id not in {b.id for b in visible_boxes(request)}:
        raise HTTPNotFound()
    return message


def callback_url(request, message) -> str | None:
    return request.route_path("softphone", _query={"dial": message.from_number}) if message.from_number else None


def delete_message(request, message: VoicemailMessage) -> None:
    """Delete the recording at the carrier, then the message (both kept when the carrier fails)."""
    recording = request.db.get(Recording, message.recording_ref_id) if message.recording_ref_id else None
    if recording is not None and recording.deleted_at is None:
        delete_at_carrier(request.registry, request.db, request.db.get(Tenant, message.tenant_id), recording)
    message.deleted_at = message.deleted_at or utcnow()


# --- console -------------------------------------------------------------------------------------

def _inbox_context(request):
    boxes = visible_boxes(request)
    try:
        box_id = int(request.GET["box"]) if request.GET.get("box") else None
    except ValueError:
        box_id = None
    return {
        "boxes": boxes, "names": {b.id: b.name for b in boxes}, "box_id": box_id,
        "messages": visible_messages(request, box_id), "callback_url": callback_url,
    }


@view_config(route_name="voicemail.inbox", request_method="GET", permission="softphone", renderer=TEMPLATES + "inbox.jinja2")
def inbox(request):
    return _inbox_context(request)


@view_config(route_name="voicemail.message", request_method="GET", permission="softphone", renderer=TEMPLATES + "message.jinja2")
def message_page(request):
    message = message_for(request, request.matchdict["id"])
    return {
        "message": message, "box": request.db.get(VoicemailBox, message.box_id),
        "callback_url": callback_url(request, message),
    }


@view_config(route_name="voicemail.heard", request_method="POST", permission="softphone")
def mark_heard(request):
    message = message_for(request, request.matchdict["id"])
    heard = request.POST.get("heard", "1") == "1"
    message.heard_at = (message.heard_at or utcnow()) if heard else None
    return HTTPSeeOther(request.route_url("voicemail.message", id=message.id) if request.POST.get("back") == "message"
                        else request.route_url("voicemail.inbox"))


@view_config(route_name="voicemail.delete", request_method="GET", permission="softphone", renderer=TEMPLATES + "delete.jinja2")
def delete_confirm(request):
    message = message_for(request, request.matchdict["id"])
    return {"message": message, "error": None}


@view_config(route_name="voicemail.delete", request_method="POST", permission="softphone", renderer=TEMPLATES + "delete.jinja2")
def delete_view(request):
    message = message_for(request, request.matchdict["id"])
    try:
        delete_message(request, message)
    except UserError as err:
        request.response.status_int = err.status
        return {"message": message, "error": err.message}
    flash(request, _("The voicemail message has been deleted."))
    return HTTPSeeOther(request.route_url("voicemail.inbox"))


# --- boxes (admins) ------------------------------------------------------------------------------

def _box_context(request, box, error=None):
    users = request.db.scalars(select(User).where(User.is_active.is_(True), User.role != Role.operator).order_by(User.display_name)).all()
    return {
        "box": box, "users": users, "queues": request.db.scalars(select(Queue).order_by(Queue.name)).all(),
        "error": error, "max_seconds": 600,
    }


@view_config(route_name="voicemail.box", request_method="GET", permission="manage", renderer=TEMPLATES + "box.jinja2")
def box_page(request):
    return _box_context(request, get_or_404(request, VoicemailBox, request.matchdict["id"]))


@view_config(route_name="voicemail.box", request_method="POST", permission="manage", renderer=TEMPLATES + "box.jinja2")
def box_save(request):
    box = get_or_404(request, VoicemailBox, request.matchdict["id"])
    post = request.POST
    try:
        update_box(
            request.db, box, greeting=post.get("greeting", ""), max_length=post.get("max_length", ""),
            queue_id=post.get("queue_id", ""), user_id=post.get("user_id", ""),
            recipient_user_ids=post.getall("recipient_user_ids"), recipient_emails=post.get("recipient_emails", ""),
            attach_audio=post.get("attach_audio") == "on",
        )
    except UserError as err:
        request.response.status_int = err.status
        return _box_context(request, box, err.message)
    flash(request, _("The voicemail box has been saved."))
    return HTTPSeeOther(request.route_url("voicemail.box", id=box.id))


def _optional_id(session, model, value, field: str):
    if value in ("", None):
        return None
    try:
        found = session.scalar(select(model.id).where(model.id == int(value)))
    except ValueError:
        found = None
    if found is None:
        raise UserError(f"{field}_unknown", _("Choose an entry from the list."), field=field, status=422)
    return found


def update_box(session, box, *, greeting: str, max_length, queue_id, user_id, recipient_user_ids, recipient_emails: str, attach_audio: bool):
    """Check everything first, then change the box (a refused form changes nothing)."""
    try:
        length = int(max_length)
    except (TypeError, ValueError):
        length = 0
    if not 5 <= length <= 600:
        raise UserError("max_length_invalid", _("The maximum length is between 5 and 600 seconds."), field="max_length", status=422)
    queue = _optional_id(session, Queue, queue_id, "queue_id")
    owner = _optional_id(session, User, user_id, "user_id")
    users = [_optional_id(session, User, v, "recipient_user_ids") for v in recipient_user_ids if v]
    emails = [e.strip() for e in recipient_emails.replace(",", "\n").splitlines() if e.strip()]
    bad = [e for e in emails if "@" not in e or " " in e or len(e) > 254 or e.startswith("@") or e.endswith("@")]
    if bad:
        raise UserError("email_invalid", _("Not an e-mail address: ${address}", mapping={"address": bad[0]}), field="recipient_emails", status=422)
    greeting = greeting.strip()
    if len(greeting) > 500:
        raise UserError("greeting_too_long", _("The greeting is at most 500 characters."), field="greeting", status=422)
    box.greeting = {"text": greeting} if greeting else None
    box.max_length = min(length, MAX_RECORDING_SECONDS)
    box.queue_id, box.user_id = queue, owner
    box.recipient_user_ids = sorted(set(users))
    box.recipient_emails = list(dict.fromkeys(emails))
    box.attach_audio = attach_audio


# --- JSON API ------------------------------------------------------------------------------------

class VoicemailOut(BaseModel):
    id: int
    box_id: int
    box_name: str
    from_number: str
    #: The caller as people in Japan write it ("090-1234-5678").
    from_display: str
    received_at: datetime
    duration_seconds: int | None
    heard: bool
    #: Play it here (``recording_media``); null while the recording is not available.
    media_url: str | None
    #: Opens the softphone with the caller's number.
    callback_url: str | None


class VoicemailList(BaseModel):
    messages: list[VoicemailOut]


class HeardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    heard: bool = True


def voicemail_out(request, message, names) -> VoicemailOut:
    recording = request.db.get(Recording, message.recording_ref_id) if message.recording_ref_id else None
    return VoicemailOut(
        id=message.id, box_id=message.box_id, box_name=names.get(message.box_id, ""), from_number=message.from_number,
        from_display=display_number(message.from_number), received_at=message.created_at,
        duration_seconds=message.duration_seconds, heard=message.heard_at is not None,
        media_url=request.route_url("recording_media", id=recording.id) if recording is not None and recording.playable else None,
        callback_url=callback_url(request, message),
    )


def _names(request):
    return {b.id: b.name for b in visible_boxes(request)}


@api_view("api.voicemail", method="GET", summary="Voicemail messages the signed-in user may hear, newest first",
          permission="softphone", response=VoicemailList, tags=("voicemail",))
def api_voicemail(request):
    names = _names(request)
    return VoicemailList(messages=[voicemail_out(request, m, names) for m in visible_messages(request)])


@api_view("api.voicemail_heard", method="POST", summary="Mark a voicemail message heard (or unheard again)",
          permission="softphone", body=HeardIn, response=VoicemailOut, tags=("voicemail",), errors=(404,))
def api_voicemail_heard(request, body: HeardIn):
    message = message_for(request, request.matchdict["id"])
    message.heard_at = (message.heard_at or utcnow()) if body.heard else None
    return voicemail_out(request, message, _names(request))


@api_view("api.voicemail_message", method="DELETE", summary="Delete a voicemail message, and its recording at the carrier",
          permission="softphone", status=204, tags=("voicemail",), errors=(404, 502))
def api_voicemail_delete(request):
    delete_message(request, message_for(request, request.matchdict["id"]))


def includeme(config):
    config.add_route("voicemail.inbox", "/voicemail")
    config.add_route("voicemail.message", "/voicemail/{id:\\d+}")
    config.add_route("voicemail.heard", "/voicemail/{id:\\d+}/heard")
    config.add_route("voicemail.delete", "/voicemail/{id:\\d+}/delete")
    config.add_route("voicemail.box", "/voicemail/boxes/{id:\\d+}")
    config.add_route("api.voicemail", f"{API_PREFIX}/voicemail/messages")
    config.add_route("api.voicemail_message", f"{API_PREFIX}/voicemail/messages/{{id:\\d+}}")
    config.add_route("api.voicemail_heard", f"{API_PREFIX}/voicemail/messages/{{id:\\d+}}/heard")
    config.add_console_nav("voicemail.inbox", _("Voicemail inbox"), group="calls", permission="softphone", order=20)
