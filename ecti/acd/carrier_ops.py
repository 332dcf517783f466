"""Talking to the tenant's carrier from the ACD, and doing it at the right moment.

Ringing an agent or ending a leg must only happen once the decision that asked for it is
committed (a rolled-back reservation must not leave a phone ringing), so those operations run
in an after-commit hook; their follow-ups (remember the leg, a failed dial) run in a new
transaction through :func:`ecti.jobs.in_transaction`. Operations a person is waiting for
(hold, resume, transfer) run before commit instead, so a carrier error reaches them and the
database is left as it was.
"""
from __future__ import annotations

import logging

from ..errors import UserError
from ..i18n import _
from ..tenancy.models import Tenant

log = logging.getLogger(__name__)


def carrier_for(request, tenant: Tenant):
    carrier = request.registry.ecti.carriers.get(tenant.carrier)
    if carrier is None:
        log.error("tenant %s uses carrier %r, which no plugin provides", tenant.slug, tenant.carrier)
    return carrier


def after_commit(request, action, what: str) -> None:
    """Run ``action()`` once the request's transaction has committed (never if it aborts)."""

    def hook(committed):
        if not committed:
            return
        try:
            action()
        except Exception:  # the carrier or the network failed; the reconciler repairs the rest
            log.exception("ACD carrier operation failed after commit: %s", what)

    request.tm.get().addAfterCommitHook(hook)


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
    """Call a carrier operation after commit; failures are logged."""

    def action():
        carrier = carrier_for(request, tenant)
        operation = getattr(carrier, method, None) if carrier is not None else None
        if operation is not None:
            operation(request=request, tenant=tenant, **kw)

    after_commit(request, action, f"{method} {kw}")
