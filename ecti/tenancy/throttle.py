"""Sign-in throttling per client address and per login name, shared by every app process.

Each attempt is counted *before* the password is checked (in its own short transaction), so 20
attempts at once are counted as 20. After ``free`` attempts within ``forget_after``, the key
must wait before its next attempt, and each further attempt doubles the wait up to ``longest``:

* per client address: 10 free, then 1 s, 2 s, 4 s … at most 15 min — an attacker's machine;
* per login name (known or not, so the answer tells nothing): 5 free, then 1 s, 2 s … at most
  60 s — an attack spread over many addresses, which therefore never keeps the owner out for
  more than a minute. No account is ever locked.

A successful sign-in clears its login name and takes its own attempt back from the address, so a
shared office address is not throttled by its own colleagues. Refused attempts cost no argon2
time; the argon2 verifications that do run are limited per process (``ecti.signin_concurrency``,
default: one fewer than the CPUs) so a burst cannot take every CPU from the other requests.
"""
from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..db import writing
from ..models.meta import utcnow
from .models import SigninThrottle, email_key


@dataclass(frozen=True)
class Rule:
    prefix: str
    free: int
    longest: timedelta
    forget_after: timedelta
    first: timedelta = timedelta(seconds=1)

    def wait_after(self, failures: int) -> timedelta | None:
        if failures < self.free:
            return None
        return min(self.first * 2 ** (failures - self.free), self.longest)


ADDRESS = Rule("address", free=10, longest=timedelta(minutes=15), forget_after=timedelta(hours=1))
ACCOUNT = Rule("account", free=5, longest=timedelta(seconds=60), forget_after=timedelta(minutes=15))
#: Rows untouched for this long are deleted.
KEEP = timedelta(days=1)


def keys_for(address: str, email: str) -> list[tuple[str, Rule]]:
    account = hashlib.sha256(email_key(email).encode("utf-8")).hexdigest()
    return [(f"address:{address}"[:100], ADDRESS), (f"account:{account}", ACCOUNT)]


def _insert(dialect: str):
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SigninThrottle.__table__)


def reserve(engine, address: str, email: str, *, now: datetime | None = None) -> float:
    """Count one sign-in attempt; return 0 to go ahead, else how many seconds to wait first."""
    now = now or utcnow()
    table = SigninThrottle.__table__
    keys = keys_for(address, email)
    with writing(engine).begin() as conn:
        conn.execute(_insert(conn.dialect.name).values([{"key": k, "failures": 0, "updated_at": now} for k, _ in keys])
                     .on_conflict_do_nothing(index_elements=["key"]))
        rows = {r.key: r for r in conn.execute(select(table).where(table.c.key.in_([k for k, _ in keys])).with_for_update())}
        wait = max(((rows[k].blocked_until - now).total_seconds() for k, _ in keys
                    if rows[k].blocked_until is not None and rows[k].blocked_until > now), default=0.0)
        if wait:
            return wait
        for key, rule in keys:
            row = rows[key]
            failures = (0 if row.updated_at < now - rule.forget_after else row.failures) + 1
            pause = rule.wait_after(failures)
            conn.execute(update(table).where(table.c.key == key)
                         .values(failures=failures, blocked_until=now + pause if pause else None, updated_at=now))
        conn.execute(delete(table).where(table.c.updated_at < now - KEEP))
    return 0.0


def succeeded(session, address: str, email: str) -> None:
    """The attempt was the owner's: forget the login name's failures, give the address its
    attempt back (in the request's transaction ``session``, committed with the sign-in)."""
    table = SigninThrottle.__table__
    (address_key, rule), (account_key, _) = keys_for(address, email)
    session.execute(delete(table).where(table.c.key == account_key))
    row = session.execute(select(table).where(table.c.key == address_key).with_for_update()).first()
    if row is not None and row.failures > 0:
        failures = row.failures - 1
        values = {"failures": failures}
        if rule.wait_after(failures) is None:
            values["blocked_until"] = None
        session.execute(update(table).where(table.c.key == address_key).values(**values))


def default_concurrency() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


def verification_gate(settings) -> threading.BoundedSemaphore:
    """How many argon2 verifications this process runs at once (``ecti.signin_concurrency``)."""
    return threading.BoundedSemaphore(int(settings.get("ecti.signin_concurrency") or default_concurrency()))
