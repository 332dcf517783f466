"""The dialer's background work (huey, see :mod:`ecti.jobs`).

* ``dialer.tick`` — every minute: rows shown to an agent and not dialed for
  :data:`~ecti.dialer.services.STALE_RESERVATION` go back to their list (the agent closed the
  page or signed off without leaving). Not needed for correctness otherwise: reservations,
  retries and callbacks are evaluated when an agent asks for the next row.
"""
from __future__ import annotations

import logging

from huey import crontab
from sqlalchemy import select

from .. import jobs
from .models import AttemptStatus, DialingAttempt
from .services import release_stale

log = logging.getLogger(__name__)


def tick_job(registry) -> None:
    with jobs.in_transaction(registry, None) as request:
        tenants = sorted(set(request.db.scalars(select(DialingAttempt.tenant_id).where(DialingAttempt.status == AttemptStatus.reserved))))
    for tenant_id in tenants:
        try:
            jobs.run_with_retry(registry, tenant_id, release_stale)
        except Exception:  # one tenant's trouble must not stop the others
            log.exception("dialer tick failed for tenant %s", tenant_id)


def includeme(config):
    config.add_job("dialer.tick", tick_job, periodic=crontab(minute="*"))
