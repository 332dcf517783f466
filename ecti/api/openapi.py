"""Build the OpenAPI 3.1 document from the declared operations."""
from __future__ import annotations

import re

from pydantic.json_schema import models_json_schema
from pyramid.interfaces import IRoutesMapper

from . import OPERATIONS_KEY, ErrorResponse

_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Malformed request",
    401: "Not signed in",
    403: "Not allowed (or CSRF token missing)",
    404: "Not found (or belongs to another tenant)",
    409: "Conflict",
    422: "Invalid fields",
    429: "Too many requests with this API key (see Retry-After)",
}
_PLACEHOLDER = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def openapi_path(pattern: str) -> str:
    """``/api/v1/users/{id:\\d+}`` → ``/api/v1/users/{id}``."""
    return _PLACEHOLDER.sub(r"{\1}", pattern if pattern.startswith("/") else "/" + pattern)


def query_parameters(schema: dict) -> list[dict]:
    """``in: query`` parameters from a query model's JSON schema (its properties, by alias)."""
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        prop.pop("title", None)
        description = prop.pop("description", None)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        out.append(parameter)
    return out


def build_document(registry, *, title: str, version: str) -> dict:
    from ..apikeys.scopes import ANY, scope_for

    operations = sorted(registry.get(OPERATIONS_KEY, []), key=lambda op: (op.route_name, op.method))
    models = {ErrorResponse}
    for op in operations:
        models.update(m for m in (op.body, op.response, op.query) if m is not None)
    keyed = [(model, "validation") for model in sorted(models, key=lambda m: m.__name__)]
    refs, defs = models_json_schema(keyed, ref_template="#/components/schemas/{model}")
    error_ref = refs[(ErrorResponse, "validation")]

    mapper = registry.getUtility(IRoutesMapper)
    paths: dict[str, dict] = {}
    for op in operations:
        route = mapper.get_route(op.route_name)
        path = openapi_path(route.pattern)
        responses = {}
        ok: dict = {"description": _STATUS_TEXT.get(op.status, "OK")}
        if op.response is not None:
            ok["content"] = {"application/json": {"schema": refs[(op.response, "validation")]}}
        responses[str(op.status)] = ok
        error_statuses = set(op.errors)
        scope = scope_for(op.route_name, op.method) if op.permission is not None else None
        if op.permission is not None:
            error_statuses |= {401, 403}
        if scope is not None:
            error_statuses |= {429}
        if op.body is not None:
            error_statuses |= {400, 422}
        if op.query is not None:
            error_statuses |= {422}
        for status in sorted(error_statuses):
            responses[str(status)] = {
                "description": _STATUS_TEXT.get(status, "Error"),
                "content": {"application/json": {"schema": error_ref}},
            }
        entry = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": list(op.tags),
            "responses": responses,
        }
        params = _PLACEHOLDER.findall(path)
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "integer" if name.endswith("id") else "string"}}
            for name in params
        ]
        if op.query is not None:
            name = refs[(op.query, "validation")]["$ref"].rsplit("/", 1)[1]
            parameters += query_parameters(defs["$defs"][name])
        if parameters:
            entry["parameters"] = parameters
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
            }
        if op.permission is not None:
            entry["security"] = [{"session": []}]
            if scope is not None:
                # OpenAPI 3.1: a bearer scheme's requirement may list the roles (here: scopes) needed.
                entry["security"].append({"apiKey": [] if scope == ANY else [scope]})
                entry["x-api-key-scope"] = scope
        paths.setdefault(path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "ecti_session",
                    "description": "Sign in through /login; state-changing requests also need the X-CSRF-Token header.",
                },
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "ecti_live_…",
                    "description": "An API key made by an administrator (管理 → APIキー, or `ecti apikey create`), sent as "
                                   "`Authorization: Bearer ecti_live_…`; no CSRF token needed. Each operation lists the "
                                   "scope it needs (`x-api-key-scope`; `*`: any key). Operations without it cannot be "
                                   "used with a key. Too many requests: 429 with Retry-After.",
                }
            },
        },
    }
