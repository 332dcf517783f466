"""The report figures: SQLAlchemy Core aggregates over the ACD's rows and the call events.

Every figure is derived from what the ACD and the call flow write as calls happen:
:class:`~ecti.acd.models.QueueEntry` (one call's stay in one queue, with its outcome),
:class:`~ecti.acd.models.Offer` (each time an agent's phone rang),
:class:`~ecti.acd.models.AgentStatusChange` (every change of an agent's status),
:class:`~ecti.calls.models.Call` and :class:`~ecti.calls.models.CallEvent` (flow steps,
voicemail). docs/reports.md defines each figure; the help page shows the same definitions.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import and_, case, exists, func, literal, literal_column, or_, select, text, union_all

from ..acd.agents import live_status
from ..acd.models import Agent, AgentStatusChange, EntryStatus, Offer, OfferStatus, Outcome, Queue, QueueEntry, QueueMember
from ..calls.models import Call, CallEvent, CallOutcome, Direction, EventKind
from ..models.meta import utcnow
from ..tenancy.models import Role, User
from .periods import Bucket, Period
from .sql import quarter_hour, seconds_between

#: An abandon within this many seconds of entering the queue is a short abandon (a caller who
#: changed their mind or misdialled), shown apart; it still counts as abandoned.
SHORT_ABANDON_SECONDS = 5

#: A queued callback whose every attempt went unanswered counts as abandoned: the customer was
#: never reached (docs/reports.md).
ABANDONED = (Outcome.abandoned, Outcome.lost, Outcome.callback_failed)
OVERFLOWED = (Outcome.overflowed, Outcome.exit_empty, Outcome.transferred)
#: Statuses of an agent (AgentStatusChange.to_status) in the order reports show them.
#: "disconnected": the agent's phone was gone (ecti.acd.phone) — neither available nor busy, so
#: occupancy leaves it out.
STATUSES = ("available", "ringing", "on_call", "wrap_up", "after_call_work", "away", "disconnected", "offline")
BUSY = ("ringing", "on_call", "wrap_up", "after_call_work")


def _ratio(part, whole) -> float | None:
    return None if not whole else part / whole


def _mean(total, count) -> float | None:
    return None if not count else total / count


def without_jit(session) -> None:
    """On PostgreSQL, no JIT compilation for this transaction's report queries.

    The planner's cost estimates of these aggregates (a correlated EXISTS per row) pass the JIT
    thresholds, and compiling the query then takes longer than running it (benchmarks/reports.py).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def count(condition):
    return func.sum(case((condition, 1), else_=0))


def bucket_of(column, buckets: list[Bucket]):
    """The index of the bucket a UTC time falls in (rows are already limited to the period).

    A binary search written as nested CASEs: 5 comparisons per row for the 31 days of a month.
    """
    if len(buckets) == 1:
        return literal_column("0")

    def search(low: int, high: int):  # buckets low..high: a balanced tree of comparisons
        if low == high:
            return literal_column(str(low))
        middle = (low + high) // 2
        return case((column < buckets[middle].end, search(low, middle)), else_=search(middle + 1, high))

    return search(0, len(buckets) - 1)


def grouped(stmt, buckets: list[Bucket], bucket, *others):
    """GROUP BY the bucket (unless there is only one) and ``others``."""
    return stmt.group_by(*others, *([bucket] if len(buckets) > 1 else []))


# --- queues -------------------------------------------------------------------------------------

QUEUE_SUMS = (
    "offered", "answered", "abandoned", "short_abandoned", "overflowed", "timed_out", "in_progress",
    "answered_within", "abandoned_within", "unanswered_past", "answer_wait", "waited", "wait_total", "abandon_wait", "voicemails",
    "callbacks_requested", "callbacks_made", "callbacks_reached",
)


