"""Writing and reading the audit log.

Views call :func:`record_audit` right after an administrative change, in the same transaction,
so an action that is rolled back leaves no entry and an entry never describes something that
did not happen. Secrets (passwords, carrier tokens) are never put in ``details``.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from pyramid.i18n import TranslationString
from sqlalchemy import select

from ..i18n import _
from ..models.meta import utcnow
from ..tenancy.models import ROLE_LABELS, Role, Tenant
from .models import AuditEntry

#: Every action code, with the sentence that describes an entry (``${…}`` from its details).
ACTIONS: dict[str, TranslationString] = {
    "tenant.create": _("Created company ${slug} (${name}) with first administrator ${admin_email}"),
    "tenant.suspend": _("Suspended company ${slug}. Reason: ${reason}"),
    "tenant.resume": _("Resumed company ${slug}"),
    "tenant.carrier_credentials": _("Changed the carrier credentials of ${slug} (account ${account_id})"),
    "tenant.admin_password": _("Issued a new one-time password for ${email}"),
    "billing.terms": _(
        "Set the prices of ${slug} from ${effective_from}: ${unit_price_yen} yen per account, "
        "${recording_price_yen_per_minute} yen per recording minute, "
        "${storage_price_yen_per_minute} yen per stored recording minute"
    ),
    "user.create": _("Created user ${email} (${role})"),
    "user.deactivate": _("Deactivated user ${email}"),
    "user.activate": _("Reactivated user ${email}"),
    "user.update": _("Changed user ${email}: ${changes}"),
    "user.sessions_ended": _("Signed user ${email} out everywhere (${count} session(s) ended)"),
    "sms.notification_recipients": _("Changed who is notified of incoming SMS: ${emails}"),
}

#: How a changed user field is named in a ``user.update`` summary.
FIELD_LABELS = {
    "display_name": _("name"),
    "role": _("role"),
    "locale": _("language"),
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def add_audit_entry(
    session,
    action: str,
    *,
    actor=None,
    tenant_id: int | None = None,
    target=None,
    details: dict | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add an entry outside a request (CLI, background work); see :func:`record_audit`."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: add it to ecti.audit.services.ACTIONS")
    if target is not None and getattr(target, "id", None) is None:
        session.flush()  # the target needs its id
    entry = AuditEntry(
        tenant_id=tenant_id,
        actor_id=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else None,
        action=action,
        target_type=type(target).__name__ if target is not None else None,
        target_id=target.id if target is not None else None,
        details=_jsonable(details or {}),
        at=at or utcnow(),
    )
    session.add(entry)
    return entry


def record_audit(request, action: str, target=None, **details) -> AuditEntry:
    """Record that the signed-in user did ``action`` (a code of :data:`ACTIONS`) to ``target``.

    The entry belongs to the company the action concerns: the target itself when it is a
    :class:`~ecti.tenancy.models.Tenant`, else the target's tenant, else the actor's; operator
    actions concerning no company have none. ``details`` must not contain secrets.
    """
    if isinstance(target, Tenant):
        if target.id is None:
            request.db.flush()
        tenant_id = target.id
    elif getattr(target, "tenant_id", None) is not None:
        tenant_id = target.tenant_id
    else:
        tenant = request.tenant
        tenant_id = tenant.id if tenant is not None else None
    return add_audit_entry(request.db, action, actor=request.identity, tenant_id=tenant_id, target=target, details=details)


def list_entries(session, *, tenant_id: int | None = None, before_id: int | None = None, limit: int = 100) -> list[AuditEntry]:
    """Newest first. The session's tenant scope already limits a tenant admin to their own
    company; ``tenant_id`` filters further (the operator's "filter by company")."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(AuditEntry.tenant_id == tenant_id)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query))


def summary(localizer, entry: AuditEntry) -> str:
    """The entry as a sentence in the reader's language."""
    template = ACTIONS.get(entry.action)
    if template is None:  # an action code of a newer or removed feature
        return entry.action
    mapping: dict[str, Any] = {k: v for k, v in (entry.details or {}).items() if not isinstance(v, (dict, list))}
    role = mapping.get("role")
    if role in Role._value2member_map_:
        mapping["role"] = localizer.translate(ROLE_LABELS[Role(role)])
    if entry.action == "user.update":
        changes = entry.details.get("changes") or {}
        parts = []
        for field, change in changes.items():
            old, new = (change + [None, None])[:2] if isinstance(change, list) else (None, change)
            if field == "role":
                old, new = (localizer.translate(ROLE_LABELS[Role(v)]) if v in Role._value2member_map_ else v for v in (old, new))
            label = localizer.translate(FIELD_LABELS[field]) if field in FIELD_LABELS else field
            parts.append(f"{label} {old or '-'} → {new or '-'}")
        mapping["changes"] = ", ".join(parts)
    return localizer.translate(_(str(template), mapping=mapping))


def audit_entry_dict(localizer, entry: AuditEntry) -> dict:
    return {
        "id": entry.id,
        "at": entry.at,
        "tenant_id": entry.tenant_id,
        "actor_id": entry.actor_id,
        "actor_email": entry.actor_email,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "details": entry.details or {},
        "summary": summary(localizer, entry),
    }
