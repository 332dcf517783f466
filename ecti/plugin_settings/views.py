"""The console form of a plugin's per-company settings (管理 → プラグイン → 設定)."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from ..i18n import _
from .services import SettingsInvalid, declare, save_settings, settings_for


def _spec_or_404(request):
    spec = request.registry.ecti.plugin_settings.get(request.matchdict["name"])
    if spec is None:
        raise HTTPNotFound()
    return spec


def _fields(request, spec, values: dict) -> list[dict]:
    """What the template needs of each property, in the schema's order."""
    required = set(spec.schema.get("required", ()))
    out = []
    for field, prop in spec.schema["properties"].items():
        kind = "choice" if "enum" in prop else "secret" if field in spec.secrets else \
            "url" if prop.get("format") == "uri" else prop.get("type", "string")
        out.append({
            "name": field, "kind": kind, "label": spec.labels[field], "help": spec.help.get(field),
            "required": field in required, "value": "" if field in spec.secrets else values.get(field, ""),
            "is_set": bool(values.get(field)) if field in spec.secrets else None,
            "choices": [(value, spec.labels.get(f"{field}.{value}", value)) for value in prop.get("enum", ())],
            "max_length": prop.get("maxLength"), "minimum": prop.get("minimum"), "maximum": prop.get("maximum"),
        })
    return out


def _page(request, spec, values, errors=None):
    return {"spec": spec, "fields": _fields(request, spec, values), "errors": errors or {}}


@view_config(route_name="admin.plugin_settings", renderer="ecti:plugin_settings/templates/settings.jinja2", permission="manage",
             request_method="GET")
def settings_page(request):
    spec = _spec_or_404(request)
    return _page(request, spec, settings_for(request.db, request.registry, request.tenant.id, spec.name))


@view_config(route_name="admin.plugin_settings", renderer="ecti:plugin_settings/templates/settings.jinja2", permission="manage",
             request_method="POST")
def settings_post(request):
    spec = _spec_or_404(request)
    translate = request.localizer.translate
    try:
        with request.db.begin_nested():
            save_settings(request, spec.name, request.POST)
    except SettingsInvalid as invalid:
        request.response.status_int = 422
        shown = {field: request.POST.get(field, "") for field in spec.schema["properties"]}
        return _page(request, spec, shown, {field: translate(message) for field, message in invalid.errors.items()})
    request.session.flash(translate(_("The settings of ${name} were saved.", mapping={"name": translate(spec.label)})))
    return HTTPSeeOther(request.route_url("admin.plugin_settings", name=spec.name))


def includeme(config):
    for spec in config.registry.ecti.plugin_settings.values():
        declare(spec)
    config.add_route("admin.plugin_settings", "/admin/plugins/{name}/settings")
