"""The JSON API under ``/api/v1/`` and its OpenAPI document.

An operation is declared once, with :class:`api_view`; that declaration registers the Pyramid
view *and* its entry in the OpenAPI document (``/api/v1/openapi.json``), so the document
cannot drift from the code. Request bodies and responses are pydantic models; malformed input
gets 400 (not JSON) or 422 (field errors), never a 500.

Query parameters are declared the same way: ``query=`` a pydantic model whose fields become
the operation's ``in: query`` parameters; the query string is validated against it before the
view runs (a model may raise the domain's own :class:`~ecti.errors.UserError` for a specific
400/422, otherwise field errors are 422) and the view gets the model as ``query=``.

Every error has one shape::

    {"error": {"code": "validation_failed", "message": "…", "fields": [{"field": "email",
     "code": "missing", "message": "…"}]}}
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import venusian
from pydantic import BaseModel, ValidationError

from ..errors import UserError
from ..i18n import _

API_PREFIX = "/api/v1"
OPERATIONS_KEY = "ecti.api.operations"


class ApiError(UserError):
    """An error answered as JSON, with an HTTP status."""


class FieldError(BaseModel):
    field: str
    code: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: list[FieldError] = []


class ErrorResponse(BaseModel):
    error: ErrorBody


@dataclass(frozen=True)
class Operation:
    route_name: str
    method: str
    summary: str
    permission: str | None
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    query: type[BaseModel] | None
    tags: tuple[str, ...]
    errors: tuple[int, ...]
    operation_id: str


# Messages for pydantic's error types, so field errors read well in Japanese and English.
_FIELD_MESSAGES = {
    "missing": _("This field is required."),
    "string_too_short": _("Enter at least ${min_length} characters."),
    "string_too_long": _("Enter at most ${max_length} characters."),
    "string_type": _("Enter text."),
    "int_type": _("Enter a whole number."),
    "int_parsing": _("Enter a whole number."),
    "bool_type": _("Enter true or false."),
    "bool_parsing": _("Enter true or false."),
    "enum": _("Choose one of: ${expected}."),
    "literal_error": _("Choose one of: ${expected}."),
    "extra_forbidden": _("This field is not accepted here."),
    "string_pattern_mismatch": _("This value does not have the expected format."),
    "value_error": _("This value is not valid: ${error}"),
    "greater_than_equal": _("Enter a number of at least ${ge}."),
    "less_than_equal": _("Enter a number of at most ${le}."),
    "model_type": _("Send a JSON object."),
    "date_from_datetime_parsing": _("Enter the date as YYYY-MM-DD (for example 2026-05-31)."),
    "date_parsing": _("Enter the date as YYYY-MM-DD (for example 2026-05-31)."),
    "date_type": _("Enter the date as YYYY-MM-DD (for example 2026-05-31)."),
    "list_type": _("Send a list."),
}


def field_errors(request, exc: ValidationError) -> list[FieldError]:
    out = []
    for err in exc.errors(include_url=False):
        ctx = {k: str(v) for k, v in (err.get("ctx") or {}).items()}
        template = _FIELD_MESSAGES.get(err["type"])
        if template is not None:
            message = request.localizer.translate(_(template, mapping=ctx))
        else:
            message = err["msg"]
        out.append(FieldError(field=".".join(str(p) for p in err["loc"]) or "(body)", code=err["type"], message=message))
    return out


class api_view:
    """Declare a JSON API operation.

    ``route_name`` must be a route under ``/api/v1/``. The decorated function receives
    ``(request)``, or ``(request, body)`` when ``body`` (a pydantic model) is given, and returns
    a ``response`` model (or a dict of the same shape). With ``query`` (a pydantic model: its
    fields, by alias, are the query parameters) it also gets ``query=`` the validated model.
    ``errors`` lists the error statuses the operation documents besides 401/403/422, which every
    protected operation may answer.
    """

    def __init__(
        self,
        route_name: str,
        *,
        method: str,
        summary: str,
        permission: str | None,
        body: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        tags: tuple[str, ...] = (),
        errors: tuple[int, ...] = (),
        query: type[BaseModel] | None = None,
    ):
        self.kw = dict(
            route_name=route_name,
            method=method.upper(),
            summary=summary,
            permission=permission,
            body=body,
            response=response,
            status=status,
            tags=tuple(tags),
            errors=tuple(errors),
            query=query,
        )

    def __call__(self, wrapped: Callable) -> Callable:
        kw = self.kw

        def callback(context, name, ob):
            config = context.config.with_package(info.module)
            config.add_api_operation(wrapped, **kw)

        info = venusian.attach(wrapped, callback, category="ecti")
        return wrapped


def query_values(request) -> dict[str, str]:
    """The query string as a dict (the last value of a repeated name)."""
    return dict(request.GET.items())


def add_api_operation(config, view: Callable, *, route_name, method, summary, permission, body, response, status, tags, errors,
                      query=None):
    operation = Operation(
        route_name=route_name,
        method=method,
        summary=summary,
        permission=permission,
        body=body,
        response=response,
        status=status,
        tags=tags,
        errors=errors,
        query=query,
        operation_id=view.__name__,
    )

    def api_wrapper(context, request):
        kwargs = {}
        if query is not None:
            try:
                kwargs["query"] = query.model_validate(query_values(request), context={"request": request})
            except ValidationError as exc:
                raise RequestValidationFailed(field_errors(request, exc))
        if body is not None:
            try:
                data = request.json_body
            except ValueError:
                raise ApiError("invalid_json", _("The request body is not valid JSON."), status=400)
            try:
                parsed = body.model_validate(data)
            except ValidationError as exc:
                raise RequestValidationFailed(field_errors(request, exc))
            result = view(request, parsed, **kwargs)
        else:
            result = view(request, **kwargs)
        request.response.status_int = status
        if status == 204:
            return request.response
        if isinstance(result, BaseModel):
            return result.model_dump(mode="json")
        return result

    api_wrapper.__doc__ = view.__doc__
    config.add_view(api_wrapper, route_name=route_name, request_method=method, permission=permission, renderer="json")
    config.registry.setdefault(OPERATIONS_KEY, []).append(operation)


class RequestValidationFailed(Exception):
    def __init__(self, fields: list[FieldError]):
        super().__init__("validation failed")
        self.fields = fields


def error_response(request, status: int, code: str, message: Any, fields: list[FieldError] = ()):
    request.response.status_int = status
    return ErrorResponse(
        error=ErrorBody(code=code, message=request.localizer.translate(message), fields=list(fields))
    ).model_dump(mode="json")


def is_api_request(request) -> bool:
    return request.path_info.startswith(API_PREFIX + "/")


def includeme(config):
    config.add_directive("add_api_operation", add_api_operation, action_wrap=False)
    config.include(".views")
