"""Writing and reading the audit log.

Views call :func:`record_audit` right after an administrative change, in the same transaction,
so an action that is rolled back leaves no entry and an entry never describes something that
did not happen. Secrets (passwords, carrier tokens) are never put in ``details``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pyramid.i18n import TranslationString
from sqlalchemy import select

from ..i18n import _
from ..models.meta import utcnow
from ..tenancy.models import ROLE_LABELS, Role, Tenant
from .models import AuditEntry
from .tracking import plain as _jsonable

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
    "monitor.start": _("Started monitoring call ${call} of ${agent} (${mode})"),
    "monitor.mode": _("Switched the monitoring of call ${call} of ${agent} from ${from_mode} to ${to_mode}"),
    "monitor.end": _("Stopped monitoring call ${call} of ${agent} (${mode})"),
    "monitor.settings": _("Set whether agents see that a supervisor is listening: ${shown}"),
}

#: How a changed user field is named in a ``user.update`` summary.
FIELD_LABELS = {
    "display_name": _("name"),
    "role": _("role"),
    "locale": _("language"),
}


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


def list_entries(
    session, *, tenant_id: int | None = None, before_id: int | None = None, limit: int = 100, kind: str | None = None,
) -> list[AuditEntry]:
    """Newest first. The session's tenant scope already limits a tenant admin to their own
    company; ``tenant_id`` filters further (the operator's "filter by company"), ``kind`` to
    one kind of entry (``queue``: ``queue.create``, ``queue.update``…)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if kind:
        query = query.where(AuditEntry.action.startswith(kind + ".", autoescape=True))
    if tenant_id is not None:
        query = query.where(AuditEntry.tenant_id == tenant_id)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query))


#: Sentences of configuration changes (:mod:`ecti.audit.tracking`), by operation.
CHANGE_SENTENCES = {
    "create": (_("Created ${kind} “${title}”"), _("Created ${kind}")),
    "update": (_("Changed ${kind} “${title}”"), _("Changed ${kind}")),
    "delete": (_("Deleted ${kind} “${title}”"), _("Deleted ${kind}")),
    "import": (_("Imported ${kind} “${title}”"), _("Imported ${kind}")),
}
#: Where a change came from, when not from the console or the API.
VIA_LABELS = {"config_file": _("(from a configuration file)")}

#: The filter of the audit page: the kinds of entries that are not configuration changes.
OTHER_KINDS = {
    "user": _("Users"),
    "tenant": _("Companies"),
    "billing": _("Prices"),
    "monitor": _("Call monitoring"),
}


def entry_kinds(localizer) -> list[tuple[str, str]]:
    """(code, label) of every kind of entry, for the audit page's filter, by label."""
    from .tracking import all_kinds

    labels = {code: localizer.translate(label) for code, label in OTHER_KINDS.items()}
    for code, spec in all_kinds().items():
        labels.setdefault(code, localizer.translate(spec.label))
    return sorted(labels.items(), key=lambda item: item[1])


def _change_summary(localizer, entry: AuditEntry, spec) -> str:
    op = entry.action.rsplit(".", 1)[1]
    with_title, without = CHANGE_SENTENCES.get(op, CHANGE_SENTENCES["update"])
    title = (entry.details or {}).get("title")
    kind = localizer.translate(spec.label)
    text = localizer.translate(_(str(with_title if title not in (None, "") else without), mapping={"kind": kind, "title": _shown(localizer, title)}))
    via = (entry.details or {}).get("via")
    if via in VIA_LABELS:
        text = localizer.translate(_("${summary} ${via}", mapping={"summary": text, "via": localizer.translate(VIA_LABELS[via])}))
    return text


def summary(localizer, entry: AuditEntry) -> str:
    """The entry as a sentence in the reader's language."""
    spec = _change_spec(entry)
    if spec is not None:
        return _change_summary(localizer, entry, spec)
    template = ACTIONS.get(entry.action)
    if template is None:  # an action code of a newer or removed feature
        return entry.action
    mapping: dict[str, Any] = {k: v for k, v in (entry.details or {}).items() if not isinstance(v, (dict, list))}
    role = mapping.get("role")
    if role in Role._value2member_map_:
        mapping["role"] = localizer.translate(ROLE_LABELS[Role(role)])
    if entry.action.startswith("monitor."):
        from ..acd.models import MONITOR_MODE_LABELS

        for key in ("mode", "from_mode", "to_mode"):
            if mapping.get(key) in MONITOR_MODE_LABELS:
                mapping[key] = localizer.translate(MONITOR_MODE_LABELS[mapping[key]])
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


# --- configuration changes: before and after ------------------------------------------------

def _change_spec(entry: AuditEntry):
    from .tracking import spec_for_kind

    details = entry.details or {}
    if "before" not in details and "after" not in details:
        return None
    return spec_for_kind(details.get("kind") or entry.action.rsplit(".", 1)[0])


YES_NO = (_("Yes"), _("No"))


