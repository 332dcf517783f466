"""Saving flows, schedules, closures and voicemail boxes; shared by the console, the API and
tenant configuration import. Nothing invalid is saved: problems are raised, all at once."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..errors import UserError
from ..i18n import _
from ..telephony.models import PhoneNumber
from .models import Closure, Flow, Schedule, VoicemailBox
from .schedules import WEEKDAYS, weekly_problems
from .validation import Problem, ReferenceChecker, validate_flow


class FlowInvalid(UserError):
    """The flow cannot be saved; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]):
        super().__init__("flow_invalid", _("The flow has problems; nothing was saved."), status=422)
        self.problems = problems


def flow_numbers(session, flow: Flow | None) -> list[str]:
    """The numbers (E.164) that answer with ``flow``: the caller IDs of its forwards."""
    if flow is None or flow.id is None:
        return []
    return list(session.scalars(select(PhoneNumber.e164).where(PhoneNumber.flow_id == flow.id).order_by(PhoneNumber.e164)))


def flow_problems(session, registry, doc: dict, flow: Flow | None = None, *, check_settings: bool = True, caller_ids=None) -> list[Problem]:
    """Every problem of ``doc``; numbers it calls are checked with the dialing rules from
    ``caller_ids`` (default: the numbers that answer with ``flow``)."""
    checker = ReferenceChecker(registry, session, flow_numbers(session, flow) if caller_ids is None else caller_ids)
    problems = validate_flow(doc, registry.ecti.ivr_node_types, checker, check_settings=check_settings)
    name = str(doc.get("name") or "").strip()
    same_name = session.scalar(select(Flow).where(Flow.name == name)) if name else None
    if same_name is not None and same_name is not flow:
        problems.insert(0, Problem("name", _("A flow named ${name} already exists.", mapping={"name": name})))
    return problems


def save_flow(session, registry, doc: dict, flow: Flow | None = None) -> Flow:
    """Create (``flow`` None) or replace a flow from its document, or raise :class:`FlowInvalid`."""
    problems = flow_problems(session, registry, doc, flow)
    if problems:
        raise FlowInvalid(problems)
    if flow is None:
        flow = Flow()
        session.add(flow)
    flow.name = str(doc["name"]).strip()
    flow.start = doc["start"]
    flow.nodes = [
        {"id": n["id"], "type": n["type"], "settings": n.get("settings") or {}, "next": {k: v for k, v in (n.get("next") or {}).items() if v}}
        for n in doc["nodes"]
    ]
    session.flush()
    return flow


def delete_flow(session, flow: Flow) -> None:
    numbers = session.scalars(select(PhoneNumber.e164).where(PhoneNumber.flow_id == flow.id)).all()
    if numbers:
        raise UserError("flow_in_use", _("The flow answers ${numbers}; assign another flow to them first.", mapping={"numbers": ", ".join(numbers)}), status=409)
    session.delete(flow)


def flows_referring(session, registry, kind: str, ref_id: int) -> list[str]:
    """Names of the flows with a node whose settings refer to ``kind`` ``ref_id``."""
    node_types = registry.ecti.ivr_node_types
    names = []
    for flow in session.scalars(select(Flow).order_by(Flow.name)):
        for node in flow.nodes:
            properties = getattr(node_types.get(node.get("type")), "settings_schema", {}).get("properties", {})
            if any(schema.get("x-ecti-ref") == kind and (node.get("settings") or {}).get(name) == ref_id for name, schema in properties.items()):
                names.append(flow.name)
                break
    return names


def schedule_problems(session, registry, name: str, weekly: dict, calendars: list[str], schedule: Schedule | None = None) -> list[tuple[str, object]]:
    """``(field, message)`` for everything wrong with a schedule's name, hours and calendars."""
    problems: list[tuple[str, object]] = []
    if not name.strip():
        problems.append(("name", _("Give the schedule a name.")))
    else:
        same = session.scalar(select(Schedule).where(Schedule.name == name.strip()))
        if same is not None and same is not schedule:
            problems.append(("name", _("A schedule named ${name} already exists.", mapping={"name": name.strip()})))
    problems.extend(weekly_problems(weekly))
    known = registry.ecti.holiday_calendars
    for calendar in calendars:
        if calendar not in known:
            problems.append(("calendars", _("Unknown holiday calendar ${name} (installed: ${names}).", mapping={"name": calendar, "names": ", ".join(sorted(known)) or "-"})))
    return problems


def save_schedule(session, registry, *, name: str, weekly: dict, calendars: list[str], schedule: Schedule | None = None) -> Schedule:
    problems = schedule_problems(session, registry, name, weekly, calendars, schedule)
    if problems:
        field, message = problems[0]
        raise UserError("schedule_invalid", message, field=field, status=422)
    if schedule is None:
        schedule = Schedule()
        session.add(schedule)
    schedule.name = name.strip()
    schedule.weekly = {day: [list(r) for r in weekly.get(day, [])] for day in WEEKDAYS}
    schedule.calendars = list(calendars)
    session.flush()
    return schedule


def delete_schedule(session, registry, schedule: Schedule) -> None:
    users = flows_referring(session, registry, "schedule", schedule.id)
    if users:
        raise UserError("schedule_in_use", _("The schedule is used by the flows ${flows}.", mapping={"flows": ", ".join(users)}), status=409)
    session.delete(schedule)


def add_closure(session, *, name: str, start: date, end: date | None = None) -> Closure:
    """A company closure from ``start`` to ``end`` (both included; one day when ``end`` is None)."""
    end = end or start
    if not name.strip():
        raise UserError("name_required", _("Give the closure a name (e.g. 年末年始休業)."), field="name", status=422)
    if end < start:
        raise UserError("closure_reversed", _("The closure ends before it starts."), field="end", status=422)
    closure = Closure(name=name.strip(), start_date=start, end_date=end)
    session.add(closure)
    session.flush()
    return closure


def create_box(session, name: str) -> VoicemailBox:
    name = name.strip()
    if not name:
        raise UserError("name_required", _("Give the voicemail box a name."), field="name", status=422)
    if session.scalar(select(VoicemailBox).where(VoicemailBox.name == name)) is not None:
        raise UserError("box_exists", _("A voicemail box named ${name} already exists.", mapping={"name": name}), field="name", status=409)
    box = VoicemailBox(name=name)
    session.add(box)
    session.flush()
    return box
