"""Tenant configuration as code: one JSON document with a company's numbers, flows, schedules,
holidays, voicemail boxes, users (without passwords) and whatever else subsystems add.

The document is made of *sections*, each registered by the subsystem that owns the data with
``config.add_tenant_config_section(name, order=…, schema=…, export=…, apply=…)``: the core
registers ``tenant``, ``users`` and ``numbers``, the prompt library ``prompts``, the IVR
``schedules``, ``closures``, ``voicemail_boxes`` and ``flows``, the ACD ``queues`` (with an
``order`` before ``flows``, whose queue nodes refer to queues by name; a queue's overflow into a
flow is resolved with ``ctx.later`` once the flows exist).

Everything a section refers to is written by *name* — prompts, voicemail boxes, queues,
schedules, flows, users (by e-mail) — never by database id, so a file moves between tenants and
installations; an unknown name is an error at its JSON path.

:func:`import_document` checks the whole document against the published JSON Schema
(:func:`document_schema`, ``docs/tenant-config.schema.json``), then lets each section apply its
part in order, inside a savepoint: any error anywhere and nothing is changed. Every error is
reported with its JSON path (``$.flows[0].nodes[2].next.1``). Applying creates or updates by
natural keys (e-mail, number, name) and deletes nothing, so export → import → export gives the
same document.
"""
from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jsonschema import Draft202012Validator
from sqlalchemy import select

from ..audit.tracking import VIA_KEY as AUDIT_VIA_KEY
from ..audit.tracking import record_change
from ..db import SCOPE_KEY, all_tenants, set_tenant_scope
from ..errors import UserError
from ..i18n import _
from ..ivr.validation import schema_error_message
from ..telephony.models import PhoneNumber
from ..tenancy.models import Role, Tenant, User, find_user_by_email
from ..tenancy.services import create_user, set_user_active

SECTIONS_KEY = "ecti.tenant_config.sections"
FORMAT = "ecti-tenant-config"
VERSION = 1


@dataclass(frozen=True)
class ConfigSection:
    """One part of the document. ``schema`` is a JSON Schema or ``schema(registry)``;
    ``export(ctx)`` returns the section's value, ``apply(ctx, value)`` writes it, reporting
    problems with ``ctx.error(path, message)`` instead of raising."""

    name: str
    order: int
    schema: dict | Callable[[Any], dict]
    export: Callable[["ConfigContext"], Any]
    apply: Callable[["ConfigContext", Any], None]


def add_tenant_config_section(config, name: str, *, order: int, schema, export, apply) -> None:
    """Config directive: add (or replace) the section ``name`` of tenant configuration files."""
    section = ConfigSection(name, order, schema, config.maybe_dotted(export), config.maybe_dotted(apply))

    def register():
        config.registry.setdefault(SECTIONS_KEY, {})[name] = section

    config.action(("ecti.tenant_config.section", name), register)


def sections(registry) -> list[ConfigSection]:
    return sorted(registry.get(SECTIONS_KEY, {}).values(), key=lambda s: s.order)


@dataclass
class ConfigContext:
    """What sections get: the session (scoped to the tenant), the tenant, the registry, and the
    list of errors found so far as ``(path, message)``."""

    session: Any
    registry: Any
    tenant: Tenant | None = None
    errors: list[tuple[str, Any]] = field(default_factory=list)
    #: Work a section leaves until every section has applied (references that point forward,
    #: e.g. a queue overflowing into a flow imported after the queues): ``later(fn)``.
    deferred: list[Callable[[], None]] = field(default_factory=list)

    def error(self, path: str, message) -> None:
        self.errors.append((path, message))

    def later(self, fn: Callable[[], None]) -> None:
        self.deferred.append(fn)

    def request(self):
        """A stand-in for a request, for services written for views (``registry``, ``db``,
        ``tenant``, ``localizer``): the same checks apply to files as to the console."""
        from types import SimpleNamespace

        from pyramid.i18n import make_localizer

        from ..i18n import locale_dirs

        locale = self.registry.settings.get("pyramid.default_locale_name", "ja") if self.registry.settings else "ja"
        return SimpleNamespace(registry=self.registry, db=self.session, tenant=self.tenant, localizer=make_localizer(locale, locale_dirs()))

    def broken(self, path: str) -> bool:
        """Whether the schema check already found an error at or under ``path`` (skip it)."""
        return any(p == path or p.startswith(path + ".") or p.startswith(path + "[") for p, _m in self.errors)


