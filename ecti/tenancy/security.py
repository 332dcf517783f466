"""Sign-in, sessions, permissions.

* Passwords are hashed with argon2 (``argon2-cffi`` defaults, re-hashed when they change).
* The session cookie is signed, HttpOnly, and its SameSite/Secure flags come from settings:
  production serves the softphone inside a Salesforce iframe, which needs ``SameSite=None;
  Secure``. The cookie holds the user id, the user's ``session_epoch`` and a random token whose
  SHA-256 names a :class:`~ecti.tenancy.models.UserSession` row. Signing out deletes that row,
  so a copy of the cookie taken before is worth nothing; "sign out everywhere", an
  administrator ending a user's sessions, a password change and deactivation delete all of the
  user's rows and bump the epoch. A session lasts at most ``ecti.session_lifetime`` seconds
  (7 days) and ends after ``ecti.session_timeout`` (12 h) without a request.
* Failed sign-ins are throttled per client address and per login name (:mod:`.throttle`),
  never by locking the account.
* Every state-changing request needs the CSRF token (form field ``csrf_token`` or header
  ``X-CSRF-Token``), except carrier webhooks, which are authenticated by signature instead.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pyramid.security import Allowed, Denied
from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.session import SignedCookieSessionFactory
from pyramid.settings import asbool
from sqlalchemy import delete, select

from ..db import ALL_TENANTS, SCOPE_KEY, all_tenants, set_tenant_scope
from ..models.meta import utcnow
from .models import Role, Tenant, User, UserSession, find_user_by_email

#: How long a session may last at most, signed in once (``ecti.session_lifetime``, seconds).
DEFAULT_SESSION_LIFETIME = 7 * 24 * 3600

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so that both cases take the same time.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Hash and verify passwords with ``hasher`` in this process from now on (``ecti.testing``
    uses argon2's cheapest parameters: a test suite creates thousands of users, and full-cost
    argon2 took a third of its time). Passwords hashed with other parameters still verify and
    are re-hashed at the next sign-in (:func:`rehash_if_needed`)."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash("not a password of anyone")

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
    """Sign-in failed; ``reason`` is ``invalid`` or ``suspended``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def authenticate(session, email: str, password: str) -> User:
    """Return the user for these credentials or raise :class:`LoginRefused`. Writes nothing:
    the caller passes a reading session, so that SQLite's write lock is not held during the
    argon2 verification (see :func:`rehash_if_needed`).

    An unknown address costs the same argon2 verification as a wrong password, and both get the
    same answer. Throttling is the caller's (:mod:`.throttle`).
    """
    with all_tenants(session):
        user = find_user_by_email(session, email)
        if user is None or not user.is_active or not user.password_hash:
            _verify(_DUMMY_HASH, password)
            raise LoginRefused("invalid")
        if not _verify(user.password_hash, password):
            raise LoginRefused("invalid")
        if user.tenant is not None and not user.tenant.is_active:
            raise LoginRefused("suspended")
    return user


def rehash_if_needed(user: User, password: str) -> None:
    """Re-hash a password stored with older argon2 parameters (``user`` of the writing session)."""
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# --- server-side sessions ----------------------------------------------------------------------

def session_row_id(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def session_lifetime(settings) -> timedelta:
    return timedelta(seconds=int(settings.get("ecti.session_lifetime", DEFAULT_SESSION_LIFETIME)))


def start_session(request, user: User) -> None:
    """Sign ``user`` in on this browser: a new cookie session naming a new server-side row."""
    from ..web import client_address

    # A new session id at sign-in: a session fixed before sign-in is worth nothing.
    request.session.invalidate()
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db = request.db
    # Sessions past their lifetime are gone anyway; drop this user's rows of them.
    db.execute(delete(UserSession).where(UserSession.user_id == user.id,
                                         UserSession.created_at < now - session_lifetime(request.registry.settings)))
    db.add(UserSession(id=session_row_id(token), user_id=user.id, created_at=now, client_address=client_address(request),
                       user_agent=(request.user_agent or "")[:200] or None))
    request.session["user_id"] = user.id
    request.session["epoch"] = user.session_epoch
    request.session["sid"] = token


def end_session(request) -> None:
    """Sign this browser out: its server-side row goes, so no copy of the cookie works again."""
    token = request.session.get("sid")
    if token:
        request.db.execute(delete(UserSession).where(UserSession.id == session_row_id(token)))
    request.session.invalidate()


def end_all_sessions(db, user: User) -> int:
    """End every session of ``user`` (sign out everywhere, deactivation, password change,
    an administrator's decision); returns how many were open."""
    ended = db.execute(delete(UserSession).where(UserSession.user_id == user.id)).rowcount or 0
    user.session_epoch += 1
    return ended


def session_counts(db, user_ids: list[int]) -> dict[int, int]:
    """How many sessions each of these users has open (users without one are missing)."""
    from sqlalchemy import func

    if not user_ids:
        return {}
    rows = db.execute(select(UserSession.user_id, func.count()).where(UserSession.user_id.in_(user_ids)).group_by(UserSession.user_id))
    return dict(rows.all())


def open_sessions(db, user: User) -> list[UserSession]:
    return list(db.scalars(select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.created_at.desc())))


class SecurityPolicy:
    """Session-based identity; permissions by role (:data:`PERMISSIONS`)."""

    def identity(self, request) -> User | None:
        from ..apikeys.services import bearer_token, identity as key_identity

        token = bearer_token(request)
        if token is not None:  # an API key: the session cookie, if any, is not looked at
            return key_identity(request, token)
        user_id = request.session.get("user_id")
        token = request.session.get("sid")
        if user_id is None:
            return None
        user = None
        if token:
            with all_tenants(request.db):
                row = request.db.execute(
                    select(User, UserSession.created_at).join(UserSession, UserSession.user_id == User.id)
                    .where(UserSession.id == session_row_id(token), User.id == user_id)
                ).first()
            if row is not None and row[1] > utcnow() - session_lifetime(request.registry.settings):
                user = row[0]
        if (
            user is None
            or not user.is_active
            or user.session_epoch != request.session.get("epoch")
            or (user.tenant is not None and not user.tenant.is_active)
        ):
            # An ended session: forget it, so the cookie this response re-issues names nobody.
            request.session.invalidate()
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
        if permission != "signed_in" and permission not in PERMISSIONS[user.role]:
            return Denied(f"role {user.role.value} lacks {permission}")
        from ..apikeys.services import permits as key_permits, uses_api_key

        if uses_api_key(request):
            allowed, why = key_permits(request, permission)
            return Allowed(why) if allowed else Denied(why)
        return Allowed(f"role {user.role.value} has {permission}")

    def remember(self, request, userid, **kw):
        start_session(request, kw["user"])
        return []

    def forget(self, request, **kw):
        end_session(request)
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
    from ..apikeys.services import uses_api_key

    # A request authenticated by an API key carries no cookie to forge: no CSRF token needed.
    config.set_default_csrf_options(require_csrf=True, callback=lambda request: not uses_api_key(request))
    config.add_request_method(current_tenant, "tenant", reify=True)
    from .throttle import verification_gate

    config.registry["ecti.signin_gate"] = verification_gate(settings)
