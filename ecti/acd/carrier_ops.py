"""Talking to the tenant's carrier from the ACD, and doing it at the right moment.

Ringing an agent or ending a leg must only happen once the decision that asked for it is
committed (a rolled-back reservation must not leave a phone ringing), so those operations run
in an after-commit hook; their follow-ups (remember the leg, a failed dial) run in a new
transaction through :func:`ecti.jobs.in_transaction`. Operations a person is waiting for
(hold, resume, transfer) run before commit instead, so a carrier error reaches them and the
database is left as it was.

After-commit carrier requests do not hold up the answer the carrier is waiting for (the
caller's TwiML must not wait for a REST round trip): with ``background=True`` they run on a
small bounded pool of threads per process (``ecti.carrier.threads``, default 4; 0 runs them in
the request thread as before), each in its own transaction scoped to the tenant. The
guarantees are those of the inline hook: the work is handed over exactly once, only after the
commit; a failure is logged and its follow-up recorded (a failed dial ends the offer); a
process that dies before the work ran leaves an offer that the ``acd.expire`` job ends as
unanswered. When the pool's backlog is full, the work runs in the request thread (back pressure
rather than an unbounded queue).
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from ..errors import UserError
from ..i18n import _
from ..tenancy.models import Tenant

log = logging.getLogger(__name__)

POOL_KEY = "ecti.acd.carrier_pool"
#: Work items that may wait for a free thread, per thread, before work runs inline.
BACKLOG_PER_THREAD = 16
_pool_lock = threading.Lock()


class CarrierPool:
    """A bounded thread pool for after-commit carrier requests."""

    def __init__(self, threads: int):
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ecti-carrier")
        self.slots = threading.BoundedSemaphore(threads * (1 + BACKLOG_PER_THREAD))

    def submit(self, work) -> bool:
        """Run ``work()`` on the pool; False (nothing queued) when the backlog is full."""
        if not self.slots.acquire(blocking=False):
            return False

        def run():
            try:
                work()
            finally:
                self.slots.release()

        try:
            self.executor.submit(run)
        except RuntimeError:  # the interpreter is shutting down
            self.slots.release()
            return False
        return True


def carrier_pool(registry) -> CarrierPool | None:
    """The process's pool for background carrier work, None when it runs inline."""
    pool = registry.get(POOL_KEY)
    if pool is not None:
        return pool
    threads = int(registry.settings.get("ecti.carrier.threads", 4) or 0) if registry.settings else 4
    if threads <= 0:
        return None
    with _pool_lock:
        pool = registry.get(POOL_KEY)
        if pool is None:
            pool = registry[POOL_KEY] = CarrierPool(threads)
    return pool


def carrier_for(request, tenant: Tenant):
    carrier = request.registry.ecti.carriers.get(tenant.carrier)
    if carrier is None:
        log.error("tenant %s uses carrier %r, which no plugin provides", tenant.slug, tenant.carrier)
    return carrier


def after_commit(request, action, what: str, *, background: bool = False) -> None:
    """Run ``action()`` once the request's transaction has committed (never if it aborts).

    With ``background``, ``action`` runs on the process's carrier pool (when it has one) and
    must not touch this request's session: it opens its own (:func:`in_background`)."""

    def run():
        try:
            action()
        except Exception:  # the carrier or the network failed; the reconciler repairs the rest
            log.exception("ACD carrier operation failed after commit: %s", what)

    registry = request.registry

    def hook(committed):
        if not committed:
            return
        pool = carrier_pool(registry) if background else None
        if pool is None or not pool.submit(run):
            run()

    request.tm.get().addAfterCommitHook(hook)


def in_background(request, tenant_id: int):
    """A context manager giving a request-like object with its own transaction for
    ``tenant_id``, addressed like ``request`` (the URLs the carrier calls back)."""
    from .. import jobs

    return jobs.in_transaction(request.registry, tenant_id, base_url=request.host_url)


def call_now(request, tenant: Tenant, method: str, **kw):
    """Call a carrier operation a person is waiting for; a failure becomes a clear error."""
    carrier = carrier_for(request, tenant)
    operation = getattr(carrier, method, None) if carrier is not None else None
    if operation is None:
        raise UserError("carrier_unsupported", _("The company's carrier cannot do this."), status=409)
    try:
        return operation(request=request, tenant=tenant, **kw)
    except UserError:
        raise
    except Exception as exc:
        log.exception("carrier operation %s failed", method)
        raise UserError("carrier_error", _("The carrier refused the operation: ${error}", mapping={"error": str(exc)}), status=502)


def later(request, tenant: Tenant, method: str, **kw) -> None:
    """Call a carrier operation after commit, off the request's response path; failures are
    logged."""
    tenant_id = tenant.id
    background = in_background(request, tenant_id)

    def action():
        with background as r:
            scoped = r.db.get(Tenant, tenant_id)
            carrier = carrier_for(r, scoped)
            operation = getattr(carrier, method, None) if carrier is not None else None
            if operation is not None:
                operation(request=r, tenant=scoped, **kw)

    after_commit(request, action, f"{method} {kw}", background=True)