class ConfigRefused(UserError):
    """The document cannot be applied; ``errors`` lists ``(path, message)``, nothing changed."""

    def __init__(self, errors: list[tuple[str, Any]]):
        super().__init__("tenant_config_invalid", _("The configuration file has ${count} error(s); nothing was changed.", mapping={"count": len(errors)}), status=422)
        self.errors = errors


def document_schema(registry) -> dict:
    """The JSON Schema of a whole document, from the registered sections (published in docs/)."""
    properties = {
        "format": {"const": FORMAT},
        "version": {"const": VERSION},
    }
    for section in sections(registry):
        properties[section.name] = section.schema(registry) if callable(section.schema) else section.schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "ECTI tenant configuration",
        "type": "object",
        "properties": properties,
        "required": ["format", "version", "tenant"],
        "additionalProperties": False,
    }


def export_document(session, registry, tenant: Tenant) -> dict:
    """The tenant's configuration as one document (``session`` scoped to ``tenant``)."""
    ctx = ConfigContext(session, registry, tenant)
    doc: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    with restored_scope(session):
        set_tenant_scope(session, tenant.id)
        for section in sections(registry):
            doc[section.name] = section.export(ctx)
    return doc


@contextlib.contextmanager
def restored_scope(session):
    """Sections scope the session to the tenant they work on; the caller's scope comes back."""
    previous = session.info.get(SCOPE_KEY)
    try:
        yield
    finally:
        set_tenant_scope(session, None)
        if previous is not None:
            session.info[SCOPE_KEY] = previous


def dumps(doc: dict) -> str:
    """The document as a file: UTF-8 JSON (Japanese kept readable), stable layout."""
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def json_path(parts) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def import_document(session, registry, doc: Any, *, tenant: Tenant | None = None) -> Tenant:
    """Apply ``doc``: to ``tenant`` when given (the console), else to the tenant its ``tenant``
    section names (created when missing). Raises :class:`ConfigRefused`; nothing is changed then."""
    ctx = ConfigContext(session, registry, tenant)
    if not isinstance(doc, dict):
        raise ConfigRefused([("$", _("The file must hold one JSON object."))])
    validator = Draft202012Validator(document_schema(registry))
    for error in sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        ctx.error(json_path(error.absolute_path), schema_error_message(error))
    if ctx.broken("$.tenant") or not isinstance(doc.get("tenant"), dict):
        raise ConfigRefused(ctx.errors)
    savepoint = session.begin_nested()
    applied = []
    # The audit entries of what the file changes say they came from a configuration file.
    session.info[AUDIT_VIA_KEY] = "config_file"
    try:
        with restored_scope(session):
            for section in sections(registry):
                if section.name in doc:
                    section.apply(ctx, doc[section.name])
                    applied.append(section.name)
                    session.flush()
                if ctx.tenant is None:  # the tenant itself was refused: nothing to apply to
                    break
            if ctx.tenant is not None:
                for fn in ctx.deferred:
                    fn()
                session.flush()
    except Exception:
        savepoint.rollback()
        raise
    finally:
        session.info.pop(AUDIT_VIA_KEY, None)
    if ctx.errors:
        savepoint.rollback()
        raise ConfigRefused(ctx.errors)
    savepoint.commit()
    record_change(session, "config_file", op="import", tenant_id=ctx.tenant.id, after={"sections": applied})
    return ctx.tenant


# --- core sections: the tenant, its users and numbers -------------------------------------------

TENANT_SCHEMA = {
    "type": "object",
    "properties": {
        "slug": {"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "time_zone": {"type": "string", "minLength": 1},
        "locale": {"enum": ["ja", "en"]},
    },
    "required": ["slug", "name"],
    "additionalProperties": False,
}


def export_tenant(ctx: ConfigContext) -> dict:
    t = ctx.tenant
    return {"slug": t.slug, "name": t.name, "time_zone": t.time_zone, "locale": t.locale}


def apply_tenant(ctx: ConfigContext, value: dict) -> None:
    from ..tenancy.services import create_tenant

    if ctx.tenant is None:
        with all_tenants(ctx.session):
            ctx.tenant = ctx.session.scalar(select(Tenant).where(Tenant.slug == value["slug"]))
    time_zone = value.get("time_zone", ctx.tenant.time_zone if ctx.tenant else "Asia/Tokyo")
    try:
        if ctx.tenant is None:
            ctx.tenant = create_tenant(ctx.session, slug=value["slug"], name=value["name"], time_zone=time_zone, locale=value.get("locale", "ja"))
        else:
            ZoneInfo(time_zone)
            ctx.tenant.name = value["name"].strip()
            ctx.tenant.time_zone = time_zone
            ctx.tenant.locale = value.get("locale", ctx.tenant.locale)
    except UserError as err:
        ctx.error(f"$.tenant.{err.field or 'slug'}", err.message)
        return
    except (ZoneInfoNotFoundError, ValueError):
        ctx.error("$.tenant.time_zone", _("Unknown time zone: ${tz}", mapping={"tz": time_zone}))
        return
    set_tenant_scope(ctx.session, ctx.tenant.id)


USERS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "email": {"type": "string", "minLength": 3, "maxLength": 254},
            "display_name": {"type": "string", "minLength": 1, "maxLength": 100},
            "role": {"enum": ["admin", "supervisor", "agent"]},
            "is_active": {"type": "boolean"},
            "locale": {"enum": ["ja", "en", None]},
        },
        "required": ["email", "display_name", "role"],
        "additionalProperties": False,
    },
}


