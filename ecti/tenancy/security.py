"""Sign-in, sessions, permissions.

* Passwords are hashed with argon2 (``argon2-cffi`` defaults, re-hashed when they change).
* The session cookie is signed, HttpOnly, and its SameSite/Secure flags come from settings:
  production serves the softphone inside a Salesforce iframe, which needs ``SameSite=None;
  Secure``. The session holds the user id and the user's ``session_epoch``; bumping the epoch
  (password change, deactivation, "sign out everywhere") ends every session of that user.
* After :data:`MAX_FAILED_LOGINS` failures in a row an account is locked, and each further
  failure doubles the lock (15 min, 30 min, ... capped at 24 h).
* Every state-changing request needs the CSRF token (form field ``csrf_token`` or header
  ``X-CSRF-Token``), except carrier webhooks, which are authenticated by signature instead.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pyramid.security import Allowed, Denied
from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.session import SignedCookieSessionFactory
from pyramid.settings import asbool

from ..db import ALL_TENANTS, SCOPE_KEY, all_tenants, set_tenant_scope
from ..models.meta import utcnow
from .models import Role, Tenant, User, find_user_by_email

MAX_FAILED_LOGINS = 5
FIRST_LOCK = timedelta(minutes=15)
LONGEST_LOCK = timedelta(hours=24)

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so that both cases take the same time.
_DUMMY_HASH = _hasher.hash("not a password of anyone")

#: What each role may do. Views name one of these permissions, or ``signed_in`` (any role).
PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.operator: frozenset({"console", "operate"}),
    Role.admin: frozenset({"console", "manage", "supervise", "softphone", "recordings"}),
    Role.supervisor: frozenset({"console", "supervise", "softphone", "recordings"}),
    Role.agent: frozenset({"softphone"}),
}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


class LoginRefused(Exception):
    """Sign-in failed; ``reason`` is ``invalid``, ``locked`` (with ``until``) or ``suspended``."""

    def __init__(self, reason: str, until: datetime | None = None):
        super().__init__(reason)
        self.reason = reason
        self.until = until


def authenticate(session, email: str, password: str, *, now: datetime | None = None) -> User:
    """Return the user for these credentials or raise :class:`LoginRefused`.

    Failed attempts are counted on the account (the caller commits them even though the
    sign-in failed).
    """
    now = now or utcnow()
    with all_tenants(session):
        try:
            return _authenticate(session, email, password, now)
        finally:
            session.flush()  # the failure count is written while the scope allows it


def _authenticate(session, email: str, password: str, now: datetime) -> User:
    user = find_user_by_email(session, email)
    if user is None or not user.is_active or not user.password_hash:
        _verify(_DUMMY_HASH, password)
        raise LoginRefused("invalid")
    if user.locked_until and user.locked_until > now:
        raise LoginRefused("locked", user.locked_until)
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            lock = min(FIRST_LOCK * 2 ** (user.failed_logins - MAX_FAILED_LOGINS), LONGEST_LOCK)
            user.locked_until = now + lock
            raise LoginRefused("locked", user.locked_until)
        raise LoginRefused("invalid")
    if user.tenant is not None and not user.tenant.is_active:
        raise LoginRefused("suspended")
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class SecurityPolicy:
    """Session-based identity; permissions by role (:data:`PERMISSIONS`)."""

    def identity(self, request) -> User | None:
        user_id = request.session.get("user_id")
        if user_id is None:
            return None
        with all_tenants(request.db):
            user = request.db.get(User, user_id)
        if (
            user is None
            or not user.is_active
            or user.session_epoch != request.session.get("epoch")
            or (user.tenant is not None and not user.tenant.is_active)
        ):
            return None
        # From here on every query of this request sees only this user's tenant; operators,
        # who host every tenant, see all of them.
        if user.tenant_id is None:
            request.db.info[SCOPE_KEY] = ALL_TENANTS
        else:
            set_tenant_scope(request.db, user.tenant_id)
        return user

    def authenticated_userid(self, request):
        user = request.identity
        return user.id if user else None

    def permits(self, request, context, permission):
        user = request.identity
        if user is None:
            return Denied("not signed in")
        if permission == "signed_in" or permission in PERMISSIONS[user.role]:
            return Allowed(f"role {user.role.value} has {permission}")
        return Denied(f"role {user.role.value} lacks {permission}")

    def remember(self, request, userid, **kw):
        user = kw["user"]
        # A new session id at sign-in: a session fixed before sign-in is worth nothing.
        request.session.invalidate()
        request.session["user_id"] = user.id
        request.session["epoch"] = user.session_epoch
        return []

    def forget(self, request, **kw):
        request.session.invalidate()
        return []


def current_tenant(request) -> Tenant | None:
    """The signed-in user's tenant (None for operators and anonymous requests)."""
    user = request.identity
    return user.tenant if user is not None else None


def includeme(config):
    settings = config.get_settings()
    secret = settings["ecti.secret_key"]
    config.set_session_factory(
        SignedCookieSessionFactory(
            secret,
            cookie_name="ecti_session",
            httponly=True,
            secure=asbool(settings.get("ecti.session_secure", False)),
            samesite=settings.get("ecti.session_samesite", "Lax"),
            timeout=int(settings.get("ecti.session_timeout", 12 * 3600)),
            reissue_time=600,
            hashalg="sha512",
        )
    )
    config.set_security_policy(SecurityPolicy())
    config.set_csrf_storage_policy(SessionCSRFStoragePolicy())
    config.set_default_csrf_options(require_csrf=True)
    config.add_request_method(current_tenant, "tenant", reify=True)
