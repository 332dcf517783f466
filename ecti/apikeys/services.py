"""Creating, checking and revoking API keys; the per-key rate limit.

A key is ``ecti_live_`` followed by 43 random URL-safe characters (256 bits). It is shown once;
the database keeps its SHA-256 (a key this random needs no slow hash) and its first characters.

A request to ``/api/v1/`` with ``Authorization: Bearer <key>`` is authenticated by the key
alone (the session cookie is ignored, so no CSRF token is needed): it acts as the user who
created the key, limited to the key's scopes (:mod:`.scopes`). Each use takes one token from the
key's bucket (``ecti.api_keys.rate`` per second, up to ``ecti.api_keys.burst``), stored in the
database so every app process shares it; an empty bucket answers 429 with ``Retry-After``.
"""
from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime

from sqlalchemy import select, update

from ..db import ALL_TENANTS, SCOPE_KEY, all_tenants, set_tenant_scope, writing
from ..errors import UserError
from ..i18n import _
from ..models.meta import utcnow
from ..tenancy.models import Role, User
from .models import ApiKey
from .scopes import ANY, scope_for, scopes_for_role

PREFIX = "ecti_live_"
DEFAULT_RATE = 10.0  # tokens per second
DEFAULT_BURST = 100.0
#: ``request.environ`` keys set while authenticating.
KEY_ENV = "ecti.api_key"
ERROR_ENV = "ecti.api_key.error"
WAIT_ENV = "ecti.api_key.retry_after"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def create_key(session, *, user: User, name: str, scopes: list[str], expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """A new key acting as ``user`` (an admin, or the operator); returns it and its secret,
    which is never available again."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise UserError("invalid_name", _("Give the key a name of 1 to 100 characters."), status=422)
    if user.role not in (Role.admin, Role.operator):
        raise UserError("not_allowed", _("Only administrators can create API keys."), status=403)
    allowed = scopes_for_role(user.role is Role.operator)
    scopes = sorted(set(scopes or ()))
    if not scopes:
        raise UserError("no_scopes", _("Choose at least one scope."), status=422)
    unknown = [s for s in scopes if s not in allowed]
    if unknown:
        raise UserError("unknown_scope", _("These scopes are not available here: ${scopes}", mapping={"scopes": ", ".join(unknown)}),
                        status=422)
    if expires_at is not None and expires_at <= utcnow():
        raise UserError("expired", _("The expiry date must be in the future."), status=422)
    secret = PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(tenant_id=user.tenant_id, name=name, prefix=secret[: len(PREFIX) + 8], secret_hash=hash_secret(secret),
                 scopes=scopes, user_id=user.id, user=user, expires_at=expires_at, created_at=utcnow())
    session.add(key)
    session.flush()
    return key, secret


def list_keys(session, tenant_id: int | None) -> list[ApiKey]:
    with all_tenants(session):
        return list(session.scalars(select(ApiKey).where(ApiKey.tenant_id.is_(None) if tenant_id is None else ApiKey.tenant_id == tenant_id)
                                    .order_by(ApiKey.id.desc())))


def get_key(session, tenant_id: int | None, key_id) -> ApiKey | None:
    try:
        key_id = int(key_id)
    except (TypeError, ValueError):
        return None
    keys = [k for k in list_keys(session, tenant_id) if k.id == key_id]
    return keys[0] if keys else None


def revoke(key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = utcnow()


def bearer_token(request) -> str | None:
    """The key of an API request sent with ``Authorization: Bearer …`` (None otherwise)."""
    from ..api import is_api_request

    header = request.headers.get("Authorization", "")
    if not header[:7].lower() == "bearer " or not is_api_request(request):
        return None
    return header[7:].strip()


def uses_api_key(request) -> bool:
    return bearer_token(request) is not None


#: ``request.environ`` key: the user found for the key (resolved once per request: the security
#: policy's ``identity`` is asked many times, and each use costs a token).
USER_ENV = "ecti.api_key.user"


def identity(request, token: str) -> User | None:
    """Authenticate an API request by its key (once per request); sets the tenant scope like a
    session does."""
    cached = request.environ.get(USER_ENV)
    if cached is not None and cached[0] is request:  # (a retried request starts afresh)
        return cached[1]
    for name in (KEY_ENV, ERROR_ENV, WAIT_ENV):
        request.environ.pop(name, None)
    user = _identify(request, token)
    request.environ[USER_ENV] = (request, user)
    return user


def _identify(request, token: str) -> User | None:
    now = utcnow()
    with all_tenants(request.db):
        key = request.db.scalar(select(ApiKey).where(ApiKey.secret_hash == hash_secret(token)))
        user = key.user if key is not None else None
        problem = None
        if key is None:
            problem = "unknown"
        else:
            problem = {"revoked": "revoked", "expired": "expired"}.get(key.status(now))
            if problem is None and (not user.is_active or (user.tenant is not None and not user.tenant.is_active)):
                problem = "inactive"
    if problem is not None:
        request.environ[ERROR_ENV] = problem
        return None
    request.environ[KEY_ENV] = key
    settings = request.registry.settings
    rate = float(settings.get("ecti.api_keys.rate") or DEFAULT_RATE)
    burst = float(settings.get("ecti.api_keys.burst") or DEFAULT_BURST)
    if request.method in ("GET", "HEAD"):
        wait = consume(request.registry["ecti.engine"], key.id, rate=rate, burst=burst, now=now)
    else:
        # A writing request already holds the write lock on SQLite (BEGIN IMMEDIATE): its own
        # transaction takes the token, committed with it.
        wait = take_token(request.db.connection(), key.id, rate=rate, burst=burst, now=now)
    if wait:
        request.environ[WAIT_ENV] = wait
    if user.tenant_id is None:
        request.db.info[SCOPE_KEY] = ALL_TENANTS
    else:
        set_tenant_scope(request.db, user.tenant_id)
    return user


def consume(engine, key_id: int, *, rate: float, burst: float, now: datetime | None = None) -> int:
    """Take one token from the key's bucket; 0 to go ahead, else the seconds to wait (≥ 1)."""
    with writing(engine).begin() as conn:
        return take_token(conn, key_id, rate=rate, burst=burst, now=now)


def take_token(conn, key_id: int, *, rate: float, burst: float, now: datetime | None = None) -> int:
    """:func:`consume` on an open connection (in its transaction)."""
    now = now or utcnow()
    table = ApiKey.__table__
    row = conn.execute(select(table.c.tokens, table.c.bucket_at).where(table.c.id == key_id).with_for_update()).first()
    if row is None:
        return 0
    if row.bucket_at is None or row.tokens is None:
        tokens = burst
    else:
        tokens = min(burst, row.tokens + max(0.0, (now - row.bucket_at).total_seconds()) * rate)
    if tokens < 1:
        conn.execute(update(table).where(table.c.id == key_id).values(tokens=tokens, bucket_at=now))
        return max(1, math.ceil((1 - tokens) / rate))
    conn.execute(update(table).where(table.c.id == key_id).values(tokens=tokens - 1, bucket_at=now, last_used_at=now))
    return 0


def permits(request, permission: str) -> tuple[bool, str]:
    """Whether the key of this request may call the matched operation (its role is checked by
    the security policy as for a session)."""
    key = request.environ.get(KEY_ENV)
    if key is None:
        return False, "no key"
    if request.environ.get(WAIT_ENV):
        return False, "rate limited"
    route = request.matched_route
    if route is None:
        return False, "no operation"
    needed = scope_for(route.name, request.method)
    if needed is None:
        return False, "not available with a key"
    if needed != ANY and needed not in (key.scopes or ()):
        return False, f"key lacks {needed}"
    return True, f"key has {needed}"


def forbidden_answer(request):
    """The API's answer when the security policy refused a request made with a key: 401 for a
    bad key, 429 when its bucket is empty, 403 for a missing scope. None: not a key request."""
    from ..api import error_response

    if not uses_api_key(request):
        return None
    problem = request.environ.get(ERROR_ENV)
    if problem is not None or request.environ.get(KEY_ENV) is None:
        request.response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        messages = {
            "revoked": _("This API key has been revoked."),
            "expired": _("This API key has expired."),
        }
        return error_response(request, 401, f"api_key_{problem or 'unknown'}",
                              messages.get(problem, _("The API key is not valid.")))
    wait = request.environ.get(WAIT_ENV)
    if wait:
        request.response.headers["Retry-After"] = str(wait)
        return error_response(request, 429, "rate_limited", _("Too many requests with this API key. Try again in ${seconds} s.",
                                                              mapping={"seconds": wait}))
    route = request.matched_route
    needed = scope_for(route.name, request.method) if route is not None else None
    if needed is None:
        return error_response(request, 403, "not_available_with_api_key", _("This operation cannot be used with an API key."))
    if needed != ANY and needed not in (request.environ[KEY_ENV].scopes or ()):
        return error_response(request, 403, "insufficient_scope", _("This API key lacks the scope ${scope}.", mapping={"scope": needed}))
    return error_response(request, 403, "forbidden", _("You are not allowed to do this."))