@dataclass
class QueueFigures:
    """One queue in one bucket (or the whole period): sums, and the figures derived from them."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    overflowed: int = 0
    timed_out: int = 0
    in_progress: int = 0
    answered_within: int = 0
    abandoned_within: int = 0
    #: calls not answered whose wait passed the threshold: still waiting (counted to now),
    #: abandoned, overflowed or timed out after it
    unanswered_past: int = 0
    answer_wait: float = 0.0  # seconds, summed over answered calls
    waited: int = 0  # calls whose wait is over (answered or left the queue)
    wait_total: float = 0.0
    longest_wait: float = 0.0
    abandon_wait: float = 0.0
    voicemails: int = 0
    #: Queued callbacks (issue 24): entries whose caller asked to be called back, the calls made
    #: to customers (every attempt), and the callbacks whose customer answered.
    callbacks_requested: int = 0
    callbacks_made: int = 0
    callbacks_reached: int = 0

    def add(self, other: "QueueFigures") -> None:
        for name in QUEUE_SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.longest_wait = max(self.longest_wait, other.longest_wait)

    @property
    def abandonment_rate(self):
        return _ratio(self.abandoned, self.offered)

    @property
    def service_level(self):
        """ECTI's service level, the wallboard's: answered within the threshold / (answered +
        not answered after waiting past the threshold, callers still waiting included). A call
        counts once its result is known: answered, or not answered in time; calls that left
        unanswered within the threshold count neither way."""
        return _ratio(self.answered_within, self.answered + self.unanswered_past)

    @property
    def service_level_answered(self):
        """Asterisk's definition: answered within the threshold / answered."""
        return _ratio(self.answered_within, self.answered)

    @property
    def service_level_offered(self):
        """Amazon Connect's definition: left the queue (answered or abandoned) within the threshold / offered."""
        return _ratio(self.answered_within + self.abandoned_within, self.offered)

    @property
    def average_speed_of_answer(self):
        return _mean(self.answer_wait, self.answered)

    @property
    def average_wait(self):
        return _mean(self.wait_total, self.waited)

    @property
    def average_time_to_abandon(self):
        return _mean(self.abandon_wait, self.abandoned)

    @property
    def reconciles(self) -> bool:
        return self.offered == self.answered + self.abandoned + self.overflowed + self.timed_out + self.in_progress


@dataclass
class QueueReport:
    period: Period
    buckets: list[Bucket]
    queues: list[Queue]
    #: (queue id, bucket index) -> figures; only buckets with calls.
    cells: dict[tuple[int, int], QueueFigures]

    def figures(self, queue_id: int, index: int) -> QueueFigures:
        return self.cells.get((queue_id, index)) or QueueFigures()

    def total(self, queue_id: int | None = None) -> QueueFigures:
        out = QueueFigures()
        for (qid, _i), figures in self.cells.items():
            if queue_id is None or qid == queue_id:
                out.add(figures)
        return out

    def by_bucket(self, index: int) -> QueueFigures:
        out = QueueFigures()
        for (_qid, i), figures in self.cells.items():
            if i == index:
                out.add(figures)
        return out


def queue_report_query(tenant_id: int, period: Period, buckets: list[Bucket] | None = None, queue_id: int | None = None,
                       now: datetime | None = None):
    """The per-queue, per-bucket aggregate as one SELECT (what the pages and the API run);
    callers still waiting have waited until ``now``."""
    buckets = buckets or period.buckets()
    qe = QueueEntry.__table__.c
    answered = qe.connected_at.is_not(None)
    wait = seconds_between(func.coalesce(qe.connected_at, qe.ended_at), qe.entered_at)
    wait_so_far = seconds_between(func.coalesce(qe.connected_at, qe.ended_at, literal(now or utcnow(), qe.entered_at.type)), qe.entered_at)
    abandoned = and_(~answered, qe.outcome.in_([o.value for o in ABANDONED]))
    threshold = Queue.__table__.c.service_level_seconds
    ev = CallEvent.__table__.c
    voicemail = exists().where(ev.call_id == qe.call_id, ev.kind == EventKind.voicemail.value, ev.at >= qe.entered_at)
    reached = exists().where(ev.call_id == qe.call_id, ev.kind == EventKind.callback_reached.value, ev.at >= qe.entered_at)

    bucket = bucket_of(qe.entered_at, buckets).label("bucket")
    stmt = (
        select(
            qe.queue_id,
            bucket,
            func.count().label("offered"),
            count(answered).label("answered"),
            count(abandoned).label("abandoned"),
            count(and_(abandoned, wait <= SHORT_ABANDON_SECONDS)).label("short_abandoned"),
            count(and_(~answered, qe.outcome.in_([o.value for o in OVERFLOWED]))).label("overflowed"),
            count(and_(~answered, qe.outcome == Outcome.timed_out.value)).label("timed_out"),
            count(and_(~answered, qe.outcome.is_(None))).label("in_progress"),
            count(and_(answered, wait <= threshold)).label("answered_within"),
            count(and_(abandoned, wait <= threshold)).label("abandoned_within"),
            count(and_(~answered, wait_so_far > threshold)).label("unanswered_past"),
            func.sum(case((answered, wait), else_=0)).label("answer_wait"),
            func.count(wait).label("waited"),
            func.sum(wait).label("wait_total"),
            func.max(wait).label("longest_wait"),
            func.sum(case((abandoned, wait), else_=0)).label("abandon_wait"),
            count(and_(~answered, voicemail)).label("voicemails"),
            count(qe.callback_number.is_not(None)).label("callbacks_requested"),
            func.sum(qe.callback_attempts).label("callbacks_made"),
            count(and_(qe.callback_number.is_not(None), reached)).label("callbacks_reached"),
        )
        .select_from(QueueEntry.__table__.join(Queue.__table__, Queue.__table__.c.id == qe.queue_id))
        .where(qe.tenant_id == tenant_id, qe.entered_at >= period.start, qe.entered_at < period.end)
    )
    stmt = grouped(stmt, buckets, bucket, qe.queue_id)
    if queue_id is not None:
        stmt = stmt.where(qe.queue_id == queue_id)
    return stmt


