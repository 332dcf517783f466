"""Background and deferred work through huey (ARCHITECTURE: a real job library, no thread loop).

The storage is chosen by ``ecti.jobs.backend``:

* ``sqlite`` (default) — huey's SQLite storage in ``ecti.jobs.path`` (default
  ``var/jobs.sqlite``): the embedded default, one worker next to one app;
* ``redis://host:6379/0`` — huey's Redis storage, for several app processes;
* ``memory`` — kept in memory and never run by a worker (tests call the work directly);
* ``immediate`` — run at once, in the process that enqueues (small scripts).

``ecti jobs worker`` (started by ``make run``) runs the consumer with the periodic tasks.

Subsystems register work with ``config.add_job(name, function, periodic=crontab)``; the
function is ``function(registry, *args)`` and usually opens a transaction with
:func:`in_transaction`.
"""
from __future__ import annotations

import contextlib
import logging
from datetime import datetime

from huey import MemoryHuey, RedisHuey, SqliteHuey

log = logging.getLogger(__name__)

HUEY_KEY = "ecti.huey"
JOBS_KEY = "ecti.jobs"


def make_huey(settings: dict):
    backend = (settings.get("ecti.jobs.backend") or "sqlite").strip()
    if backend == "memory":
        return MemoryHuey("ecti")
    if backend == "immediate":
        return MemoryHuey("ecti", immediate=True)
    if backend.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("ecti", url=backend)
    if backend != "sqlite":
        raise ValueError(f"ecti.jobs.backend must be sqlite, memory, immediate or a redis:// URL, not {backend!r}")
    path = settings.get("ecti.jobs.path") or "var/jobs.sqlite"
    return SqliteHuey("ecti", filename=path)


def add_job(config, name: str, function, *, periodic=None) -> None:
    """Register ``function(registry, *args)`` as the job ``name`` (periodic with a crontab)."""
    registry = config.registry
    huey = registry[HUEY_KEY]

    def run(*args):
        return function(registry, *args)

    run.__name__ = name.replace(".", "_")
    task = huey.periodic_task(periodic, name=name)(run) if periodic is not None else huey.task(name=name)(run)
    registry.setdefault(JOBS_KEY, {})[name] = task


def enqueue(registry, name: str, *args, eta: datetime | None = None) -> None:
    """Queue the job ``name`` now or at ``eta``; a failing job store is logged, not raised."""
    task = registry.get(JOBS_KEY, {}).get(name)
    if task is None:
        return
    try:
        if eta is not None:
            task.schedule(args=args, eta=eta)
        else:
            task(*args)
    except Exception:
        log.exception("could not queue job %s", name)


@contextlib.contextmanager
def in_transaction(registry, tenant_id: int | None, *, base_url: str | None = None):
    """A request-like object for background work: ``.db`` scoped to the tenant, ``.tm``,
    ``.registry``; committed when the block ends, rolled back when it raises. ``base_url``
    addresses it like a web request to that host (URLs it generates)."""
    import transaction
    from pyramid.interfaces import IRequestFactory
    from pyramid.request import Request
    from pyramid.scripting import prepare

    from .db import ALL_TENANTS, SCOPE_KEY, set_tenant_scope, writing

    blank = None
    if base_url:
        blank = registry.queryUtility(IRequestFactory, default=Request).blank("/", base_url=base_url)
        blank.registry = registry
    env = prepare(request=blank, registry=registry)
    request = env["request"]
    request.tm = transaction.TransactionManager(explicit=True)
    request.tm.begin()
    try:
        session = request.db
        session.bind = writing(session.bind)
        if tenant_id is None:
            session.info[SCOPE_KEY] = ALL_TENANTS
        else:
            set_tenant_scope(session, tenant_id)
        yield request
        request.tm.commit()
    except BaseException:
        request.tm.abort()
        raise
    finally:
        env["closer"]()


def run_with_retry(registry, tenant_id: int | None, work, attempts: int = 5):
    """``work(request)`` in its own transaction, retried when the database reports a
    serialization failure or deadlock (concurrent routers on PostgreSQL)."""
    from sqlalchemy.exc import DBAPIError

    for attempt in range(attempts):
        try:
            with in_transaction(registry, tenant_id) as request:
                return work(request)
        except DBAPIError as exc:
            code = getattr(getattr(exc, "orig", None), "sqlstate", None)
            if code not in ("40001", "40P01") or attempt == attempts - 1:
                raise
            log.info("retrying job after %s", code)


def includeme(config):
    config.registry[HUEY_KEY] = make_huey(config.get_settings())
    config.add_directive("add_job", add_job)
