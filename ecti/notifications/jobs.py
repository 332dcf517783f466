"""``notifications.send`` (queued after commit) and the per-minute ``notifications.retry``."""
from __future__ import annotations

from huey import crontab

from .services import SEND_JOB, send_due, send_job


def retry_job(registry):
    return send_due(registry)


def includeme(config):
    config.add_job(SEND_JOB, send_job)
    config.add_job("notifications.retry", retry_job, periodic=crontab(minute="*"))