def queue_report(session, tenant_id: int, period: Period, queue_id: int | None = None, *, now: datetime | None = None) -> QueueReport:
    buckets = period.buckets()
    without_jit(session)
    cells = {}
    for row in session.execute(queue_report_query(tenant_id, period, buckets, queue_id, now)).mappings():
        values = {name: (row[name] or 0) for name in QUEUE_SUMS}
        for name in ("answer_wait", "wait_total", "abandon_wait"):
            values[name] = float(values[name])
        cells[(row["queue_id"], row["bucket"])] = QueueFigures(**values, longest_wait=float(row["longest_wait"] or 0))
    queues = session.scalars(select(Queue).where(Queue.tenant_id == tenant_id).order_by(Queue.name, Queue.id)).all()
    if queue_id is not None:
        queues = [q for q in queues if q.id == queue_id]
    return QueueReport(period, buckets, list(queues), cells)


# --- agents -------------------------------------------------------------------------------------

@dataclass
class AgentFigures:
    user_id: int
    name: str
    handled_inbound: int = 0
    handled_outbound: int = 0
    connected_inbound: float = 0.0  # seconds from answering to the end (or hand-over), hold included
    talk_outbound: float = 0.0
    hold: float = 0.0
    no_answer: int = 0
    declined: int = 0
    status_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def handled(self) -> int:
        return self.handled_inbound + self.handled_outbound

    @property
    def talk(self) -> float:
        """Conversation time: connected time minus hold, inbound and outbound."""
        return self.connected_inbound - self.hold + self.talk_outbound

    @property
    def wrap_up(self) -> float:
        return self.status_seconds.get("wrap_up", 0.0) + self.status_seconds.get("after_call_work", 0.0)

    @property
    def average_talk(self):
        return _mean(self.talk, self.handled)

    @property
    def average_handle_time(self):
        return _mean(self.talk + self.hold + self.wrap_up, self.handled)

    @property
    def missed_offers(self) -> int:
        return self.no_answer + self.declined

    @property
    def busy(self) -> float:
        return sum(self.status_seconds.get(s, 0.0) for s in BUSY)

    @property
    def occupancy(self):
        return _ratio(self.busy, self.busy + self.status_seconds.get("available", 0.0))

    def status(self, name: str) -> float:
        return self.status_seconds.get(name, 0.0)


def agent_offers_query(tenant_id: int, period: Period):
    of = Offer.__table__.c
    accepted = of.accepted_at.is_not(None)
    return (
        select(
            of.user_id,
            count(accepted).label("handled"),
            func.sum(case((and_(accepted, of.ended_at.is_not(None)), seconds_between(of.ended_at, of.accepted_at)), else_=0)).label("connected"),
            count(of.status == OfferStatus.no_answer.value).label("no_answer"),
            count(of.status == OfferStatus.declined.value).label("declined"),
        )
        .where(of.tenant_id == tenant_id, of.offered_at >= period.start, of.offered_at < period.end)
        .group_by(of.user_id)
    )


def agent_hold_query(tenant_id: int, period: Period):
    qe = QueueEntry.__table__.c
    return (
        select(qe.agent_user_id, func.sum(qe.hold_seconds).label("hold"))
        .where(qe.tenant_id == tenant_id, qe.agent_user_id.is_not(None), qe.connected_at >= period.start, qe.connected_at < period.end)
        .group_by(qe.agent_user_id)
    )


