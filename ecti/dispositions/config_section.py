"""The ``dispositions`` section of tenant configuration files (see :mod:`ecti.tenant_config`).

Each code is written by its ``code`` (the natural key): ``{"code": "sale", "label": "成約",
"active": true}``, in the order agents see them. Applying creates or updates codes by code and
deletes none (a code left out of the file stays as it is).
"""
from __future__ import annotations

from ..errors import UserError
from ..i18n import _
from .services import CODE_RE, CodeSettings, code_by_key, codes, save_code

DISPOSITIONS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "code": {"type": "string", "pattern": CODE_RE.pattern},
            "label": {"type": "string", "minLength": 1, "maxLength": 100},
            "active": {"type": "boolean"},
        },
        "required": ["code", "label"],
        "additionalProperties": False,
    },
}


def export_dispositions(ctx) -> list:
    return [{"code": c.code, "label": c.label, "active": c.active} for c in codes(ctx.session, include_inactive=True)]


def apply_dispositions(ctx, value: list) -> None:
    request = ctx.request()
    seen: set[str] = set()
    for i, item in enumerate(value):
        path = f"$.dispositions[{i}]"
        if ctx.broken(path):
            continue
        key = item["code"].strip()
        if key in seen:
            ctx.error(f"{path}.code", _("The code ${code} appears twice in the file.", mapping={"code": key}))
            continue
        seen.add(key)
        settings = CodeSettings(code=key, label=item["label"], position=i + 1, active=item.get("active", True))
        try:
            with ctx.session.begin_nested():
                save_code(request, settings, code_by_key(ctx.session, key))
        except UserError as err:
            ctx.error(f"{path}.{err.field}" if err.field else path, err.message)


def includeme(config):
    config.add_tenant_config_section("dispositions", order=55, schema=DISPOSITIONS_SCHEMA, export=export_dispositions,
                                     apply=apply_dispositions)
