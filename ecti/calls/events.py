"""Recording call events: the one way code adds a step to a call's history."""
from __future__ import annotations

from datetime import datetime

from ..models.meta import utcnow
from .models import Call, CallEvent, CallStatus, EventKind
from .summary import apply_event


def record_event(request, call: Call, kind: EventKind, *, at: datetime | None = None, **data) -> CallEvent:
    """Append an event to ``call``, update the call's summary, tell the ``ecti_call_event`` observers."""
    event = CallEvent(call=call, tenant_id=call.tenant_id, kind=kind, at=at or utcnow(), data=data)
    request.db.add(event)  # written with the rest of the transaction (one flush, not one per event)
    apply_event(request.db, call, event)
    if call.id is None:
        # A new call's first event: the call and the event are written in one flush (the
        # summary already has what the event tells), and observers see the call's id.
        request.db.flush()
    request.registry.plugins.hook.ecti_call_event(request=request, call=call, event=event)
    return event


def apply_status(request, call: Call, status: CallStatus, *, at: datetime | None = None, duration: int | None = None) -> bool:
    """Move the call to ``status`` unless that would move it backwards.

    Carrier callbacks repeat and arrive out of order (ARCHITECTURE principle 5): a repeated or
    late status changes nothing and returns False.
    """
    if status.rank <= call.status.rank:
        if status.is_final and call.status.is_final and duration is not None and call.duration_seconds is None:
            call.duration_seconds = duration  # the final status was learnt before its own callback
        return False
    at = at or utcnow()
    call.status = status
    if status is CallStatus.in_progress and call.answered_at is None:
        call.answered_at = at
    if status.is_final:
        call.ended_at = at
        if duration is not None:
            call.duration_seconds = duration
    record_event(request, call, EventKind.status, at=at, status=status.value)
    if status.is_final:
        record_event(request, call, EventKind.completed, at=at, status=status.value)
    return True
