"""Reading and saving plugins' per-company settings.

A plugin declares its settings (:class:`ecti.interfaces.PluginSettings`: a JSON Schema object,
labels, secrets); :func:`settings_for` gives a company's values with the schema's defaults for
what was never set; :func:`save_settings` turns a console form into typed values, validates them
with the schema and stores them (secrets encrypted; an empty secret field keeps the stored one),
with an audit entry of what changed.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from sqlalchemy import select

from ..audit import Audited, audit_kind, record_change
from ..i18n import _
from .models import PluginSettingsRow

TYPES = ("string", "integer", "number", "boolean")
#: What ``format: "email"`` accepts: one address, no display name.
EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")


class SettingsInvalid(Exception):
    """The values cannot be saved; ``errors`` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__(", ".join(errors))
        self.errors = errors


def check_spec(spec) -> None:
    """Refuse at start-up a declaration the console could not show (a plugin author's mistake)."""
    schema = spec.schema
    Draft202012Validator.check_schema(schema)
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        raise ValueError(f"plugin settings {spec.name}: the schema must be an object with properties")
    for field, prop in schema["properties"].items():
        if "enum" not in prop and prop.get("type") not in TYPES:
            raise ValueError(f"plugin settings {spec.name}: {field} must be a string, integer, number, boolean or enum")
        if field not in spec.labels:
            raise ValueError(f"plugin settings {spec.name}: {field} has no label (PluginSettings.labels)")


def declare(spec) -> None:
    """Check ``spec`` and declare its audit kind (entries ``<name>_settings.update``)."""
    check_spec(spec)
    audit_kind(Audited(kind=audit_kind_of(spec), label=spec.label, labels=dict(spec.labels), secrets=tuple(spec.secrets), title=None))


def audit_kind_of(spec) -> str:
    return f"{spec.name}_settings"


def defaults(spec) -> dict:
    return {field: prop["default"] for field, prop in spec.schema["properties"].items() if "default" in prop}


def stored(session, tenant_id: int, name: str) -> PluginSettingsRow | None:
    return session.scalar(select(PluginSettingsRow).where(PluginSettingsRow.tenant_id == tenant_id, PluginSettingsRow.name == name))


def settings_for(session, registry, tenant_id: int, name: str) -> dict:
    """The company's values of the settings ``name`` (secrets decrypted), defaults filled in."""
    spec = registry.ecti.plugin_settings[name]
    row = stored(session, tenant_id, name)
    values = {**defaults(spec), **(row.values if row else {})}
    for secret in spec.secrets:
        if values.get(secret):
            values[secret] = registry.secret_box.decrypt(values[secret])
    return values


def _typed(prop: dict, raw) -> Any:
    """A form's text as the property's type; ``None`` for an empty field."""
    if prop.get("type") == "boolean":
        return raw in ("1", "true", "on", True)
    text = (raw or "").strip() if isinstance(raw, str) or raw is None else raw
    if text == "" or text is None:
        return None
    if prop.get("type") == "integer":
        try:
            return int(str(text).translate(str.maketrans("０１２３４５６７８９－", "0123456789-")))
        except ValueError:
            raise ValueError(_("Enter a whole number.")) from None
    if prop.get("type") == "number":
        try:
            return float(str(text).translate(str.maketrans("０１２３４５６７８９．－", "0123456789.-")))
        except ValueError:
            raise ValueError(_("Enter a number.")) from None
    return text


def _message(error) -> Any:
    """What is wrong, in words, for one JSON Schema error."""
    limit = error.validator_value
    return {
        "required": _("Required."),
        "maxLength": _("At most ${count} characters.", mapping={"count": limit}),
        "minLength": _("At least ${count} characters.", mapping={"count": limit}),
        "maximum": _("At most ${limit}.", mapping={"limit": limit}),
        "minimum": _("At least ${limit}.", mapping={"limit": limit}),
        "enum": _("Choose one of the list."),
        "pattern": _("Not in the expected form."),
        "type": _("Not in the expected form."),
    }.get(error.validator, _("Not in the expected form."))


def validate(spec, values: dict) -> dict[str, Any]:
    """Errors by field (empty when the values are valid), in the order of the form."""
    errors: dict[str, Any] = {}
    for error in Draft202012Validator(spec.schema).iter_errors(values):
        field = error.path[0] if error.path else (error.message.split("'")[1] if error.validator == "required" else "")
        errors.setdefault(field, _message(error))
    for field, prop in spec.schema["properties"].items():
        if not values.get(field) or field in errors:
            continue
        if prop.get("format") == "uri":
            parts = urlsplit(values[field])
            if parts.scheme not in ("http", "https") or not parts.netloc:
                errors[field] = _("Enter an address that starts with https:// (or http://).")
        elif prop.get("format") == "email" and not EMAIL.fullmatch(values[field]):
            errors[field] = _("Enter an e-mail address (name@example.jp).")
    return errors


def save_settings(request, name: str, form) -> dict:
    """Save the settings ``name`` of the request's company from a form (text values); raises
    :class:`SettingsInvalid` with every field's error and saves nothing then. Returns the values."""
    registry = request.registry
    box = registry.secret_box
    spec = registry.ecti.plugin_settings[name]
    row = stored(request.db, request.tenant.id, name)
    before = dict(row.values) if row else {}
    values: dict[str, Any] = {}  # clear values, as the schema sees them
    kept: set[str] = set()  # secrets left empty: the stored one stays as it is
    errors: dict[str, Any] = {}
    for field, prop in spec.schema["properties"].items():
        if field in spec.secrets and not (form.get(field) or "").strip():
            if field in before:
                values[field] = box.decrypt(before[field])
                kept.add(field)
            continue
        try:
            value = _typed(prop, form.get(field))
        except ValueError as exc:
            errors[field] = exc.args[0]
            continue
        if value is not None:
            values[field] = value
    for field, message in validate(spec, values).items():
        errors.setdefault(field, message)
    if errors:
        order = list(spec.schema["properties"])
        raise SettingsInvalid(dict(sorted(errors.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))))
    after = {field: before[field] if field in kept else box.encrypt(value) if field in spec.secrets else value
             for field, value in values.items()}
    if row is None:
        request.db.add(PluginSettingsRow(tenant_id=request.tenant.id, name=name, values=after))
    else:
        row.values = after

    def same(field):
        if field in spec.secrets and field in before and field in after:
            return field in kept or box.decrypt(before[field]) == values[field]
        return before.get(field) == after.get(field)

    changed = [field for field in spec.schema["properties"] if not same(field)]
    if changed:
        # (secrets are masked by record_change: the entry says only that they changed)
        record_change(request, audit_kind_of(spec), op="update" if row is not None else "create",
                      title=request.localizer.translate(spec.label),
                      before={f: before[f] for f in changed if f in before} or None, after={f: after.get(f) for f in changed})
    request.db.flush()
    return values
