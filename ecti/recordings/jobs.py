"""``recordings.retention``: every night, recordings older than the company keeps them are
deleted at the carrier (:func:`ecti.recordings.services.apply_retention`); ``recordings.limit``:
an hour after a recording started, it is stopped if it still runs."""
from __future__ import annotations

from huey import crontab

from .services import LIMIT_JOB, apply_retention, stop_if_recording


def retention_job(registry):
    return apply_retention(registry)


def includeme(config):
    config.add_job("recordings.retention", retention_job, periodic=crontab(hour="3", minute="17"))
    config.add_job(LIMIT_JOB, stop_if_recording)
