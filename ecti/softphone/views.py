"""The softphone page, the requirements check and the JSON API the page adds (caller IDs,
number check, agent log, caller lookup)."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pyramid.view import view_config
from sqlalchemy import select

from ..api import api_view
from ..calls.models import Call, CallAgent, CallOutcome, Direction
from ..errors import UserError
from ..i18n import _
from ..telephony.models import PhoneNumber
from ..telephony.numbering import NumberError, check_outbound, display_number, format_domestic, to_e164
from . import softphone_scripts

TAGS = ("softphone",)
#: How many recent calls the agent log shows.
LOG_LIMIT = 30


# --- device choice ------------------------------------------------------------------------------

def device_config(request) -> dict:
    """Which device the page runs: ``twilio`` (the Voice JS SDK) or ``simulator`` (``/sim/v1``).

    ``ecti.softphone.device`` decides when set; otherwise a Twilio REST base URL that is not
    twilio.com (``ecti.twilio.api_base_url``, the simulator of ``make run`` and the tests) means
    the simulator, whose control API is served at the same address.
    """
    settings = request.registry.settings
    base = (settings.get("ecti.twilio.api_base_url") or "").rstrip("/")
    kind = settings.get("ecti.softphone.device") or ("simulator" if base and "twilio.com" not in base else "twilio")
    return {"kind": kind, "simulator_url": settings.get("ecti.softphone.simulator_url") or base}


# --- pages --------------------------------------------------------------------------------------

#: Every string the page's script shows (translated on the server, handed over as JSON).
PAGE_STRINGS = {
    "available": _("Available"),
    "away": _("Away"),
    "after_call_work": _("After-call work"),
    "offline": _("Offline"),
    "on_call": _("On a call"),
    "ringing": _("Ringing"),
    "wrap_up": _("Wrap-up"),
    "wrap_up_left": _("Wrap-up: ${seconds} s left"),
    "incoming": _("Incoming call"),
    "queue_wait": _("${queue} · waited ${wait}"),
    "on_hold": _("On hold"),
    "outbound": _("Outgoing call"),
    "calling": _("Calling…"),
    "checking": _("Checking the number…"),
    "transfer_ringing": _("Transferring: ringing ${name}…"),
    "transferred": _("The call was transferred."),
    "error": _("Something went wrong: ${message}"),
    "device_ready": _("Phone ready"),
    "device_offline": _("Phone not connected"),
    "no_calls": _("No calls yet."),
    "inbound": _("Incoming"),
    "outbound_short": _("Outgoing"),
    "outcome_answered": _("Answered"),
    "outcome_missed": _("Missed"),
    "outcome_transferred": _("Transferred"),
    "outcome_refused": _("Refused"),
    "outcome_failed": _("Not connected"),
    "outcome_in_progress": _("In progress"),
    "choose_agent": _("Choose an agent"),
    "choose_queue": _("Choose a queue"),
    "waiting_count": _("Waiting: ${count}"),
    "outcome_busy": _("Busy"),
    "outcome_no_answer": _("No answer"),
    "outcome_canceled": _("Hung up before an answer"),
    "ended_busy": _("The line was busy."),
    "ended_no_answer": _("Nobody answered."),
    "ended_failed": _("The call could not be connected."),
    "ended_refused": _("The call was not placed."),
    "away_reason": _("Away (${reason})"),
    "no_disposition": _("Choose a disposition"),
    "wrap_saved": _("Saved."),
    "sms_sent": _("Sent."),
    "sms_empty": _("No messages with this number yet."),
    "sms_no_number": _("Enter the number to send to."),
}


def _strings(request) -> str:
    translate = request.localizer.translate
    return json.dumps({key: translate(value) for key, value in PAGE_STRINGS.items()}, ensure_ascii=False)


@view_config(route_name="softphone", renderer="ecti:softphone/templates/softphone.jinja2", permission="softphone")
def softphone_page(request):
    if request.identity.tenant_id is None:
        raise UserError("not_an_agent", _("Operators do not take calls."), status=403)
    from ..messaging.services import sms_numbers

    device = device_config(request)
    return {"device": device, "strings": _strings(request), "caller_ids": _caller_ids(request),
            "sms_numbers": [CallerId(e164=n.e164, display=_display(n.e164), label=n.label) for n in sms_numbers(request.db)],
            "extra_scripts": softphone_scripts(request),
            "away_reasons": [_("Break"), _("Lunch"), _("Meeting"), _("Training")]}


@view_config(route_name="softphone.check", renderer="ecti:softphone/templates/check.jinja2", permission="softphone")
def check_page(request):
    return {}


# --- API ----------------------------------------------------------------------------------------

class CallerId(BaseModel):
    e164: str
    display: str
    label: str


class CallerIdList(BaseModel):
    caller_ids: list[CallerId]


class NumberCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    caller_id: str = Field(max_length=40)
    number: str = Field(max_length=40)


class NumberCheckOut(BaseModel):
    allowed: bool
    e164: str | None
    display: str | None
    code: str | None
    message: str | None


class LogEntry(BaseModel):
    call_id: int
    direction: Literal["inbound", "outbound"]
    number: str
    display: str
    name: str | None
    started_at: datetime
    duration_seconds: int | None
    outcome: Literal["answered", "missed", "transferred", "refused", "busy", "no_answer", "canceled", "failed", "in_progress"]
    disposition: str | None = None
    disposition_label: str | None = None
    note: str | None = None


class AgentLog(BaseModel):
    calls: list[LogEntry]


class LookupOut(BaseModel):
    number: str
    display: str
    name: str | None
    record_url: str | None


def _caller_ids(request) -> list[CallerId]:
    numbers = request.db.scalars(select(PhoneNumber).where(PhoneNumber.voice_capable.is_(True)).order_by(PhoneNumber.e164)).all()
    return [CallerId(e164=n.e164, display=format_domestic(n.e164), label=n.label) for n in numbers]


_display = display_number


@api_view("api.softphone.caller_ids", method="GET", summary="The company's numbers I may show as caller ID",
          permission="softphone", response=CallerIdList, tags=TAGS)
def api_caller_ids(request):
    return CallerIdList(caller_ids=_caller_ids(request))


@api_view("api.softphone.check_number", method="POST",
          summary="May I call this number with this caller ID? (the dialing rules, checked before any call)",
          permission="softphone", body=NumberCheckIn, response=NumberCheckOut, tags=TAGS)
def api_check_number(request, body: NumberCheckIn):
    translate = request.localizer.translate
    own = request.db.scalar(select(PhoneNumber).where(PhoneNumber.e164 == body.caller_id))
    if own is None or not own.voice_capable:
        return NumberCheckOut(allowed=False, e164=None, display=None, code="caller_id_not_owned",
                              message=translate(_("The chosen caller ID is not one of the company's numbers.")))
    try:
        e164 = check_outbound(body.caller_id, body.number)
    except NumberError as err:
        return NumberCheckOut(allowed=False, e164=None, display=None, code=err.code, message=translate(err.message))
    return NumberCheckOut(allowed=True, e164=e164, display=_display(e164), code=None, message=None)


def _outcome(call: Call, part: CallAgent) -> str:
    """The call as this agent saw it, from the call record (docs/calls.md)."""
    if call.outcome is CallOutcome.refused:
        return "refused"
    if part.transferred:
        return "transferred"
    if call.direction is Direction.inbound:
        return "answered" if part.answered else "missed"
    if call.outcome is None:
        return "in_progress"
    return _OUTBOUND_OUTCOMES.get(call.outcome, "failed")


#: An outgoing call as its agent saw it: the called party was busy, did not answer, the agent
#: hung up first, or the call could not be connected at all.
_OUTBOUND_OUTCOMES = {CallOutcome.answered: "answered", CallOutcome.busy: "busy", CallOutcome.no_answer: "no_answer",
                      CallOutcome.canceled: "canceled"}


def _crm_name(request, number: str):
    for connector in request.registry.ecti.crm_connectors.values():
        try:
            contact = connector.lookup(request, request.tenant, number)
        except Exception:  # a CRM that fails must not break the phone
            contact = None
        if contact is not None:
            return contact
    return None


@api_view("api.softphone.log", method="GET", summary="My recent calls (the agent log)",
          permission="softphone", response=AgentLog, tags=TAGS)
def api_agent_log(request):
    user = request.identity
    if user.tenant_id is None:
        raise UserError("not_an_agent", _("Operators do not take calls."), status=403)
    # Calls I placed, and inbound calls offered to me, answered or transferred by me: the call
    # records' agents (the same data as the conversation list).
    rows = request.db.execute(
        select(Call, CallAgent).join(CallAgent, CallAgent.call_id == Call.id).where(CallAgent.user_id == user.id)
        .order_by(CallAgent.call_started_at.desc(), CallAgent.call_id.desc()).limit(LOG_LIMIT)
    ).all()
    out = []
    for call, part in rows:
        number = call.from_number if call.direction is Direction.inbound else call.to_number
        out.append(LogEntry(
            call_id=call.id, direction=call.direction.value, number=number, display=_display(number), name=None,
            started_at=call.started_at, duration_seconds=call.duration_seconds, outcome=_outcome(call, part),
            disposition=call.disposition, disposition_label=call.disposition_label, note=call.wrap_up_note,
        ))
    return AgentLog(calls=out)


@api_view("api.softphone.lookup", method="GET", summary="Who is calling: the caller's name from the CRM, when a connector knows it",
          permission="softphone", response=LookupOut, tags=TAGS, errors=(422,))
def api_lookup(request):
    number = request.params.get("number", "").strip()
    if not number:
        raise UserError("number_required", _("Enter a phone number."), field="number", status=422)
    try:
        e164 = to_e164(number)
    except NumberError:
        e164 = None  # a short number (110, #7119): no directory or CRM holds one
    # Connectors are given the E.164 form, whatever the agent typed (docs/plugins.md).
    contact = _crm_name(request, e164) if e164 else None
    return LookupOut(number=e164 or number, display=_display(e164 or number), name=contact.display_name if contact else None,
                     record_url=contact.record_url if contact else None)