def agent_outbound_query(tenant_id: int, period: Period):
    c = Call.__table__.c
    return (
        select(
            c.user_id, func.count().label("calls"),
            # The called party's talk time, as the call list shows it (the dial's own length).
            func.sum(case((c.outcome == CallOutcome.answered.value,
                           func.coalesce(c.talk_seconds, seconds_between(c.ended_at, c.answered_at), 0)), else_=0)).label("talk"),
        )
        .where(c.tenant_id == tenant_id, c.direction == Direction.outbound.value, c.user_id.is_not(None),
               c.started_at >= period.start, c.started_at < period.end)
        .group_by(c.user_id)
    )


def agent_status_query(tenant_id: int, period: Period, until: datetime):
    """Time in each status from the changes inside the period, without ordering them.

    An agent's changes chain (each ``from_status`` is the previous ``to_status``), so a status's
    time is the sum of the moments it was left minus the sum of the moments it was entered; the
    time before the first change counts for that change's ``from_status`` (the status held when
    the period began), and the status still held at the end gets ``until`` (see
    :func:`agent_closing_query`). Moments are seconds from the period's start.
    """
    sc = AgentStatusChange.__table__.c
    offset = seconds_between(sc.at, literal(period.start, AgentStatusChange.__table__.c.at.type))
    inside = (sc.tenant_id == tenant_id, sc.at >= period.start, sc.at < until)
    moments = union_all(
        select(sc.user_id, sc.from_status.label("status"), offset.label("seconds")).where(*inside),
        select(sc.user_id, sc.to_status.label("status"), (-offset).label("seconds")).where(*inside),
    ).subquery()
    return (
        select(moments.c.user_id, moments.c.status, func.sum(moments.c.seconds).label("seconds"))
        .group_by(moments.c.user_id, moments.c.status)
    )


def agent_closing_query(tenant_id: int, until: datetime):
    """Each agent's status at ``until``: the last change before it (an index look-up per user on ``user_id, at``)."""
    sc = AgentStatusChange.__table__.c
    u = User.__table__.c
    closing = (
        select(sc.to_status).where(sc.user_id == u.id, sc.at < until)
        .order_by(sc.at.desc(), sc.id.desc()).limit(1).correlate(User.__table__).scalar_subquery()
    )
    inner = select(u.id.label("user_id"), closing.label("status")).where(u.tenant_id == tenant_id).subquery()
    return select(inner.c.user_id, inner.c.status).where(inner.c.status.is_not(None))


@dataclass
class AgentReport:
    period: Period
    agents: list[AgentFigures]

    def total(self) -> AgentFigures:
        out = AgentFigures(0, "")
        for a in self.agents:
            for name in ("handled_inbound", "handled_outbound", "connected_inbound", "talk_outbound", "hold", "no_answer", "declined"):
                setattr(out, name, getattr(out, name) + getattr(a, name))
            for status, seconds in a.status_seconds.items():
                out.status_seconds[status] = out.status_seconds.get(status, 0.0) + seconds
        return out


def agent_report(session, tenant_id: int, period: Period, *, now: datetime | None = None) -> AgentReport:
    now = now or utcnow()
    until = min(period.end, now)
    without_jit(session)
    figures: dict[int, AgentFigures] = {}

    def of(user_id: int) -> AgentFigures:
        if user_id not in figures:
            figures[user_id] = AgentFigures(user_id, "")
        return figures[user_id]

    for row in session.execute(agent_offers_query(tenant_id, period)):
        a = of(row.user_id)
        a.handled_inbound, a.connected_inbound, a.no_answer, a.declined = row.handled or 0, float(row.connected or 0), row.no_answer or 0, row.declined or 0
    for row in session.execute(agent_hold_query(tenant_id, period)):
        of(row.agent_user_id).hold = float(row.hold or 0)
    for row in session.execute(agent_outbound_query(tenant_id, period)):
        a = of(row.user_id)
        a.handled_outbound, a.talk_outbound = row.calls, float(row.talk or 0)
    if period.start < until:
        totals: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for row in session.execute(agent_status_query(tenant_id, period, until)):
            totals[row.user_id][row.status] += float(row.seconds or 0)
        for row in session.execute(agent_closing_query(tenant_id, until)):
            totals[row.user_id][row.status] += (until - period.start).total_seconds()
        for user_id, seconds in totals.items():
            kept = {status: round(value, 3) for status, value in seconds.items() if round(value, 3) != 0}
            if kept:
                of(user_id).status_seconds.update(kept)
    users = session.execute(
        select(User.id, User.display_name, User.role, User.is_active).where(User.tenant_id == tenant_id)
    ).all()
    for user in users:
        if user.id in figures:
            figures[user.id].name = user.display_name
        elif user.is_active and user.role is Role.agent:
            figures[user.id] = AgentFigures(user.id, user.display_name)
    agents = sorted((a for a in figures.values() if a.name), key=lambda a: (a.name, a.user_id))
    return AgentReport(period, agents)


