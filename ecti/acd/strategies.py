"""The bundled routing strategies (registered through ``ecti_routing_strategies``).

Each orders the free candidates of one member level; the ACD offers the call to the first
candidate it can claim. Ties are broken by agent id so every strategy is deterministic
except ``random``.

Each also says how to order in SQL (``sql_order``), so a routing decision reads only the first
few free agents however many there are; ``order`` then orders those few (and is what a
strategy without ``sql_order`` is given every free agent for).
"""
from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import Sequence

from sqlalchemy import case

from ..i18n import _
from ..interfaces import RoutingCandidate

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class LongestIdle:
    """The agent who has been waiting longest gets the call (default; FreeSWITCH's default)."""

    name = "longest_idle"
    label = _("Longest idle")

    def order(self, candidates: Sequence[RoutingCandidate], *, queue=None, cursor=None):
        return sorted(candidates, key=lambda c: (c.idle_since or _EPOCH, c.agent_id))

    def sql_order(self, columns, *, queue=None, cursor=None):
        return [columns.idle_since, columns.agent_id]


class RoundRobin:
    """Members in turn, starting after the last one offered (the cursor is kept in the database)."""

    name = "round_robin"
    label = _("Round robin")
    uses_cursor = True

    def order(self, candidates, *, queue=None, cursor=None):
        ordered = sorted(candidates, key=lambda c: (c.member_order, c.agent_id))
        if cursor is None:
            return ordered
        after = [c for c in ordered if c.member_order > cursor]
        return after + [c for c in ordered if c.member_order <= cursor]

    def sql_order(self, columns, *, queue=None, cursor=None):
        if cursor is None:
            return [columns.member_order, columns.agent_id]
        return [case((columns.member_order > cursor, 0), else_=1), columns.member_order, columns.agent_id]


class Linear:
    """Always in member order: the first free member in the list gets the call."""

    name = "linear"
    label = _("Linear (member order)")

    def order(self, candidates, *, queue=None, cursor=None):
        return sorted(candidates, key=lambda c: (c.member_order, c.agent_id))

    def sql_order(self, columns, *, queue=None, cursor=None):
        return [columns.member_order, columns.agent_id]


class FewestCalls:
    """The agent who has answered the fewest calls today."""

    name = "fewest_calls"
    label = _("Fewest calls")

    def order(self, candidates, *, queue=None, cursor=None):
        return sorted(candidates, key=lambda c: (c.calls_today, c.idle_since or _EPOCH, c.agent_id))

    def sql_order(self, columns, *, queue=None, cursor=None):
        return [columns.calls_today, columns.idle_since, columns.agent_id]


class LeastTalkTime:
    """The agent with the least talk time today."""

    name = "least_talk_time"
    label = _("Least talk time")

    def order(self, candidates, *, queue=None, cursor=None):
        return sorted(candidates, key=lambda c: (c.talk_seconds_today, c.idle_since or _EPOCH, c.agent_id))

    def sql_order(self, columns, *, queue=None, cursor=None):
        return [columns.talk_seconds_today, columns.idle_since, columns.agent_id]


class Random:
    """A free agent chosen at random."""

    name = "random"
    label = _("Random")

    def __init__(self, rng: random.Random | None = None):
        self._rng = rng or random.SystemRandom()

    def order(self, candidates, *, queue=None, cursor=None):
        shuffled = list(candidates)
        self._rng.shuffle(shuffled)
        return shuffled

    def sql_order(self, columns, *, queue=None, cursor=None):
        return [columns.random]


class RingAll:
    """Every free agent rings at once; the first to answer wins, the others stop ringing."""

    name = "ring_all"
    label = _("Ring all")
    rings_all = True

    def order(self, candidates, *, queue=None, cursor=None):
        return sorted(candidates, key=lambda c: c.agent_id)


BUNDLED = (LongestIdle(), RoundRobin(), Linear(), FewestCalls(), LeastTalkTime(), Random(), RingAll())