def export_users(ctx: ConfigContext) -> list:
    users = ctx.session.scalars(select(User).order_by(User.email))
    return [{"email": u.email, "display_name": u.display_name, "role": u.role.value, "is_active": u.is_active, "locale": u.locale} for u in users]


def apply_users(ctx: ConfigContext, value: list) -> None:
    """Create or update users by e-mail; new users get no password (an admin sets one)."""
    for i, item in enumerate(value):
        path = f"$.users[{i}]"
        if ctx.broken(path):
            continue
        with all_tenants(ctx.session):
            user = find_user_by_email(ctx.session, item["email"])
        if user is not None and user.tenant_id != ctx.tenant.id:
            ctx.error(f"{path}.email", _("The e-mail address ${email} is already used.", mapping={"email": item["email"]}))
            continue
        try:
            if user is None:
                user = create_user(ctx.session, tenant=ctx.tenant, email=item["email"], display_name=item["display_name"], role=Role(item["role"]), password=None)
            user.display_name = item["display_name"].strip()
            user.role = Role(item["role"])
            user.locale = item.get("locale")
            set_user_active(ctx.session, user, item.get("is_active", True))
        except UserError as err:
            ctx.error(f"{path}.{err.field or 'email'}", err.message)


NUMBERS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "e164": {"type": "string", "pattern": r"^\+[1-9][0-9]{6,14}$"},
            "label": {"type": "string", "maxLength": 100},
            "flow": {"type": ["string", "null"]},
        },
        "required": ["e164"],
        "additionalProperties": False,
    },
}


def export_numbers(ctx: ConfigContext) -> list:
    from ..ivr.models import Flow

    flows = dict(ctx.session.execute(select(Flow.id, Flow.name)).all())
    numbers = ctx.session.scalars(select(PhoneNumber).order_by(PhoneNumber.e164))
    return [{"e164": n.e164, "label": n.label, "flow": flows.get(n.flow_id)} for n in numbers]


def apply_numbers(ctx: ConfigContext, value: list) -> None:
    """Create or update numbers by E.164, and assign each the flow named (by then imported)."""
    from ..ivr.models import flow_by_name

    for i, item in enumerate(value):
        path = f"$.numbers[{i}]"
        if ctx.broken(path):
            continue
        with all_tenants(ctx.session):
            number = ctx.session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == item["e164"]))
        if number is not None and number.tenant_id != ctx.tenant.id:
            ctx.error(f"{path}.e164", _("The number ${number} belongs to another company.", mapping={"number": item["e164"]}))
            continue
        flow = None
        if item.get("flow"):
            flow = flow_by_name(ctx.session, item["flow"])
            if flow is None:
                ctx.error(f"{path}.flow", _("There is no flow named ${name}.", mapping={"name": item["flow"]}))
                continue
        if number is None:
            number = PhoneNumber(tenant_id=ctx.tenant.id, e164=item["e164"])
            ctx.session.add(number)
        number.label = item.get("label", number.label or "")
        number.flow_id = flow.id if flow else None


def includeme(config):
    config.add_directive("add_tenant_config_section", add_tenant_config_section)
    config.add_tenant_config_section("tenant", order=0, schema=TENANT_SCHEMA, export=export_tenant, apply=apply_tenant)
    config.add_tenant_config_section("users", order=10, schema=USERS_SCHEMA, export=export_users, apply=apply_users)
    config.add_tenant_config_section("numbers", order=100, schema=NUMBERS_SCHEMA, export=export_numbers, apply=apply_numbers)
    config.include("ecti.prompts.config_section")
