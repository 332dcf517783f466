"""Disposition codes (the company's list) and the wrap-up of a call (code and note)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import exists, func, select

from ..calls.models import Call, CallAgent
from ..errors import UserError
from ..i18n import _
from ..models.meta import utcnow
from ..tenancy.models import Role, User
from .models import NOTE_MAX, DispositionCode

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


@dataclass
class CodeSettings:
    code: str
    label: str
    position: int | None = None
    active: bool = True


def codes(session, *, include_inactive: bool = False) -> list[DispositionCode]:
    query = select(DispositionCode).order_by(DispositionCode.position, DispositionCode.id)
    if not include_inactive:
        query = query.where(DispositionCode.active.is_(True))
    return list(session.scalars(query))


def code_by_key(session, key: str) -> DispositionCode | None:
    return session.scalar(select(DispositionCode).where(DispositionCode.code == key))


def _check(session, settings: CodeSettings, current: DispositionCode | None) -> None:
    settings.code = (settings.code or "").strip()
    settings.label = (settings.label or "").strip()
    if not CODE_RE.match(settings.code):
        raise UserError("bad_code", _("A code is 1 to 40 letters, digits, \"-\", \"_\" or \".\" (for example sale or A-1)."),
                        field="code", status=422)
    if not settings.label or len(settings.label) > 100:
        raise UserError("bad_label", _("Enter a label of 1 to 100 characters."), field="label", status=422)
    other = code_by_key(session, settings.code)
    if other is not None and other is not current:
        raise UserError("duplicate_code", _("The code ${code} exists already.", mapping={"code": settings.code}),
                        field="code", status=409)


def save_code(request, settings: CodeSettings, code: DispositionCode | None = None) -> DispositionCode:
    """Create or change a code; a clear error (nothing saved) for a bad or taken code."""
    session = request.db
    _check(session, settings, code)
    if code is None:
        if settings.position is None:
            settings.position = (session.scalar(select(func.max(DispositionCode.position))) or 0) + 1
        code = DispositionCode(tenant_id=request.tenant.id)
        session.add(code)
    code.code, code.label, code.active = settings.code, settings.label, settings.active
    if settings.position is not None:
        code.position = settings.position
    session.flush()
    return code


def delete_code(request, code: DispositionCode) -> None:
    """Calls keep the code and label they were given; the list just no longer offers it."""
    request.db.delete(code)
    request.db.flush()


def may_wrap_up(request, user: User, call: Call) -> bool:
    """Agents wrap up calls they took part in; supervisors and admins any call of the company."""
    if user.role in (Role.admin, Role.supervisor):
        return True
    if call.user_id == user.id or call.agent_user_id == user.id:
        return True
    return bool(request.db.scalar(select(exists().where(CallAgent.call_id == call.id, CallAgent.user_id == user.id))))


def wrap_up(request, user: User, call: Call, *, disposition: str | None, note: str | None) -> Call:
    """Save the disposition (a code of the list, or none) and the note on the call."""
    if not may_wrap_up(request, user, call):
        raise UserError("not_your_call", _("You did not take part in this call."), status=403)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise UserError("note_too_long", _("The note is longer than ${max} characters.", mapping={"max": NOTE_MAX}),
                        field="note", status=422)
    label = None
    if disposition:
        code = code_by_key(request.db, disposition)
        if code is None or (not code.active and call.disposition != code.code):
            raise UserError("unknown_disposition", _("Choose a disposition from the company's list."),
                            field="disposition", status=422)
        label = code.label
    call.disposition = disposition or None
    call.disposition_label = label
    call.wrap_up_note = note or None
    call.wrapped_up_by = user.id
    call.wrapped_up_at = utcnow()
    request.db.flush()
    return call


@dataclass
class DispositionCount:
    code: str | None  # None: calls without a disposition
    label: str | None
    calls: int
    inbound: int
    outbound: int


def disposition_counts(session, tenant_id: int, start, end) -> list[DispositionCount]:
    """Calls started in [start, end) per disposition (the list's order; calls without one last).

    A code no longer in the list is shown with the label it had when chosen."""
    c = Call.__table__.c
    rows = session.execute(
        select(c.disposition, func.max(c.disposition_label).label("label"), func.count().label("calls"),
               func.count().filter(c.direction == "inbound").label("inbound"))
        .where(c.tenant_id == tenant_id, c.started_at >= start, c.started_at < end).group_by(c.disposition)
    ).all()
    current = {d.code: d for d in codes(session, include_inactive=True)}
    out = [DispositionCount(r.disposition, current[r.disposition].label if r.disposition in current else r.label,
                            r.calls, r.inbound, r.calls - r.inbound) for r in rows]
    order = {code: i for i, code in enumerate(current)}
    return sorted(out, key=lambda d: (d.code is None, order.get(d.code, len(order)), d.code or ""))
