"""Sign-in and users (tenant admins): console pages and JSON API. Operator pages: ecti.operator."""
from __future__ import annotations

import math
import secrets
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pyramid.httpexceptions import HTTPFound, HTTPNotFound, HTTPSeeOther
from pyramid.security import forget, remember
from pyramid.view import view_config
from sqlalchemy import select

from ..api import API_PREFIX, PatchModel, api_view
from ..audit.services import record_audit
from ..db import all_tenants
from ..errors import UserError
from ..i18n import _
from ..web import client_address, flash, get_or_404
from . import throttle
from .models import Role, User
from .security import LoginRefused, authenticate, rehash_if_needed, end_all_sessions, open_sessions, session_counts, session_row_id
from .services import check_admin_remains, create_user, set_user_active

TENANT_ROLES = (Role.admin, Role.supervisor, Role.agent)


# --- sign-in ---------------------------------------------------------------------------------

@view_config(route_name="login", renderer="ecti:console/templates/login.jinja2", request_method="GET")
def login_form(request):
    if request.identity is not None:
        return HTTPFound(request.route_url("home"))
    return {"email": "", "error": None, "next": request.params.get("next", "")}


#: How long a sign-in waits for its turn at the argon2 verification before "busy, try again".
GATE_WAIT_SECONDS = 2


@view_config(route_name="login", renderer="ecti:console/templates/login.jinja2", request_method="POST")
def login(request):
    email = request.POST.get("email", "")
    password = request.POST.get("password", "")
    next_url = request.POST.get("next", "")
    form = {"email": email, "next": next_url}
    engine = request.registry["ecti.engine"]
    address = client_address(request)
    wait = throttle.reserve(engine, address, email)
    if wait:
        # The same answer whether the address is known or not, and no argon2 time spent.
        seconds = max(1, math.ceil(wait))
        request.response.status_int = 429
        request.response.headers["Retry-After"] = str(seconds)
        return {**form, "error": _("Too many sign-in attempts. Wait ${seconds} seconds and try again.", mapping={"seconds": seconds})}
    gate = request.registry["ecti.signin_gate"]
    if not gate.acquire(timeout=GATE_WAIT_SECONDS):
        request.response.status_int = 503
        request.response.headers["Retry-After"] = "5"
        return {**form, "error": _("Sign-in is busy. Try again in a moment.")}
    reading = request.registry["ecti.session_factory"]()
    try:
        found = authenticate(reading, email, password)
    except LoginRefused as refused:
        request.response.status_int = 400 if refused.reason == "invalid" else 403
        if refused.reason == "suspended":
            error = _("This company's use of ECTI is suspended. Please contact your operator.")
        else:
            error = _("The e-mail address or the password is wrong.")
        return {**form, "error": error}
    finally:
        gate.release()
        reading.close()
    with all_tenants(request.db):
        user = request.db.get(User, found.id)
        # (written now, in the unscoped block: the request has no tenant scope yet)
        rehash_if_needed(user, password)
        request.db.flush()
    throttle.succeeded(request.db, address, email)
    remember(request, user.id, user=user)
    # Only local paths: an open redirect would hand the signed-in user to anyone.
    target = next_url if next_url.startswith("/") and not next_url.startswith("//") else request.route_url("home")
    return HTTPSeeOther(target, headers=request.response.headers)


@view_config(route_name="logout", request_method="POST")
def logout(request):
    headers = forget(request)
    return HTTPSeeOther(request.route_url("login"), headers=headers)


@view_config(route_name="account.sessions", renderer="ecti:console/templates/sessions.jinja2", permission="signed_in", request_method="GET")
def my_sessions(request):
    current = session_row_id(request.session.get("sid", ""))
    return {"sessions": open_sessions(request.db, request.identity), "current": current}


@view_config(route_name="account.sessions", permission="signed_in", request_method="POST")
def sign_out_everywhere(request):
    """End every session of the signed-in user, this one included."""
    end_all_sessions(request.db, request.identity)
    request.session.invalidate()
    return HTTPSeeOther(request.route_url("login"))


# --- tenant admin: users ---------------------------------------------------------------------

@view_config(route_name="admin.users", renderer="ecti:console/templates/users.jinja2", permission="manage", request_method="GET")
def users_page(request):
    return _users_context(request, form={}, errors={})


def _users_context(request, *, form, errors, new_password=None):
    users = request.db.scalars(select(User).order_by(User.display_name)).all()
    sessions = session_counts(request.db, [u.id for u in users])
    return {"users": users, "roles": TENANT_ROLES, "form": form, "errors": errors, "new_password": new_password,
            "sessions": sessions}


@view_config(route_name="admin.users", renderer="ecti:console/templates/users.jinja2", permission="manage", request_method="POST")
def users_create(request):
    form = {k: request.POST.get(k, "") for k in ("email", "display_name", "role")}
    password = request.POST.get("password") or secrets.token_urlsafe(12)
    try:
        role = _tenant_role(form["role"])
        user = create_user(request.db, tenant=request.tenant, email=form["email"], display_name=form["display_name"], role=role, password=password)
    except UserError as err:
        request.response.status_int = 422
        return _users_context(request, form=form, errors={err.field or "": err.message})
    record_audit(request, "user.create", user, email=user.email, role=user.role)
    flash(request, _("The user ${email} was created.", mapping={"email": form["email"]}))
    shown = None if request.POST.get("password") else password
    return _users_context(request, form={}, errors={}, new_password=shown)


