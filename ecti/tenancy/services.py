"""Creating tenants and users; used by the console, the API and the CLI alike."""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import object_session

from ..db import all_tenants
from ..errors import UserError
from ..i18n import _
from ..models.meta import utcnow
from .models import AccountEvent, AccountEventKind, Role, Tenant, User, email_key, find_user_by_email
from .security import end_all_sessions, hash_password

MIN_PASSWORD_LENGTH = 10
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


#: zxcvbn's score (0–4) a password needs: 3 means more than 10^8 guesses, out of reach of an
#: online attack that the sign-in throttle slows down, while passphrases of ordinary words pass.
MIN_PASSWORD_SCORE = 3
#: What zxcvbn found in a weak password → what the person is told.
WEAKNESS_MESSAGES = {
    "repeat": _("The password repeats characters or a short pattern (like aaaa or abcabc). Choose one that does not."),
    "sequence": _("The password is a simple sequence (like 12345 or abcde). Choose one that is not."),
    "spatial": _("The password is a row of keys on the keyboard (like qwerty). Choose one that is not."),
    "dictionary": _("The password is a commonly used password or too close to one. Choose a less common one, for example several unrelated words."),
}


def check_password(password: str, *, user_inputs: tuple[str, ...] = ()) -> None:
    """Refuse short, common and trivially patterned passwords (zxcvbn), with a specific reason."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            "password_too_short",
            _("The password must have at least ${n} characters.", mapping={"n": MIN_PASSWORD_LENGTH}),
            field="password",
            status=422,
        )
    from zxcvbn import zxcvbn

    # zxcvbn's time grows with the length; the first 64 characters decide anyway.
    result = zxcvbn(password[:64], user_inputs=[part for value in user_inputs for part in re.split(r"[@.\s]+", value) if part])
    if result["score"] >= MIN_PASSWORD_SCORE:
        return
    # The reason is what makes up most of the password.
    longest = max(result.get("sequence", []), key=lambda match: len(match.get("token", "")), default={})
    reason = longest.get("pattern")
    raise UserError(
        "password_too_weak",
        WEAKNESS_MESSAGES.get(reason, _("The password is too easy to guess. Choose a longer one, for example several unrelated words.")),
        field="password",
        status=422,
    )


def create_tenant(
    session, *, slug: str, name: str, time_zone: str = "Asia/Tokyo", locale: str = "ja", start_date: date | None = None
) -> Tenant:
    slug = slug.strip().lower()
    if not _SLUG.match(slug):
        raise UserError(
            "invalid_slug",
            _("The short name may use lower-case letters, digits and hyphens (at most 63)."),
            field="slug",
            status=422,
        )
    if not name.strip():
        raise UserError("name_required", _("Enter the company name."), field="name", status=422)
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError("invalid_time_zone", _("Unknown time zone: ${tz}", mapping={"tz": time_zone}), field="time_zone", status=422)
    if locale not in ("ja", "en"):
        raise UserError("invalid_locale", _("The language must be ja or en."), field="locale", status=422)
    with all_tenants(session):
        if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
            raise UserError("slug_taken", _("The short name ${slug} is already used.", mapping={"slug": slug}), field="slug", status=409)
    tenant = Tenant(
        slug=slug,
        name=name.strip(),
        time_zone=time_zone,
        locale=locale,
        start_date=start_date or utcnow().astimezone(ZoneInfo(time_zone)).date(),
    )
    session.add(tenant)
    session.flush()
    return tenant


def create_user(
    session,
    *,
    tenant: Tenant | None,
    email: str,
    display_name: str,
    role: Role,
    password: str | None,
    at: datetime | None = None,
) -> User:
    """Create a user; ``tenant`` is None only for operators. Records the account's activation."""
    email = email_key(email)
    if not _EMAIL.match(email) or len(email) > 254:
        raise UserError("invalid_email", _("Enter a valid e-mail address."), field="email", status=422)
    if not display_name.strip():
        raise UserError("name_required", _("Enter the name."), field="display_name", status=422)
    if (role is Role.operator) != (tenant is None):
        raise UserError("invalid_role", _("Operators belong to no company; other roles belong to one."), field="role", status=422)
    if password is not None:
        check_password(password, user_inputs=(email, display_name))
    with all_tenants(session):
        existing = find_user_by_email(session, email)
        if existing is not None:
            if tenant is not None and existing.tenant_id == tenant.id:
                raise UserError("email_taken", _("The e-mail address ${email} is already used.", mapping={"email": email}), field="email", status=409)
            # Login names are unique across companies; say so without telling that another
            # company (or the operator) has this address.
            raise UserError("email_unavailable", _("The e-mail address ${email} cannot be used for a new user. Use another address.",
                                                   mapping={"email": email}), field="email", status=409)
        user = User(
            tenant_id=tenant.id if tenant else None,
            email=email,
            display_name=display_name.strip(),
            role=role,
            password_hash=hash_password(password) if password is not None else None,
        )
        session.add(user)
        session.flush()
        if tenant is not None:
            session.add(AccountEvent(tenant_id=tenant.id, user_id=user.id, kind=AccountEventKind.activated, at=at or utcnow()))
            session.flush()
    return user


def check_admin_remains(session, user: User, *, role: Role | None = None, active: bool | None = None) -> None:
    """Refuse a change that would leave the company without an active administrator."""
    if user.tenant_id is None or user.role is not Role.admin or not user.is_active:
        return
    if (role is None or role is Role.admin) and active is not False:
        return
    with all_tenants(session):
        others = session.scalar(
            select(func.count()).select_from(User).where(
                User.tenant_id == user.tenant_id, User.role == Role.admin, User.is_active.is_(True), User.id != user.id
            )
        )
    if not others:
        raise UserError(
            "last_admin",
            _("${email} is the company's only active administrator. Make another user an administrator first.",
              mapping={"email": user.email}),
            field="role" if active is not False else "is_active",
            status=422,
        )


def set_user_active(session, user: User, active: bool, *, at: datetime | None = None) -> None:
    """Deactivate (signing the user out everywhere) or reactivate; recorded for billing."""
    if user.is_active == active:
        return
    user.is_active = active
    if not active:
        end_all_sessions(session, user)
    if user.tenant_id is not None:
        kind = AccountEventKind.activated if active else AccountEventKind.deactivated
        session.add(AccountEvent(tenant_id=user.tenant_id, user_id=user.id, kind=kind, at=at or utcnow()))


def set_password(user: User, password: str) -> None:
    """A new password; every session of the user ends."""
    check_password(password, user_inputs=(user.email, user.display_name))
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    end_all_sessions(object_session(user), user)
