"""The columns of each report: one definition for the page's table, the CSV and the help page."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..i18n import _
from .formats import hms
from .queries import STATUSES


@dataclass(frozen=True)
class Column:
    key: str
    header: Any  # a TranslationString (the CSV's, with its unit)
    value: Callable[[Any], Any]
    kind: str = "count"  # count, seconds, rate, text
    #: The page's header when it differs from the CSV's (durations: h:mm:ss on the page, seconds in the CSV).
    page_header: Any = None

    @property
    def label(self):
        return self.page_header or self.header

    def display(self, value) -> str:
        """The figure on the page: durations as h:mm:ss, rates with one decimal, counts with separators."""
        if value is None:
            return ""
        if self.kind == "seconds":
            return hms(value)
        if self.kind == "rate":
            return f"{value:.1f}"
        return shown(value)


def _pct(value):
    return None if value is None else round(value * 100, 1)


def _sec(value):
    return None if value is None else round(value, 1)


QUEUE_COLUMNS = (
    Column("offered", _("Offered"), lambda f: f.offered),
    Column("answered", _("Answered calls"), lambda f: f.answered),
    Column("abandoned", _("Abandoned calls"), lambda f: f.abandoned),
    Column("short_abandoned", _("Short abandons"), lambda f: f.short_abandoned),
    Column("abandonment_rate", _("Abandonment rate (%)"), lambda f: _pct(f.abandonment_rate), "rate"),
    Column("answered_within_threshold", _("Answered within threshold"), lambda f: f.answered_within),
    Column("service_level", _("Service level, waiting included (%)"), lambda f: _pct(f.service_level), "rate"),
    Column("service_level_answered", _("Service level, answered-based (%)"), lambda f: _pct(f.service_level_answered), "rate"),
    Column("service_level_offered", _("Service level, offered-based (%)"), lambda f: _pct(f.service_level_offered), "rate"),
    Column("average_speed_of_answer", _("Average speed of answer (s)"), lambda f: _sec(f.average_speed_of_answer), "seconds", _("Average speed of answer")),
    Column("average_wait", _("Average wait (s)"), lambda f: _sec(f.average_wait), "seconds", _("Average wait")),
    Column("longest_wait", _("Longest wait (s)"), lambda f: _sec(f.longest_wait), "seconds", _("Longest wait")),
    Column("average_time_to_abandon", _("Average time to abandon (s)"), lambda f: _sec(f.average_time_to_abandon), "seconds", _("Average time to abandon")),
    Column("overflowed", _("Overflowed calls"), lambda f: f.overflowed),
    Column("timed_out", _("Timed out"), lambda f: f.timed_out),
    Column("in_progress", _("Still waiting"), lambda f: f.in_progress),
    Column("voicemails", _("Voicemails"), lambda f: f.voicemails),
    Column("callbacks_requested", _("Callbacks requested"), lambda f: f.callbacks_requested),
    Column("callbacks_made", _("Callbacks made"), lambda f: f.callbacks_made),
    Column("callbacks_reached", _("Callbacks reached"), lambda f: f.callbacks_reached),
)

STATUS_PAGE_LABELS = {
    "available": _("Time available"),
    "ringing": _("Time ringing"),
    "on_call": _("Time on a call"),
    "wrap_up": _("Time in wrap-up"),
    "after_call_work": _("Time in after-call work"),
    "away": _("Time away"),
    "disconnected": _("Time disconnected"),
}

STATUS_COLUMN_LABELS = {
    "available": _("Available (s)"),
    "ringing": _("Ringing (s)"),
    "on_call": _("On a call (s)"),
    "wrap_up": _("Wrap-up (s)"),
    "after_call_work": _("After-call work (s)"),
    "away": _("Away (s)"),
    "disconnected": _("Disconnected (s)"),
}

AGENT_COLUMNS = (
    Column("handled_inbound", _("Inbound calls handled"), lambda a: a.handled_inbound),
    Column("handled_outbound", _("Outbound calls"), lambda a: a.handled_outbound),
    Column("talk_seconds", _("Talk time (s)"), lambda a: _sec(a.talk), "seconds", _("Talk time")),
    Column("average_talk_seconds", _("Average talk time (s)"), lambda a: _sec(a.average_talk), "seconds", _("Average talk time")),
    Column("hold_seconds", _("Hold time (s)"), lambda a: _sec(a.hold), "seconds", _("Hold time")),
    Column("wrap_up_seconds", _("After-call work time (s)"), lambda a: _sec(a.wrap_up), "seconds", _("After-call work time")),
    Column("average_handle_seconds", _("Average handle time (s)"), lambda a: _sec(a.average_handle_time), "seconds", _("Average handle time")),
    Column("no_answer", _("Missed offers: no answer"), lambda a: a.no_answer),
    Column("declined", _("Missed offers: declined"), lambda a: a.declined),
    *(Column(f"status_{s}", STATUS_COLUMN_LABELS[s], (lambda s: lambda a: _sec(a.status(s)))(s), "seconds", STATUS_PAGE_LABELS[s])
      for s in STATUSES if s != "offline"),
    Column("occupancy", _("Occupancy (%)"), lambda a: _pct(a.occupancy), "rate"),
)

CENTER_COLUMNS = (
    Column("inbound", _("Inbound calls"), lambda c: c.inbound),
    Column("outbound", _("Outbound calls"), lambda c: c.outbound),
    Column("outbound_answered", _("Outbound answered"), lambda c: c.outbound_answered),
    Column("after_hours", _("After-hours calls"), lambda c: c.after_hours),
    Column("holiday", _("Holiday calls"), lambda c: c.holiday),
    Column("ivr_calls", _("Calls in the IVR"), lambda c: c.ivr_calls),
    Column("ivr_abandoned", _("Hung up in the IVR"), lambda c: c.ivr_abandoned),
    Column("ivr_abandonment_rate", _("IVR abandonment rate (%)"), lambda c: _pct(c.ivr_abandonment_rate), "rate"),
)


def shown(value) -> str:
    """A figure on the page: empty when undefined (e.g. no calls), whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
