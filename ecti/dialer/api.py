"""The dialer's JSON API: the agent's side (softphone panel) and the admin's operations."""
from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import select

from ..api import api_view
from ..errors import UserError
from ..i18n import _
from ..models.meta import utcnow
from ..telephony.numbering import display_number
from ..web import get_or_404
from . import services
from .models import LIST_STATUS_LABELS, DialingAttempt, DialingImport, DialingList, DialingRow, ListStatus, Outcome

TAGS = ("dialer",)
OutcomeName = Literal["connected", "no_answer", "busy", "failed", "answering_machine", "wrong_number", "callback", "do_not_call"]


display = display_number


# --- models ----------------------------------------------------------------------------------

class ListSummary(BaseModel):
    id: int
    name: str
    status: Literal["draft", "running", "paused", "stopped", "finished"]
    status_label: str
    caller_id: str
    caller_id_display: str
    #: For the agent: whether they joined the list (null in the admin's view).
    joined: bool | None = None


class Column(BaseModel):
    name: str
    value: str


class AttemptOut(BaseModel):
    id: int
    attempt_no: int
    status: Literal["reserved", "dialing", "done", "skipped", "released"]
    list_id: int
    row_number: int
    number: str
    display: str
    name: str
    #: The CSV's other columns, in the file's order.
    columns: list[Column]
    #: Calls placed to the row before (0 on the first attempt).
    previous_calls: int
    last_outcome: OutcomeName | None
    callback_at: datetime | None
    caller_id: str
    preview_seconds: int


class DialerState(BaseModel):
    list: ListSummary | None
    attempt: AttemptOut | None
    #: Why no row is shown: not_joined, paused, stopped, finished, draft, not_available,
    #: outside_hours, nothing_due (null while a row is shown).
    reason: str | None
    message: str | None
    next_due: datetime | None


class MyLists(BaseModel):
    lists: list[ListSummary]


class ResultIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: OutcomeName
    #: Required for ``callback`` (ISO 8601 with a zone).
    callback_at: datetime | None = None
    note: str | None = Field(default=None, max_length=1000)


class RetryRule(BaseModel):
    count: int = Field(ge=0, le=10)
    delay_minutes: int = Field(ge=0, le=10080)


class Retry(BaseModel):
    no_answer: RetryRule
    busy: RetryRule
    failed: RetryRule


class ListIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100)
    caller_id: str = Field(max_length=40)
    #: An IVR schedule (business hours + holidays); or ``weekly``/``calendars`` of the list.
    schedule_id: int | None = None
    weekly: dict[str, list[list[str]]] = {}
    calendars: list[str] = []
    retry: Retry | None = None
    preview_seconds: int = 0
    agent_ids: list[int] = []


class AgentProgress(BaseModel):
    user_id: int
    name: str
    calls: int
    outcomes: dict[str, int]


class Progress(BaseModel):
    total: int
    done: int
    remaining: int
    in_progress: int
    outcomes: dict[str, int]
    per_agent: list[AgentProgress]


class ListOut(ListSummary):
    schedule_id: int | None
    weekly: dict[str, list[list[str]]]
    calendars: list[str]
    retry: Retry
    preview_seconds: int
    agent_ids: list[int]
    progress: Progress


class ListList(BaseModel):
    lists: list[ListOut]


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["running", "paused", "stopped"]


class ImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(default="", max_length=200)
    #: The CSV file's bytes, base64-encoded (UTF-8 with or without BOM, or Shift_JIS).
    content_base64: str


class RefusedRow(BaseModel):
    row: int
    value: str
    code: str
    reason: str


class ImportOut(BaseModel):
    id: int
    list_id: int
    encoding: str
    columns: list[str]
    good: int
    refused: list[RefusedRow]
    imported: bool


# --- converting ------------------------------------------------------------------------------

def summary(request, lst: DialingList, joined: bool | None = None) -> ListSummary:
    return ListSummary(id=lst.id, name=lst.name, status=lst.status.value, status_label=request.localizer.translate(LIST_STATUS_LABELS[lst.status]),
                       caller_id=lst.caller_id, caller_id_display=display(lst.caller_id), joined=joined)


