"""``recordings.retention``: every night, recordings older than the company keeps them are
deleted at the carrier (:func:`ecti.recordings.services.apply_retention`)."""
from __future__ import annotations

from huey import crontab

from .services import apply_retention


def retention_job(registry):
    return apply_retention(registry)


def includeme(config):
    config.add_job("recordings.retention", retention_job, periodic=crontab(hour="3", minute="17"))