@view_config(route_name="admin.user_active", permission="manage", request_method="POST")
def user_active(request):
    user = get_or_404(request, User, request.matchdict["id"])
    active = request.POST.get("active") == "1"
    if user.id == request.identity.id and not active:
        flash(request, _("You cannot deactivate yourself."), "error")
    elif user.is_active != active:
        try:
            check_admin_remains(request.db, user, active=active)
        except UserError as err:
            flash(request, err.message, "error")
            return HTTPSeeOther(request.route_url("admin.users"))
        set_user_active(request.db, user, active)
        record_audit(request, "user.activate" if active else "user.deactivate", user, email=user.email)
    return HTTPSeeOther(request.route_url("admin.users"))


@view_config(route_name="admin.user_sessions", permission="manage", request_method="POST")
def user_sessions_end(request):
    """An administrator ends every session of one of the company's users (a lost laptop)."""
    user = get_or_404(request, User, request.matchdict["id"])
    ended = end_all_sessions(request.db, user)
    record_audit(request, "user.sessions_ended", user, email=user.email, count=ended)
    flash(request, _("Signed ${email} out everywhere.", mapping={"email": user.email}))
    if user.id == request.identity.id:
        request.session.invalidate()
        return HTTPSeeOther(request.route_url("login"))
    return HTTPSeeOther(request.route_url("admin.users"))


def _tenant_role(value: str) -> Role:
    try:
        role = Role(value)
    except ValueError:
        role = None
    if role not in TENANT_ROLES:
        raise UserError("invalid_role", _("Choose a role."), field="role", status=422)
    return role


@view_config(route_name="lang", request_method="POST")
def switch_language(request):
    code = request.matchdict["code"]
    if code not in ("ja", "en"):
        raise HTTPNotFound()
    target = request.referer if request.referer and request.referer.startswith(request.host_url) else request.route_url("home")
    response = HTTPSeeOther(target)
    response.set_cookie("_LOCALE_", code, max_age=365 * 24 * 3600, httponly=True, samesite="Lax")
    if request.identity is not None:
        request.identity.locale = code
    return response


# --- JSON API: users -------------------------------------------------------------------------

class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str
    role: Literal["admin", "supervisor", "agent"]
    is_active: bool
    locale: str | None


class UserList(BaseModel):
    users: list[UserOut]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254)
    display_name: str = Field(min_length=1, max_length=100)
    role: Literal["admin", "supervisor", "agent"]
    password: str = Field(min_length=10, max_length=200)


class UserUpdate(PatchModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    role: Literal["admin", "supervisor", "agent"] | None = None
    is_active: bool | None = None
    locale: Literal["ja", "en"] | None = None


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id, email=user.email, display_name=user.display_name, role=user.role.value, is_active=user.is_active, locale=user.locale
    )


@api_view("api.users", method="GET", summary="List the company's users", permission="manage", response=UserList, tags=("users",))
def api_users(request):
    users = request.db.scalars(select(User).order_by(User.id)).all()
    return UserList(users=[_user_out(u) for u in users])


@api_view("api.users", method="POST", summary="Create a user", permission="manage", body=UserCreate, response=UserOut, status=201, tags=("users",), errors=(409,))
def api_user_create(request, body: UserCreate):
    user = create_user(
        request.db, tenant=request.tenant, email=body.email, display_name=body.display_name, role=Role(body.role), password=body.password
    )
    record_audit(request, "user.create", user, email=user.email, role=user.role)
    return _user_out(user)


@api_view("api.user", method="GET", summary="One user", permission="manage", response=UserOut, tags=("users",), errors=(404,))
def api_user(request):
    return _user_out(get_or_404(request, User, request.matchdict["id"]))


@api_view("api.user", method="PATCH", summary="Change a user (name, role, active, language)", permission="manage", body=UserUpdate, response=UserOut, tags=("users",), errors=(404,))
def api_user_update(request, body: UserUpdate):
    user = get_or_404(request, User, request.matchdict["id"])
    before = {"display_name": user.display_name, "role": user.role.value, "locale": user.locale}
    if body.is_active is False and user.is_active and user.id == request.identity.id:
        raise UserError("cannot_deactivate_self", _("You cannot deactivate yourself."), field="is_active", status=422)
    check_admin_remains(request.db, user, role=Role(body.role) if body.role else None, active=body.is_active)
    if body.display_name is not None:
        user.display_name = body.display_name.strip()
    if body.role is not None:
        user.role = Role(body.role)
    if body.locale is not None:
        user.locale = body.locale
    if body.is_active is not None and body.is_active != user.is_active:
        set_user_active(request.db, user, body.is_active)
        record_audit(request, "user.activate" if body.is_active else "user.deactivate", user, email=user.email)
    after = {"display_name": user.display_name, "role": user.role.value, "locale": user.locale}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        record_audit(request, "user.update", user, email=user.email, changes=changes)
    return _user_out(user)


class SessionsEnded(BaseModel):
    ended: int


@api_view("api.user_sessions", method="DELETE", summary="Sign a user out everywhere (end all their sessions)", permission="manage", response=SessionsEnded, tags=("users",), errors=(404,))
def api_user_sessions_end(request):
    user = get_or_404(request, User, request.matchdict["id"])
    ended = end_all_sessions(request.db, user)
    record_audit(request, "user.sessions_ended", user, email=user.email, count=ended)
    return SessionsEnded(ended=ended)


def includeme(config):
    config.add_route("login", "/login")
    config.add_route("logout", "/logout")
    config.add_route("account.sessions", "/account/sessions")
    config.add_route("lang", "/lang/{code}")
    config.add_route("admin.users", "/admin/users")
    config.add_route("admin.user_active", "/admin/users/{id:\\d+}/active")
    config.add_route("admin.user_sessions", "/admin/users/{id:\\d+}/sessions")
    config.add_route("api.users", f"{API_PREFIX}/users")
    config.add_route("api.user", f"{API_PREFIX}/users/{{id:\\d+}}")
    config.add_route("api.user_sessions", f"{API_PREFIX}/users/{{id:\\d+}}/sessions")