def attempt_out(request, attempt: DialingAttempt, lst: DialingList) -> AttemptOut:
    row = request.db.get(DialingRow, attempt.row_id)
    previous = row.attempts - (1 if attempt.status.value == "dialing" else 0)
    return AttemptOut(
        id=attempt.id, attempt_no=attempt.attempt_no, status=attempt.status.value, list_id=lst.id, row_number=row.row_number,
        number=row.number, display=display(row.number), name=row.name, columns=[Column(name=k, value=v) for k, v in row.extra],
        previous_calls=previous, last_outcome=row.last_outcome.value if row.last_outcome else None, callback_at=row.callback_at,
        caller_id=lst.caller_id, preview_seconds=lst.preview_seconds,
    )


def list_out(request, lst: DialingList) -> ListOut:
    from ..tenancy.models import User

    p = services.progress(request, lst)
    names = {u.id: u.display_name for u in request.db.scalars(select(User).where(User.id.in_(list(p["per_agent"]) or [-1])))}
    retry = {**services.DEFAULT_RETRY, **(lst.retry or {})}
    return ListOut(
        **summary(request, lst).model_dump(), schedule_id=lst.schedule_id, weekly=lst.weekly or {}, calendars=lst.calendars or [],
        retry=Retry(**retry), preview_seconds=lst.preview_seconds, agent_ids=sorted(m.user_id for m in lst.agents),
        progress=Progress(
            total=p["total"], done=p["done"], remaining=p["remaining"], in_progress=p["in_progress"], outcomes=p["outcomes"],
            per_agent=[AgentProgress(user_id=uid, name=names.get(uid, ""), calls=v["calls"], outcomes=v["outcomes"]) for uid, v in sorted(p["per_agent"].items())],
        ),
    )


def reason_text(request, entry: dict) -> str:
    msgid = entry["msgid"]  # one of the messages of csv_import and the dialing rules
    return request.localizer.translate(_(msgid, mapping=entry.get("mapping") or None))


def import_out(request, imp: DialingImport) -> ImportOut:
    return ImportOut(
        id=imp.id, list_id=imp.list_id, encoding=imp.encoding, columns=imp.columns, good=len(imp.good),
        refused=[RefusedRow(row=r["row"], value=r["value"], code=r["code"], reason=reason_text(request, r)) for r in imp.refused],
        imported=imp.confirmed_at is not None,
    )


def _agent(request):
    user = request.identity
    if user.tenant_id is None:
        raise UserError("not_an_agent", _("Operators do not take calls."), status=403)
    return user


def _list_of(request, key: str = "id") -> DialingList:
    return get_or_404(request, DialingList, request.matchdict[key])


def _agents_list(request) -> DialingList:
    """A list as agents see it: a draft does not exist for them."""
    lst = _list_of(request)
    if lst.status is ListStatus.draft:
        raise HTTPNotFound()
    return lst


def _attempt_id(request) -> int:
    return int(request.matchdict["id"])


# --- the agent's side ------------------------------------------------------------------------

@api_view("api.dialer.my_lists", method="GET", summary="The dialing lists I am assigned to", permission="softphone",
          response=MyLists, tags=TAGS)
def api_my_lists(request):
    user = _agent(request)
    return MyLists(lists=[summary(request, lst, m.joined_at is not None) for lst, m in services.lists_of_agent(request, user.id)])


@api_view("api.dialer.join", method="POST", summary="Join a dialing list (and leave any other): numbers come when I am available",
          permission="softphone", response=ListSummary, tags=TAGS, errors=(404, 409))
def api_join(request):
    user = _agent(request)
    lst = _agents_list(request)
    services.join(request, user, lst)
    return summary(request, lst, True)


@api_view("api.dialer.leave", method="POST", summary="Leave a dialing list (a row shown but not dialed goes back)",
          permission="softphone", response=ListSummary, tags=TAGS, errors=(404,))
def api_leave(request):
    user = _agent(request)
    lst = _agents_list(request)
    services.leave(request, user, lst)
    return summary(request, lst, False)


def _state(request, state) -> DialerState:
    joined = state.list is not None and state.reason != "not_joined"
    return DialerState(
        list=summary(request, state.list, joined) if state.list is not None else None,
        attempt=attempt_out(request, state.attempt, state.list) if state.attempt is not None else None,
        reason=state.reason, message=request.localizer.translate(state.message) if state.message is not None else None,
        next_due=state.next_due,
    )


@api_view("api.dialer.next", method="POST",
          summary="My current row, or the next due row reserved for me when I am available (else why not)",
          permission="softphone", response=DialerState, tags=TAGS)
