"""The dialer's background work (huey, see :mod:`ecti.jobs`).

* ``dialer.tick`` — every minute: rows shown to an agent and not dialed for
  :data:`~ecti.dialer.services.STALE_RESERVATION` go back to their list (the agent closed the
  page or signed off without leaving). Not needed for correctness otherwise: reservations,
  retries and callbacks are evaluated when an agent asks for the next row.
  It also deletes checked uploads never confirmed for
  :data:`~ecti.dialer.services.UNCONFIRMED_IMPORT_KEPT` (24 hours).
"""
from __future__ import annotations

import logging

from huey import crontab
from sqlalchemy import select

from .. import jobs
from ..models.meta import utcnow
from .models import AttemptStatus, DialingAttempt, DialingImport
from .services import UNCONFIRMED_IMPORT_KEPT, purge_unconfirmed_imports, release_stale

log = logging.getLogger(__name__)


def tick_job(registry, now=None) -> None:
    now = now or utcnow()
    with jobs.in_transaction(registry, None) as request:
        stale = set(request.db.scalars(select(DialingAttempt.tenant_id).where(DialingAttempt.status == AttemptStatus.reserved)))
        old_imports = set(request.db.scalars(
            select(DialingImport.tenant_id).where(DialingImport.confirmed_at.is_(None), DialingImport.created_at <= now - UNCONFIRMED_IMPORT_KEPT)
        ))
    for tenant_id in sorted(stale | old_imports):
        try:
            jobs.run_with_retry(registry, tenant_id, lambda r: (release_stale(r, now), purge_unconfirmed_imports(r, now)))
        except Exception:  # one tenant's trouble must not stop the others
            log.exception("dialer tick failed for tenant %s", tenant_id)


def includeme(config):
    config.add_job("dialer.tick", tick_job, periodic=crontab(minute="*"))