# --- the whole center ---------------------------------------------------------------------------

HOLIDAY_REASONS = ("holiday", "closure")
#: Flow-step branches of a node that waits for the caller's key press.
WAITING_FOR_CALLER = ("prompt", "invalid", "no_input")


@dataclass
class CenterFigures:
    inbound: int = 0
    outbound: int = 0
    outbound_answered: int = 0
    after_hours: int = 0
    holiday: int = 0
    ivr_calls: int = 0
    ivr_abandoned: int = 0

    def add(self, other: "CenterFigures") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def total(self) -> int:
        return self.inbound + self.outbound

    @property
    def ivr_abandonment_rate(self):
        return _ratio(self.ivr_abandoned, self.ivr_calls)


@dataclass
class NumberFigures:
    number: str
    inbound: int = 0
    outbound: int = 0
    outbound_answered: int = 0


@dataclass
class CenterReport:
    period: Period
    buckets: list[Bucket]
    cells: dict[int, CenterFigures]
    numbers: list[NumberFigures]
    #: [weekday 0=Monday][hour] -> calls (inbound and outbound), local time.
    by_hour: list[list[int]]

    def figures(self, index: int) -> CenterFigures:
        return self.cells.get(index) or CenterFigures()

    def total(self) -> CenterFigures:
        out = CenterFigures()
        for f in self.cells.values():
            out.add(f)
        return out

    @property
    def hours(self) -> list[int]:
        return [sum(day[h] for day in self.by_hour) for h in range(24)]

    @property
    def weekdays(self) -> list[int]:
        return [sum(day) for day in self.by_hour]


def center_query(tenant_id: int, period: Period, buckets: list[Bucket]):
    c = Call.__table__.c
    ev = CallEvent.__table__.c
    inbound = c.direction == Direction.inbound.value
    # "Answered" is the call list's fact (the call's outcome: for an outbound call, the called
    # party answered), not the carrier status of the agent's own leg.
    answered = c.outcome == CallOutcome.answered.value

    def step(*conditions):
        return exists().where(ev.call_id == c.id, ev.kind == EventKind.flow_step.value, *conditions)

    schedule_step = ev.data["type"].as_string() == "schedule"
    holiday = step(schedule_step, or_(ev.data["branch"].as_string() == "holiday", ev.data["reason"].as_string().in_(HOLIDAY_REASONS)))
    after_hours = step(schedule_step, ev.data["branch"].as_string() == "closed", ev.data["reason"].as_string().not_in(HOLIDAY_REASONS))
    steps = CallEvent.__table__.alias("steps")
    last_step = (
        select(func.max(steps.c.id)).where(steps.c.call_id == c.id, steps.c.kind == EventKind.flow_step.value)
        .correlate(Call.__table__).scalar_subquery()
    )
    left_in_ivr = and_(
        c.ended_at.is_not(None),
        ~exists().where(ev.call_id == c.id, ev.kind.in_([EventKind.entered_queue.value, EventKind.voicemail.value])),
        exists().where(ev.id == last_step, ev.data["type"].as_string() == "menu", ev.data["branch"].as_string().in_(WAITING_FOR_CALLER)),
    )
    bucket = bucket_of(c.started_at, buckets).label("bucket")
    stmt = (
        select(
            bucket,
            count(inbound).label("inbound"),
            count(~inbound).label("outbound"),
            count(and_(~inbound, answered)).label("outbound_answered"),
            count(and_(inbound, after_hours)).label("after_hours"),
            count(and_(inbound, holiday)).label("holiday"),
            count(and_(inbound, step())).label("ivr_calls"),
            count(and_(inbound, step(), left_in_ivr)).label("ivr_abandoned"),
        )
        .where(c.tenant_id == tenant_id, c.started_at >= period.start, c.started_at < period.end)
    )
    return grouped(stmt, buckets, bucket)