def api_next(request):
    return _state(request, services.next_for_agent(request, _agent(request)))


@api_view("api.dialer.dial", method="POST", summary="I am dialing this row now (refused when the list paused or the hours ended)",
          permission="softphone", response=AttemptOut, tags=TAGS, errors=(404, 409))
def api_dial(request):
    attempt = services.start_dialing(request, _agent(request), _attempt_id(request))
    return attempt_out(request, attempt, request.db.get(DialingList, attempt.list_id))


@api_view("api.dialer.skip", method="POST", summary="Skip this row without dialing it (it goes to the end of what is due)",
          permission="softphone", response=DialerState, tags=TAGS, errors=(404, 409))
def api_skip(request):
    user = _agent(request)
    services.skip(request, user, _attempt_id(request))
    return _state(request, services.next_for_agent(request, user))


@api_view("api.dialer.result", method="POST", summary="Record the result of the call to this row",
          permission="softphone", body=ResultIn, response=AttemptOut, tags=TAGS, errors=(404, 409))
def api_result(request, body: ResultIn):
    callback_at = body.callback_at
    if callback_at is not None and callback_at.tzinfo is None:
        raise UserError("callback_without_zone", _("Give the callback time with its time zone."), field="callback_at", status=422)
    attempt = services.record_result(request, _agent(request), _attempt_id(request), Outcome(body.outcome),
                                     callback_at=callback_at, note=body.note)
    return attempt_out(request, attempt, request.db.get(DialingList, attempt.list_id))


# --- the admin's side ------------------------------------------------------------------------

def _save(request, lst, body: ListIn) -> DialingList:
    return services.save_list(
        request, lst, name=body.name, caller_id=body.caller_id, schedule_id=body.schedule_id, weekly=body.weekly,
        calendars=body.calendars, retry=body.retry.model_dump() if body.retry else None, preview_seconds=body.preview_seconds,
        agent_ids=body.agent_ids,
    )


@api_view("api.dialer.lists", method="GET", summary="Every dialing list with its progress", permission="supervise",
          response=ListList, tags=TAGS)
def api_lists(request):
    lists = request.db.scalars(select(DialingList).order_by(DialingList.id)).all()
    return ListList(lists=[list_out(request, lst) for lst in lists])


@api_view("api.dialer.lists", method="POST", summary="Create a dialing list (a draft)", permission="manage", body=ListIn,
          response=ListOut, status=201, tags=TAGS)
def api_list_create(request, body: ListIn):
    return list_out(request, _save(request, None, body))


@api_view("api.dialer.list", method="GET", summary="One dialing list with its progress (done, remaining, outcomes, per agent)",
          permission="supervise", response=ListOut, tags=TAGS, errors=(404,))
def api_list(request):
    return list_out(request, _list_of(request))


@api_view("api.dialer.list", method="PUT", summary="Change a dialing list's settings and agents", permission="manage",
          body=ListIn, response=ListOut, tags=TAGS, errors=(404,))
def api_list_update(request, body: ListIn):
    return list_out(request, _save(request, _list_of(request), body))


@api_view("api.dialer.list_status", method="PUT",
          summary="Start, pause or stop a list (pause and stop take effect at once; calls in progress finish)",
          permission="supervise", body=StatusIn, response=ListOut, tags=TAGS, errors=(404, 409))
def api_list_status(request, body: StatusIn):
    return list_out(request, services.set_status(request, _list_of(request), ListStatus(body.status)))


@api_view("api.dialer.imports", method="POST",
          summary="Upload a CSV: every row is checked and the refused rows reported; nothing is imported before confirmation",
          permission="manage", body=ImportIn, response=ImportOut, status=201, tags=TAGS, errors=(404, 409))
def api_import(request, body: ImportIn):
    lst = _list_of(request)
    try:
        data = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise UserError("not_base64", _("content_base64 is not valid base64."), field="content_base64", status=422)
    return import_out(request, services.preview_import(request, lst, data, body.filename, request.identity.id))


@api_view("api.dialer.import_confirm", method="POST", summary="Import the good rows of a checked CSV (all of them or none)",
          permission="manage", response=ListOut, tags=TAGS, errors=(404, 409))
def api_import_confirm(request):
    imp = get_or_404(request, DialingImport, request.matchdict["id"])
    services.confirm_import(request, imp, utcnow())
    return list_out(request, request.db.get(DialingList, imp.list_id))
