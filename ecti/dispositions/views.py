"""Disposition codes: the JSON API (agents read, admins change), the console page (設定 →
処理コード) and an agent's wrap-up of a call (``PUT /api/v1/calls/{id}/wrap-up``)."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ..api import API_PREFIX, api_view
from ..calls.models import Call
from ..errors import UserError
from ..i18n import _
from ..web import get_or_404
from .models import NOTE_MAX, DispositionCode
from .services import CodeSettings, codes, delete_code, save_code, wrap_up

TAGS = ("dispositions",)


class DispositionOut(BaseModel):
    id: int
    code: str
    label: str
    position: int
    active: bool


class DispositionList(BaseModel):
    dispositions: list[DispositionOut]


class DispositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40)
    label: str = Field(min_length=1, max_length=100)
    position: int | None = Field(default=None, ge=0, le=100000)
    active: bool = True


class DispositionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(default=None, min_length=1, max_length=40)
    label: str | None = Field(default=None, min_length=1, max_length=100)
    position: int | None = Field(default=None, ge=0, le=100000)
    active: bool | None = None


class WrapUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    disposition: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=NOTE_MAX)


class WrapUpOut(BaseModel):
    call_id: int
    disposition: str | None
    disposition_label: str | None
    note: str | None
    wrapped_up_at: datetime | None


def disposition_out(code: DispositionCode) -> DispositionOut:
    return DispositionOut(id=code.id, code=code.code, label=code.label, position=code.position, active=code.active)


def wrap_up_out(call: Call) -> WrapUpOut:
    return WrapUpOut(call_id=call.id, disposition=call.disposition, disposition_label=call.disposition_label,
                     note=call.wrap_up_note, wrapped_up_at=call.wrapped_up_at)


def _tenant_user(request):
    if request.identity.tenant_id is None:
        raise UserError("not_an_agent", _("Operators do not take calls."), status=403)
    return request.identity


@api_view("api.dispositions", method="GET", summary="The company's disposition codes (agents: the active ones; ?all=1 for admins: every one)",
          permission="softphone", response=DispositionList, tags=TAGS)
def api_dispositions(request):
    _tenant_user(request)
    everything = request.params.get("all") in ("1", "true") and request.has_permission("manage")
    return DispositionList(dispositions=[disposition_out(c) for c in codes(request.db, include_inactive=bool(everything))])


@api_view("api.dispositions", method="POST", summary="Add a disposition code", permission="manage", body=DispositionIn,
          response=DispositionOut, status=201, tags=TAGS, errors=(409,))
def api_disposition_create(request, body: DispositionIn):
    _tenant_user(request)
    return disposition_out(save_code(request, CodeSettings(**body.model_dump())))


@api_view("api.disposition", method="PATCH", summary="Change a disposition code (only the fields sent)", permission="manage",
          body=DispositionPatch, response=DispositionOut, tags=TAGS, errors=(404, 409))
def api_disposition_update(request, body: DispositionPatch):
    code = get_or_404(request, DispositionCode, request.matchdict["id"])
    current = CodeSettings(code=code.code, label=code.label, position=code.position, active=code.active)
    for key, value in body.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(current, key, value)
    return disposition_out(save_code(request, current, code))


@api_view("api.disposition", method="DELETE", summary="Delete a disposition code (calls keep the code and label they were given)",
          permission="manage", status=204, tags=TAGS, errors=(404,))
def api_disposition_delete(request):
    delete_code(request, get_or_404(request, DispositionCode, request.matchdict["id"]))


@api_view("api.call_wrap_up", method="PUT", summary="Save the wrap-up of a call I took part in: disposition code and note",
          permission="softphone", body=WrapUpIn, response=WrapUpOut, tags=TAGS, errors=(404,))
def api_call_wrap_up(request, body: WrapUpIn):
    user = _tenant_user(request)
    call = get_or_404(request, Call, request.matchdict["id"])
    return wrap_up_out(wrap_up(request, user, call, disposition=body.disposition, note=body.note))


# --- console ------------------------------------------------------------------------------------

def _page(request, *, form=None, errors=None):
    return {"codes": codes(request.db, include_inactive=True), "form": form or {}, "errors": errors or {}}


@view_config(route_name="admin.dispositions", renderer="ecti:dispositions/templates/dispositions.jinja2", permission="manage",
             request_method="GET")
def dispositions_page(request):
    return _page(request)


def _form_settings(post) -> CodeSettings:
    raw = (post.get("position") or "").strip()
    try:
        position = int(raw) if raw else None
    except ValueError:
        raise UserError("not_a_number", _("Enter a whole number."), field="position", status=422)
    return CodeSettings(code=post.get("code", ""), label=post.get("label", ""), position=position,
                        active=post.get("active") == "1")


@view_config(route_name="admin.dispositions", renderer="ecti:dispositions/templates/dispositions.jinja2", permission="manage",
             request_method="POST")
def dispositions_post(request):
    action = request.POST.get("action", "add")
    translate = request.localizer.translate
    try:
        with request.db.begin_nested():
            if action == "add":
                code = save_code(request, _form_settings(request.POST))
                message = _("The disposition ${label} was added.", mapping={"label": code.label})
            else:
                code = get_or_404(request, DispositionCode, request.POST.get("id"))
                if action == "delete":
                    label = code.label
                    delete_code(request, code)
                    message = _("The disposition ${label} was deleted.", mapping={"label": label})
                else:
                    save_code(request, _form_settings(request.POST), code)
                    message = _("The disposition ${label} was saved.", mapping={"label": code.label})
    except UserError as err:
        request.response.status_int = err.status if err.status in (409, 422) else 422
        return _page(request, form=dict(request.POST), errors={err.field or "": translate(err.message)})
    request.session.flash(translate(message))
    return HTTPSeeOther(request.route_url("admin.dispositions"))


def includeme(config):
    config.add_route("admin.dispositions", "/admin/dispositions")
    config.add_route("api.dispositions", f"{API_PREFIX}/dispositions")
    config.add_route("api.disposition", f"{API_PREFIX}/dispositions/{{id:\\d+}}")
    config.add_route("api.call_wrap_up", f"{API_PREFIX}/calls/{{id:\\d+}}/wrap-up")
    config.add_console_nav("admin.dispositions", _("Disposition codes"), permission="manage", order=45)