def _shown(localizer, value) -> str:
    """A stored value as people read it: numbers in the domestic format, yes/no, lists."""
    from ..telephony.numbering import display_number

    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return localizer.translate(YES_NO[0] if value else YES_NO[1])
    if isinstance(value, str):
        return display_number(value) if value.startswith("+") and value[1:].isdigit() else value
    if isinstance(value, list):
        return ", ".join(_shown(localizer, v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_shown(localizer, v)}" for k, v in value.items())
    return str(value)


def _rows_by_id(value):
    """A list of dicts that all have an ``id`` (a flow's steps), keyed by it; else None."""
    if isinstance(value, list) and value and all(isinstance(v, dict) and "id" in v for v in value):
        return {str(v["id"]): v for v in value}
    return None


def changes(localizer, entry: AuditEntry, registry=None) -> list[dict]:
    """The changed fields of a configuration change, in the declared order: ``label``,
    ``before`` and ``after`` as text (``technical``: shown as code, e.g. a flow's steps).
    ``registry`` (the application's) labels codes of plugins' registries (holiday calendars)."""
    spec = _change_spec(entry)
    if spec is None:
        return []
    details = entry.details or {}
    before, after = details.get("before") or {}, details.get("after") or {}
    secrets = set(details.get("secrets_changed") or ())
    order = list(spec.labels) + [k for k in list(before) + list(after) if k not in spec.labels]
    rows = []
    seen = set()
    for field in order:
        if field in seen or (field not in before and field not in after):
            continue
        seen.add(field)
        old, new = before.get(field), after.get(field)
        if old == new and field not in secrets:
            continue
        label = localizer.translate(spec.labels[field]) if field in spec.labels else field
        if field in secrets:
            rows.append({"label": label, "before": "********", "after": localizer.translate(_("(changed)")), "technical": False})
            continue
        by_id_old, by_id_new = _rows_by_id(old), _rows_by_id(new)
        if by_id_old is not None or by_id_new is not None:
            rows.extend(_step_rows(localizer, spec, label, by_id_old or {}, by_id_new or {}, registry))
            continue
        if isinstance(old, dict) and isinstance(new, dict) and field in {"weekly", "retry"}:
            for key in list(old) + [k for k in new if k not in old]:
                if old.get(key) != new.get(key):
                    rows.append({"label": f"{label} ({_part(localizer, key)})", "technical": False,
                                 "before": _shown(localizer, old.get(key)), "after": _shown(localizer, new.get(key))})
            continue
        technical = isinstance(old, dict) or isinstance(new, dict)
        if not technical and _shown(localizer, old) == _shown(localizer, new):
            continue  # e.g. nothing before and an empty list after
        if technical and (old in (None, {}, [])) and (new in (None, {}, [])):
            continue
        rows.append({
            "label": label, "technical": technical,
            "before": _code(old) if technical else _shown(localizer, _labelled(localizer, spec, field, old, registry)),
            "after": _code(new) if technical else _shown(localizer, _labelled(localizer, spec, field, new, registry)),
        })
    return rows


def _flat(item: dict) -> dict:
    """A step as ``{"type": …, "settings.prompt": …, "next.1": …}`` (one level of nesting)."""
    flat = {}
    for key, value in item.items():
        if key == "id":
            continue
        if isinstance(value, dict) and key in ("settings", "next"):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def _part_value(localizer, path: str, value, registry):
    """A step's part as people read it: its type by label, a prompt by its text."""
    if path == "type" and isinstance(value, str):
        node_type = getattr(getattr(registry, "ecti", None), "ivr_node_types", {}).get(value)
        return localizer.translate(node_type.label) if node_type is not None else value
    if isinstance(value, dict) and ("text" in value or "prompt_id" in value):
        if value.get("text"):
            return value["text"]
        return localizer.translate(_("Prompt #${id}", mapping={"id": value.get("prompt_id")}))
    return _shown(localizer, value)


def _step_rows(localizer, spec, label, old: dict, new: dict, registry) -> list[dict]:
    """Rows of a list of steps keyed by id: an added or removed step as one row (its type), a
    changed one by each changed part."""
    rows = []
    for key in list(old) + [k for k in new if k not in old]:
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if before is None or after is None or spec.parts is None:
            rows.append({"label": f"{label} {key}", "technical": False,
                         "before": _part_value(localizer, "type", (before or {}).get("type"), registry) if before else "—",
                         "after": _part_value(localizer, "type", (after or {}).get("type"), registry) if after else "—"})
            continue
        flat_old, flat_new = _flat(before), _flat(after)
        for path in list(flat_old) + [p for p in flat_new if p not in flat_old]:
            if flat_old.get(path) != flat_new.get(path):
                rows.append({"label": f"{label} {key} › {localizer.translate(spec.parts(path))}", "technical": False,
                             "before": _part_value(localizer, path, flat_old.get(path), registry),
                             "after": _part_value(localizer, path, flat_new.get(path), registry)})
    return rows


def _code(value) -> str:
    import json

    return "—" if value in (None, {}, []) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _labelled(localizer, spec, field, value, registry=None):
    """A stored code by its label; children (a queue's members) as "label value" per item."""
    choices = spec.choices.get(field)
    if isinstance(choices, str):  # a plugin registry: its items' labels
        items = getattr(getattr(registry, "ecti", None), choices, None) or {}
        choices = {name: item.label for name, item in items.items()}
    if choices and isinstance(value, str) and value in choices:
        return localizer.translate(choices[value])
    if choices and isinstance(value, list):
        return [localizer.translate(choices[v]) if isinstance(v, str) and v in choices else v for v in value]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return ["; ".join(
            f"{localizer.translate(spec.labels[k]) if k in spec.labels else k} {_shown(localizer, v)}" for k, v in item.items()
        ) for item in value]
    return value


def _part(localizer, key: str) -> str:
    from ..ivr.schedules import WEEKDAY_LABELS

    label = WEEKDAY_LABELS.get(key)
    return localizer.translate(label) if label is not None else key
