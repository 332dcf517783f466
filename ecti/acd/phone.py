"""Presence from the connection: the agent's phone keeps a heartbeat, and when it stops the
agent is out of routing, shown *disconnected* with a reason, and the time is its own status in
the history (so reports and occupancy do not count a closed tab as 待機中).

* The softphone page sends ``POST /api/v1/acd/me/heartbeat`` every ``interval`` seconds while
  its device is registered (and says so at once when the device reports ``unregistered``), and
  ``POST /api/v1/acd/me/heartbeat/gone`` with ``navigator.sendBeacon`` when the page goes away.
* Routing offers a call only to an agent whose phone was seen within ``timeout`` seconds
  (:func:`phone_connected`, evaluated when read, like every other timer of the ACD), so the
  agent is out of routing ``timeout`` seconds after the last heartbeat whatever the sweep does.
* The sweep (:func:`sweep`, the job ``acd.presence`` every ``timeout / 3`` seconds) writes the
  disconnection down: presence ``disconnected`` from the moment the phone was last seen, a
  ringing offer goes back to the queue (and on to another agent).
* When the phone is back (:func:`heartbeat`), the presence before comes back only where it is
  safe: 離席中 and 後処理 always; 待機中 only if the agent was disconnected for less than
  ``restore_minutes`` — otherwise the agent comes back 離席中 and the page says why.

Settings (ini): ``ecti.acd.phone_timeout_seconds`` (default 30, at least 3) and
``ecti.acd.restore_available_minutes`` (default 5; 0: never restore 待機中 by itself).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from ..i18n import _
from ..models.meta import utcnow
from .agents import agent_for, change, settle
from .models import Agent, AgentState, Offer, OfferStatus, Presence

log = logging.getLogger(__name__)

#: Presences an open phone keeps: a phone that stops takes the agent from any of them to
#: ``disconnected`` (offline agents have nothing to lose).
CONNECTED_PRESENCES = (Presence.available, Presence.away, Presence.after_call_work)
#: Why an agent is disconnected (``Agent.disconnect_reason``), as the API and the history say it.
REASONS = ("page_closed", "phone_lost", "device_unregistered")
REASON_LABELS = {
    "page_closed": _("The phone page was closed."),
    "phone_lost": _("The phone stopped responding (network or browser)."),
    "device_unregistered": _("The phone is not registered with the carrier."),
}
#: The away reason of an agent who came back too late to be put back to 待機中.
AWAY_AFTER_DISCONNECT = "phone_disconnected"
#: Away reasons the system sets, as people read them.
AWAY_REASON_LABELS = {
    "no_answer": _("Calls not answered"),
    AWAY_AFTER_DISCONNECT: _("Phone was disconnected"),
}


@dataclass(frozen=True)
class PhoneSettings:
    timeout: timedelta
    restore: timedelta

    @property
    def interval_seconds(self) -> int:
        """How often the page says it is there: three heartbeats fit in the timeout."""
        return max(1, int(self.timeout.total_seconds() // 3))


def phone_settings(registry) -> PhoneSettings:
    settings = registry.settings
    timeout = max(3, int(settings.get("ecti.acd.phone_timeout_seconds") or 30))
    restore = max(0, int(settings.get("ecti.acd.restore_available_minutes") or 5))
    return PhoneSettings(timeout=timedelta(seconds=timeout), restore=timedelta(minutes=restore))


def phone_connected(now: datetime, timeout: timedelta):
    """SQL: the agent's phone was seen within the timeout (routing's condition)."""
    return Agent.phone_seen_at >= now - timeout


def seen(agent: Agent, now: datetime, page: str | None = None) -> None:
    """The phone is there now (a heartbeat, or the agent acting on the page)."""
    agent.phone_seen_at = now
    if page:
        agent.phone_page = page


def disconnect(request, agent: Agent, reason: str, *, at: datetime, now: datetime) -> bool:
    """Set the (locked) agent disconnected from ``at``; a ringing offer goes back to its queue.

    An agent on a call keeps it (the carrier ends a leg whose phone is gone); their status shows
    the call, then the wrap-up, then *disconnected*. Returns whether anything changed.
    """
    from .routing import route_offer_back

    if agent.presence not in CONNECTED_PRESENCES:
        return False
    agent.phone_seen_at = None  # known gone: routing must not pick the agent again meanwhile
    request.db.flush()
    settle(request, agent, now)
    if agent.state is AgentState.ringing:
        route_offer_back(request, agent, now)
        agent = agent_for(request, agent.user_id, lock=True)
    before = agent.presence
    kwargs = {}
    if agent.state is AgentState.wrap_up and agent.available_at is not None:
        kwargs["available_at"] = agent.available_at  # the wrap-up runs on; routing skips the agent
    elif agent.state is AgentState.idle:
        kwargs["available_at"] = None
    change(request, agent, presence=Presence.disconnected, at=max(at, agent.status_since), reason=reason, **kwargs)
    agent.presence_before = before.value
    agent.disconnected_at = max(at, agent.status_since)
    agent.disconnect_reason = reason
    log.info("agent %s disconnected (%s), was %s", agent.user_id, reason, before.value)
    request.db.flush()
    from .routing import leave_when_empty

    leave_when_empty(request, agent.user_id, now)
    return True


def heartbeat(request, user_id: int, *, registered: bool, page: str | None, now: datetime | None = None) -> str | None:
    """The agent's phone says it is there (``registered``) or that its device is not.

    Returns what happened to the presence: ``restored``, ``away`` (back too late for 待機中),
    ``disconnected`` (the device is unregistered) or None.
    """
    from .routing import route_for_agent, route_offer_back

    now = now or utcnow()
    cfg = phone_settings(request.registry)
    agent = agent_for(request, user_id, lock=True)
    if not registered:
        return "disconnected" if disconnect(request, agent, "device_unregistered", at=now, now=now) else None
    new_page = bool(page) and page != agent.phone_page
    seen(agent, now, page)
    if new_page and agent.state is AgentState.ringing:
        # An offer made before this page's phone registered rang the old one (a closed tab):
        # nothing rings here, so the call goes back to its place and is offered again.
        ringing = request.db.scalar(select(Offer).where(Offer.user_id == user_id, Offer.status == OfferStatus.ringing))
        if ringing is not None and ringing.offered_at < now:
            route_offer_back(request, agent, now)
            agent = agent_for(request, user_id, lock=True)
            seen(agent, now, page)
    if agent.presence is not Presence.disconnected:
        return None
    before = Presence(agent.presence_before or Presence.offline.value)
    gone = now - (agent.disconnected_at or now)
    outcome = "restored"
    if before is Presence.available and gone > cfg.restore:
        before, outcome = Presence.away, "away"
    kwargs = {}
    if agent.state is AgentState.idle:
        kwargs["available_at"] = now if before is Presence.available else None
    change(request, agent, presence=before, at=now, reason="phone_reconnected" if outcome == "restored" else "disconnected_too_long",
           away_reason=AWAY_AFTER_DISCONNECT if outcome == "away" else agent.away_reason if before is Presence.away else None,
           **kwargs)
    agent.presence_before = None
    agent.disconnected_at = None
    agent.disconnect_reason = None
    if before is Presence.available:
        agent.missed_in_row = 0
        request.db.flush()
        route_for_agent(request, user_id, now)
    return outcome


def gone(request, user_id: int, now: datetime | None = None) -> bool:
    """The page is going away (``pagehide``): disconnected now, not a timeout later."""
    now = now or utcnow()
    agent = agent_for(request, user_id, lock=True)
    if disconnect(request, agent, "page_closed", at=now, now=now):
        return True
    agent.phone_seen_at = None  # an offline agent's page closed: nothing else to change
    return False


def stale_agents(request, now: datetime, timeout: timedelta) -> list[int]:
    """Agents of the request's scope still counted as connected whose phone went quiet."""
    last = func.coalesce(Agent.phone_seen_at, Agent.status_since)
    return list(request.db.scalars(
        select(Agent.user_id).where(Agent.presence.in_(CONNECTED_PRESENCES), or_(last < now - timeout, last.is_(None)))
        .order_by(Agent.user_id)
    ))


def sweep(request, now: datetime | None = None) -> list[int]:
    """Write down the disconnection of every agent (of the request's tenant) whose phone went
    quiet, from the moment it was last seen; returns their user ids."""
    now = now or utcnow()
    cfg = phone_settings(request.registry)
    done = []
    for user_id in stale_agents(request, now, cfg.timeout):
        agent = agent_for(request, user_id, lock=True)
        last = agent.phone_seen_at or agent.status_since
        if agent.presence not in CONNECTED_PRESENCES or last >= now - cfg.timeout:
            continue  # it came back while we looked
        # Never seen (an agent from before phones had a heartbeat): nobody knows since when, so
        # from now rather than rewriting the time since their last change.
        at = agent.phone_seen_at or now
        if disconnect(request, agent, "phone_lost", at=at, now=now):
            done.append(user_id)
    return done
