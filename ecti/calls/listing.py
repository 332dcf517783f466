"""The conversation list (会話一覧): filters, keyset paging, and who may see which calls.

One query function, :func:`list_calls`, serves the console page, the JSON API and the
benchmark. Paging is by keyset on ``(started_at, id)`` — newest first, never OFFSET and never a
COUNT over all calls — so every page costs the same however many calls a company has.
"""
from __future__ import annotations

import base64
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, or_, select, tuple_
from sqlalchemy.orm import aliased

from ..errors import UserError
from ..i18n import _
from .models import Call, CallAgent, CallOutcome, Direction

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class FilterError(UserError):
    status = 422


@dataclass
class CallFilter:
    """What the list shows. Dates are days of the tenant's time zone, both included."""

    start: date | None = None
    end: date | None = None
    direction: Direction | None = None
    agent_id: int | None = None
    queue_id: int | None = None
    number: str | None = None
    outcome: CallOutcome | None = None
    #: The disposition code chosen at wrap-up (ecti.dispositions); "-" for calls without one.
    disposition: str | None = None
    #: Only calls this user took part in (an agent's own calls), whatever ``agent_id`` says.
    own_user_id: int | None = None

    def query_params(self) -> dict[str, str]:
        """The filter as the page's query string (for the paging links)."""
        out = {
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
            "direction": self.direction.value if self.direction else "",
            "agent": str(self.agent_id) if self.agent_id else "",
            "queue": str(self.queue_id) if self.queue_id else "",
            "number": self.number or "",
            "outcome": self.outcome.value if self.outcome else "",
            "disposition": self.disposition or "",
        }
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True)
class Cursor:
    started_at: datetime
    id: int

    def encode(self) -> str:
        micros = int(self.started_at.timestamp() * 1_000_000)
        return base64.urlsafe_b64encode(f"{micros}.{self.id}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            micros, id_ = raw.split(".")
            return cls(datetime.fromtimestamp(int(micros) / 1_000_000, timezone.utc), int(id_))
        except (ValueError, UnicodeDecodeError):
            raise FilterError("bad_cursor", _("The page link is not valid. Open the list again from its first page."),
                              field="cursor") from None


@dataclass
class Page:
    calls: list[Call]
    #: Cursors of the next (older) and previous (newer) pages; None at either end.
    next: str | None = None
    previous: str | None = None
    filters: CallFilter = field(default_factory=CallFilter)


# --- reading the filters -----------------------------------------------------------------------

def _int(params, name: str, message) -> int | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise FilterError(f"bad_{name}", message, field=name)
    return int(value)


def _date(params, name: str) -> date | None:
    value = unicodedata.normalize("NFKC", params.get(name) or "").strip().replace("/", "-")
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError("bad_date", _("\"${value}\" is not a date. Enter it as YYYY-MM-DD (e.g. 2026-04-01).",
                                        mapping={"value": value}), field=name) from None


def parse_filters(params) -> CallFilter:
    """Read the list's filters from a request's query string; a clear error for bad input."""
    f = CallFilter(start=_date(params, "from"), end=_date(params, "to"))
    if f.start and f.end and f.end < f.start:
        raise FilterError("bad_period", _("The end of the period is before its start."), field="to")
    direction = (params.get("direction") or "").strip()
    if direction:
        try:
            f.direction = Direction(direction)
        except ValueError:
            raise FilterError("bad_direction", _("Choose the direction: inbound or outbound."), field="direction") from None
    outcome = (params.get("outcome") or "").strip()
    if outcome:
        try:
            f.outcome = CallOutcome(outcome)
        except ValueError:
            raise FilterError("bad_outcome", _("\"${value}\" is not a call outcome. Choose one of: ${expected}.",
                                               mapping={"value": outcome, "expected": ", ".join(o.value for o in CallOutcome)}),
                              field="outcome") from None
    disposition = (params.get("disposition") or "").strip()
    if disposition:
        if len(disposition) > 40:
            raise FilterError("bad_disposition", _("Choose a disposition from the list."), field="disposition")
        f.disposition = disposition
    f.agent_id = _int(params, "agent", _("Choose an agent from the list."))
    f.queue_id = _int(params, "queue", _("Choose a queue from the list."))
    number = unicodedata.normalize("NFKC", params.get("number") or "").strip()
    if number:
        if not re.fullmatch(r"\+?[0-9\- ()]{2,30}", number) or len(re.sub(r"\D", "", number)) < 2:
            raise FilterError("bad_number", _("Enter at least two digits of a phone number (e.g. 090-1234 or 5678)."),
                              field="number")
        f.number = number
    return f


def number_pattern(text: str) -> str:
    """A LIKE pattern over stored E.164 numbers for what a person typed.

    "+81 90 1234" and "090-1234" (domestic, leading 0) both mean the start of the number
    (``+81901234%``); digits without a leading 0 or + ("5678", "1234-5678") match anywhere.
    """
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        return f"+{digits}%"
    if digits.startswith("0") and not digits.startswith("00"):
        return f"+81{digits[1:]}%"
    return f"%{digits}%"


# --- the query --------------------------------------------------------------------------------

def _bounds(f: CallFilter, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    start = datetime.combine(f.start, time.min, zone).astimezone(timezone.utc) if f.start else None
    end = datetime.combine(f.end + timedelta(days=1), time.min, zone).astimezone(timezone.utc) if f.end else None
    return start, end


def _agent(f: CallFilter) -> int | None:
    """The agent whose calls the list is (their own, or the agent filter)."""
    return f.own_user_id if f.own_user_id is not None else f.agent_id


def keyset(f: CallFilter):
    """The columns the list is ordered and paged by. An agent's calls page on their
    ``call_agents`` rows (the same values, in the agent's own index)."""
    if _agent(f) is not None:
        return CallAgent.call_started_at, CallAgent.call_id
    return Call.started_at, Call.id


def filtered(f: CallFilter, zone: ZoneInfo):
    """``SELECT calls`` with the filter's conditions (the tenant scope is added by the session)."""
    query = select(Call)
    agent = _agent(f)
    if agent is not None:
        query = query.join(CallAgent, and_(CallAgent.call_id == Call.id, CallAgent.user_id == agent))
        if f.agent_id is not None and f.agent_id != agent:  # an agent naming another: calls of both
            other = aliased(CallAgent)
            query = query.where(exists().where(other.call_id == Call.id, other.user_id == f.agent_id))
    started, _id = keyset(f)
    start, end = _bounds(f, zone)
    if start is not None:
        query = query.where(started >= start)
    if end is not None:
        query = query.where(started < end)
    if f.direction is not None:
        query = query.where(Call.direction == f.direction)
    if f.queue_id is not None:
        query = query.where(Call.queue_id == f.queue_id)
    if f.outcome is not None:
        query = query.where(Call.outcome == f.outcome)
    if f.disposition == "-":
        query = query.where(Call.disposition.is_(None))
    elif f.disposition:
        query = query.where(Call.disposition == f.disposition)
    if f.number:
        pattern = number_pattern(f.number)
        query = query.where(or_(Call.from_number.like(pattern), Call.to_number.like(pattern)))
    return query


def list_calls(session, f: CallFilter, zone: ZoneInfo, *, after: str | None = None, before: str | None = None,
               limit: int = PAGE_SIZE) -> Page:
    """One page of calls, newest first: the first page, the page ``after`` a cursor (older
    calls) or the page ``before`` one (newer calls). Fetches one row more to know whether
    another page exists."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = filtered(f, zone)
    started, id_ = keyset(f)
    key = tuple_(started, id_)
    if before:
        c = Cursor.decode(before)
        rows = list(session.scalars(query.where(key > tuple_(c.started_at, c.id)).order_by(started.asc(), id_.asc()).limit(limit + 1)))
        more_newer = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        page = Page(rows, filters=f)
        page.previous = _cursor(rows[0]) if more_newer and rows else None
        page.next = _cursor(rows[-1]) if rows else None
        return page
    if after:
        c = Cursor.decode(after)
        query = query.where(key < tuple_(c.started_at, c.id))
    rows = list(session.scalars(query.order_by(started.desc(), id_.desc()).limit(limit + 1)))
    page = Page(rows[:limit], filters=f)
    page.next = _cursor(page.calls[-1]) if len(rows) > limit else None
    page.previous = _cursor(page.calls[0]) if after and page.calls else None
    return page


def _cursor(call: Call) -> str:
    return Cursor(call.started_at, call.id).encode()


def may_see_all_calls(request) -> bool:
    """Admins and supervisors (permission ``supervise``) see every call of the company; agents
    see the calls they took part in."""
    return bool(request.has_permission("supervise"))


def visible(request, call: Call) -> bool:
    if may_see_all_calls(request):
        return True
    user_id = request.identity.id
    return call.user_id == user_id or request.db.scalar(
        select(CallAgent.id).where(and_(CallAgent.call_id == call.id, CallAgent.user_id == user_id))
    ) is not None