def center_report(session, tenant_id: int, period: Period) -> CenterReport:
    buckets = period.buckets()
    without_jit(session)
    cells = {}
    for row in session.execute(center_query(tenant_id, period, buckets)).mappings():
        cells[row["bucket"]] = CenterFigures(**{k: row[k] or 0 for k in CenterFigures.__dataclass_fields__})
    c = Call.__table__.c
    inbound = c.direction == Direction.inbound.value
    number = case((inbound, c.to_number), else_=c.from_number).label("number")
    numbers = {}
    for row in session.execute(
        select(number, c.direction, func.count().label("calls"), count(c.outcome == CallOutcome.answered.value).label("answered"))
        .where(c.tenant_id == tenant_id, c.started_at >= period.start, c.started_at < period.end)
        .group_by(number, c.direction)
    ):
        n = numbers.setdefault(row.number, NumberFigures(row.number))
        if row.direction == Direction.inbound.value:
            n.inbound = row.calls
        else:
            n.outbound, n.outbound_answered = row.calls, row.answered or 0
    by_hour = [[0] * 24 for _ in range(7)]
    slot = quarter_hour(c.started_at).label("slot")
    for row in session.execute(
        select(slot, func.count().label("calls"))
        .where(c.tenant_id == tenant_id, c.started_at >= period.start, c.started_at < period.end).group_by(slot)
    ):
        local = datetime.fromtimestamp(row.slot * 900, timezone.utc).astimezone(period.zone)
        by_hour[local.weekday()][local.hour] += row.calls
    ordered = sorted(numbers.values(), key=lambda n: (-(n.inbound + n.outbound), n.number))
    return CenterReport(period, buckets, cells, ordered, by_hour)


# --- the live wallboard -------------------------------------------------------------------------

@dataclass
class WallboardQueue:
    queue: Queue
    waiting: int
    longest_wait_seconds: int
    agents_logged_in: int
    agents_available: int
    today: QueueFigures
    #: Of ``waiting``: queued callbacks (the caller hung up and waits to be called back).
    callbacks_waiting: int = 0

    @property
    def id(self) -> int:
        return self.queue.id

    @property
    def name(self) -> str:
        return self.queue.name


@dataclass
class WallboardAgent:
    user_id: int
    name: str
    status: str
    since: datetime


@dataclass
class Wallboard:
    at: datetime
    queues: list[WallboardQueue]
    #: status -> number of agents (logged-in statuses; offline agents are not counted)
    statuses: dict[str, int]
    agents: list[WallboardAgent]


def wallboard(session, tenant_id: int, today: Period, *, now: datetime | None = None) -> Wallboard:
    """Each queue in use now (waiting calls, the oldest one's wait, agents) and today (figures,
    service level counting the callers still waiting), and every signed-in agent's status."""
    now = now or utcnow()
    qe = QueueEntry.__table__.c
    waiting = {
        row.queue_id: row for row in session.execute(
            select(qe.queue_id, func.count().label("waiting"), func.min(qe.entered_at).label("oldest"),
                   count(qe.callback_number.is_not(None)).label("callbacks"))
            .where(qe.tenant_id == tenant_id, qe.status.in_([EntryStatus.waiting.value, EntryStatus.offered.value]))
            .group_by(qe.queue_id)
        )
    }
    report = queue_report(session, tenant_id, today, now=now)
    agents = session.execute(
        select(Agent, User.display_name).join(User, User.id == Agent.user_id)
        .where(Agent.tenant_id == tenant_id, User.is_active.is_(True)).order_by(User.display_name, User.id)
    ).all()
    status_of_user = {agent.user_id: live_status(agent, now) for agent, _name in agents}
    members = defaultdict(list)
    for queue_id, user_id in session.execute(select(QueueMember.queue_id, QueueMember.user_id).where(QueueMember.tenant_id == tenant_id)):
        members[queue_id].append(user_id)
    queues = []
    for queue in report.queues:
        if queue.archived_at is not None:
            continue
        w = waiting.get(queue.id)
        oldest = w.oldest if w else None
        statuses = [status_of_user.get(u, "offline") for u in members[queue.id]]
        queues.append(WallboardQueue(
            queue, w.waiting if w else 0,
            max(0, int((now - oldest).total_seconds())) if oldest else 0,
            sum(1 for s in statuses if s not in ("offline", "disconnected")), sum(1 for s in statuses if s == "available"),
            report.total(queue.id), w.callbacks if w else 0,
        ))
    counts = {s: 0 for s in STATUSES if s != "offline"}
    listed = []
    for agent, name in agents:
        status = status_of_user[agent.user_id]
        if status == "offline":
            continue
        counts[status] = counts.get(status, 0) + 1
        since = agent.status_since if status == agent.status else (agent.available_at or agent.status_since)
        listed.append(WallboardAgent(agent.user_id, name, status, since))
    return Wallboard(now, queues, counts, listed)
