"""The demo tenant that ``make run`` seeds (``ecti demo``); running it again changes nothing."""
from __future__ import annotations

from sqlalchemy import select

from .tenancy.models import Role, Tenant
from .tenancy.models import find_user_by_email
from .tenancy.services import create_tenant, create_user
from .telephony.models import PhoneNumber

DEMO_SLUG = "demo"
#: The simulator account the demo tenant uses (development.ini points Twilio at the simulator).
DEMO_ACCOUNT_SID = "AC" + "de" * 16
DEMO_AUTH_TOKEN = "demo-auth-token-for-the-simulator"
DEMO_NUMBER = "+815012345678"

DEMO_USERS = (
    (None, "operator@ecti.example", "運用 太郎", Role.operator, "ecti-demo-operator"),
    (DEMO_SLUG, "admin@demo.example", "管理 花子", Role.admin, "ecti-demo-admin"),
    (DEMO_SLUG, "agent1@demo.example", "応対 一郎", Role.agent, "ecti-demo-agent1"),
    (DEMO_SLUG, "agent2@demo.example", "応対 二郎", Role.agent, "ecti-demo-agent2"),
)


def seed_demo(session, ctx) -> list[tuple[str, str, str]]:
    """Create what is missing of the demo; return the sign-ins as (email, password, role)."""
    tenant = session.scalar(select(Tenant).where(Tenant.slug == DEMO_SLUG))
    if tenant is None:
        tenant = create_tenant(session, slug=DEMO_SLUG, name="デモ株式会社")
        tenant.set_carrier_credentials(ctx.secret_box, DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)
    for slug, email, name, role, password in DEMO_USERS:
        if find_user_by_email(session, email) is None:
            create_user(session, tenant=tenant if slug else None, email=email, display_name=name, role=role, password=password)
    if session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == DEMO_NUMBER)) is None:
        session.add(PhoneNumber(tenant_id=tenant.id, e164=DEMO_NUMBER, label="代表番号", voice_capable=True))
    session.flush()
    return [(email, password, role.value) for _slug, email, _name, role, password in DEMO_USERS]
