"""SMS in the console (conversations, sending, who is notified) and in the JSON API."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import view_config
from sqlalchemy import select

from ..api import API_PREFIX, api_view
from ..audit.tracking import record_change
from ..errors import UserError
from ..i18n import _
from ..telephony.numbering import NumberError, check_sms_destination, display_number
from ..tenancy.models import User
from ..web import flash, get_or_404
from .models import Message, MessageStatus
from .segments import MAX_SEGMENTS, count_segments, max_characters, normalise_body
from .services import (
    error_text,
    list_conversations,
    list_messages,
    notification_recipients,
    send_message,
    set_notification_recipients,
    sms_numbers,
)

PAGE_SIZE = 50

#: The caveat shown wherever delivery statuses are (F-PH-8: delivery is not guaranteed).
DELIVERY_CAVEAT = _(
    "Delivery reports are not guaranteed: Japanese mobile carriers often do not report whether an SMS "
    "arrived, so a message may stay \"Sent\" although it was delivered."
)


def _before(request) -> int | None:
    value = request.params.get("before", "")
    return int(value) if value.isdigit() else None


def _page(rows: list, key=lambda row: row.id) -> tuple[list, int | None]:
    """The first :data:`PAGE_SIZE` of ``rows`` (fetched one more), and ``?before=`` for the
    next, older page (None on the last page)."""
    page = rows[:PAGE_SIZE]
    return page, key(page[-1]) if len(rows) > PAGE_SIZE else None


_display = display_number


COUNTER = _("${characters} characters · ${segments} SMS (${encoding}) · ${remaining} more fit")
COUNTER_TOO_LONG = _(
    "${characters} characters · ${segments} SMS (${encoding}): too long, at most ${max_segments} SMS "
    "(${max_characters} characters)"
)
_COUNTER_FIELDS = ("characters", "segments", "encoding", "remaining", "max_segments", "max_characters")


def _counter(request, body: str) -> dict:
    """The counter under the message field: its text now, and templates for ``sms.js``."""
    count = count_segments(normalise_body(body))
    values = dict(
        characters=count.characters, segments=count.segments, encoding=count.encoding, remaining=count.remaining,
        max_segments=MAX_SEGMENTS, max_characters=max_characters(count.encoding),
    )
    placeholders = {name: "{%s}" % name for name in _COUNTER_FIELDS}
    translate = request.localizer.translate
    return {
        "text": translate(_(COUNTER_TOO_LONG if count.too_long else COUNTER, mapping=values)),
        "too_long": count.too_long,
        "max_segments": MAX_SEGMENTS,
        "template": translate(_(COUNTER, mapping=placeholders)),
        "template_too_long": translate(_(COUNTER_TOO_LONG, mapping=placeholders)),
    }


def _form_context(request, *, form: dict, errors: dict) -> dict:
    numbers = sms_numbers(request.db)
    return {
        "sms_numbers": [(n.e164, _display(n.e164), n.label) for n in numbers],
        "form": form,
        "errors": errors,
        "counter": _counter(request, form.get("body", "")),
        "caveat": DELIVERY_CAVEAT,
        "display": _display,
        "error_text": lambda m: error_text(request.registry, request.tenant, m),
    }


# --- console ---------------------------------------------------------------------------------

@view_config(route_name="sms", renderer="ecti:messaging/templates/sms.jinja2", permission="softphone", request_method="GET")
def sms_page(request):
    return _sms_context(request, form={"to": request.params.get("to", "")}, errors={})


def _sms_context(request, *, form, errors):
    conversations, older = _page(list_conversations(request.db, before_id=_before(request), limit=PAGE_SIZE + 1), key=lambda row: row[0].id)
    context = _form_context(request, form=form, errors=errors)
    context.update(conversations=conversations, older=older)
    return context


@view_config(route_name="sms.conversation", renderer="ecti:messaging/templates/conversation.jinja2", permission="softphone", request_method="GET")
def conversation_page(request):
    remote = request.matchdict["number"]
    messages = list_messages(request.db, remote_number=remote, before_id=_before(request), limit=PAGE_SIZE + 1)
    if not messages and _before(request) is None:
        raise HTTPNotFound()
    latest_from = next((m.local_number for m in messages if m.direction.value == "outbound"), None)
    sms_capable = {n.e164 for n in sms_numbers(request.db)}
    form = {"to": remote, "from_number": latest_from if latest_from in sms_capable else ""}
    return _conversation_context(request, remote, messages, form=form, errors={})


def _conversation_context(request, remote, messages, *, form, errors):
    context = _form_context(request, form=form, errors=errors)
    page, older = _page(messages)
    context.update(remote=remote, messages=page, older=older)
    return context


@view_config(route_name="sms.send", permission="softphone", request_method="POST")
def sms_send(request):
    form = {k: request.POST.get(k, "") for k in ("from_number", "to", "body")}
    try:
        message = send_message(request, **form)
    except UserError as err:
        return _refused(request, form, err)
    if message.status is MessageStatus.failed:
        flash(request, _("The SMS could not be sent: ${reason}", mapping={"reason": request.localizer.translate(error_text(request.registry, request.tenant, message))}), "error")
    else:
        flash(request, _("The SMS to ${number} was handed to the carrier.", mapping={"number": _display(message.to_number)}))
    return HTTPSeeOther(request.route_url("sms.conversation", number=message.remote_number))


def _refused(request, form, err: UserError):
    """The form again, with the reason; nothing was stored."""
    request.response.status_int = err.status
    errors = {err.field or "": err.message}
    back_to = request.POST.get("conversation", "")
    messages = list_messages(request.db, remote_number=back_to, limit=PAGE_SIZE + 1) if back_to else []
    if messages:  # the reply form of a conversation: show the conversation again
        context = _conversation_context(request, back_to, messages, form=form, errors=errors)
        template = "ecti:messaging/templates/conversation.jinja2"
    else:
        context = _sms_context(request, form=form, errors=errors)
        template = "ecti:messaging/templates/sms.jinja2"
    return render_to_response(template, context, request=request, response=request.response)


@view_config(route_name="sms.settings", renderer="ecti:messaging/templates/settings.jinja2", permission="manage", request_method="GET")
def settings_page(request):
    return _settings_context(request)


def _settings_context(request):
    users = request.db.scalars(select(User).where(User.is_active.is_(True)).order_by(User.display_name, User.id)).all()
    chosen = {u.id for u in notification_recipients(request.db)}
    return {
        "users": users,
        "chosen": chosen,
        "channels": list(request.registry.ecti.notification_channels.values()),
    }


@view_config(route_name="sms.settings", permission="manage", request_method="POST")
def settings_save(request):
    user_ids = {int(v) for v in request.POST.getall("user") if v.isdigit()}
    before = [u.email for u in notification_recipients(request.db)]
    set_notification_recipients(request.db, user_ids)
    request.db.flush()
    after = [u.email for u in notification_recipients(request.db)]
    if after != before:
        record_change(request, "sms", before={"recipients": before}, after={"recipients": after})
    flash(request, _("Saved who is notified of incoming SMS."))
    return HTTPSeeOther(request.route_url("sms.settings"))


# --- JSON API --------------------------------------------------------------------------------

class MessageOut(BaseModel):
    id: int
    direction: Literal["inbound", "outbound"]
    from_number: str
    to_number: str
    #: The other party (``to_number`` of a sent message, ``from_number`` of a received one).
    remote_number: str
    body: str
    encoding: Literal["GSM-7", "UCS-2"]
    characters: int
    segments: int
    status: Literal["accepted", "queued", "sending", "sent", "receiving", "received", "delivered", "undelivered", "failed"]
    status_label: str
    error_code: str | None
    #: Why it failed or was not delivered, in the user's language.
    error_message: str | None
    user_id: int | None
    created_at: datetime
    updated_at: datetime


class MessageList(BaseModel):
    messages: list[MessageOut]
    #: Pass as ``?before=`` for the next (older) page; null on the last page.
    older: int | None


class MessageSend(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: One of the company's SMS-capable numbers (E.164, e.g. "+14155550100").
    from_number: str = Field(max_length=40)
    #: The destination in +country format ("+81 90-1234-5678").
    to: str = Field(max_length=40)
    body: str = Field(max_length=10_000)


def _number_param(request) -> str | None:
    """``?number=``: one conversation. A "+" that was not URL-encoded arrives as a space."""
    text = request.params.get("number", "").strip()
    if not text:
        return None
    if text[0].isdigit() and not text.startswith("0"):
        text = "+" + text
    try:
        return check_sms_destination(text)
    except NumberError as err:
        raise UserError(err.code, err.message, field="number", status=422) from None


def message_out(request, message: Message) -> MessageOut:
    count = count_segments(message.body)
    reason = error_text(request.registry, request.tenant, message)
    return MessageOut(
        id=message.id,
        direction=message.direction.value,
        from_number=message.from_number,
        to_number=message.to_number,
        remote_number=message.remote_number,
        body=message.body,
        encoding=count.encoding,
        characters=count.characters,
        segments=message.segments,
        status=message.status.value,
        status_label=request.localizer.translate(message.status.label),
        error_code=message.error_code,
        error_message=request.localizer.translate(reason) if reason is not None else None,
        user_id=message.user_id,
        created_at=message.created_at,
        updated_at=message.updated_at,
    )


@api_view(
    "api.messages", method="GET", summary="SMS sent and received, newest first (?number=+81… for one conversation, ?before=id for older)",
    permission="softphone", response=MessageList, tags=("sms",), errors=(422,),
)
def api_messages(request):
    number = _number_param(request)
    page, older = _page(list_messages(request.db, remote_number=number, before_id=_before(request), limit=PAGE_SIZE + 1))
    return MessageList(messages=[message_out(request, m) for m in page], older=older)


@api_view(
    "api.messages", method="POST",
    summary="Send an SMS; 201 with the stored message, whose status is failed (with the carrier's error) when the carrier refused it",
    permission="softphone", body=MessageSend, response=MessageOut, status=201, tags=("sms",), errors=(409,),
)
def api_message_send(request, body: MessageSend):
    return message_out(request, send_message(request, from_number=body.from_number, to=body.to, body=body.body))


@api_view("api.message", method="GET", summary="One SMS", permission="softphone", response=MessageOut, tags=("sms",), errors=(404,))
def api_message(request):
    return message_out(request, get_or_404(request, Message, request.matchdict["id"]))


def includeme(config):
    config.add_route("sms", "/sms")
    config.add_route("sms.send", "/sms/send")
    config.add_route("sms.conversation", "/sms/conversations/{number:\\+\\d{4,16}}")
    config.add_route("sms.settings", "/sms/settings")
    config.add_route("api.messages", f"{API_PREFIX}/messages")
    config.add_route("api.message", f"{API_PREFIX}/messages/{{id:\\d+}}")
    config.add_console_nav("sms", _("SMS"), group="calls", permission="softphone", order=30)
