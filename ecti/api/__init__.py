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
from typing import Any, Callable, ClassVar

import venusian
from pydantic import BaseModel, ValidationError, field_validator
from pydantic_core import PydanticCustomError

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
    "null_not_allowed": _("Leave this field out instead of sending null."),
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
            check_integers(request, kwargs["query"])
        if body is not None:
            try:
                data = request.json_body
            except (ValueError, RecursionError):
                raise ApiError("invalid_json", _("The request body is not valid JSON."), status=400)
            try:
                parsed = body.model_validate(data)
            except ValidationError as exc:
                raise RequestValidationFailed(field_errors(request, exc))
            check_integers(request, parsed)
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


#: The largest integer a request may carry: what the database's integer columns hold.
MAX_INTEGER = 2**31 - 1


def _large_integers(value, path: tuple = ()) -> list[tuple]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [path] if not -MAX_INTEGER <= value <= MAX_INTEGER else []
    if isinstance(value, BaseModel):
        return [p for name in type(value).model_fields for p in _large_integers(getattr(value, name), path + (name,))]
    if isinstance(value, (list, tuple)):
        return [p for i, item in enumerate(value) for p in _large_integers(item, path + (i,))]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _large_integers(item, path + (key,))]
    return []


def check_integers(request, model: BaseModel) -> None:
    """An integer no column can hold (``?agent=99999999999999999999``) is a 422 field error."""
    found = _large_integers(model)
    if found:
        message = request.localizer.translate(_("The number is too large."))
        raise RequestValidationFailed([FieldError(field=".".join(str(p) for p in path) or "(body)", code="too_large", message=message)
                                       for path in found])


class PatchModel(BaseModel):
    """A PATCH body: only the fields sent change. Every field is optional, but only the ones in
    ``nullable`` (a setting that can be emptied) may be sent as null; for the others null is a
    field error (422), not "leave it as it is" and not a 500. The OpenAPI document says so."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_allowed(cls, value, info):
        if value is None and info.field_name not in cls.nullable:
            raise PydanticCustomError("null_not_allowed", "null is not allowed here; leave the field out to keep it")
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema, handler):
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        for name, prop in target.get("properties", {}).items():
            if name in cls.nullable:
                continue
            options = [option for option in prop.get("anyOf", []) if option.get("type") != "null"]
            if "anyOf" in prop:
                del prop["anyOf"]
                if len(options) == 1:
                    prop.update(options[0])
                else:
                    prop["anyOf"] = options
            if "default" in prop and prop["default"] is None:
                del prop["default"]
        return schema


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
