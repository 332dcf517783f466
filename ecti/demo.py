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
    number = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == DEMO_NUMBER))
    if number is None:
        number = PhoneNumber(tenant_id=tenant.id, e164=DEMO_NUMBER, label="代表番号", voice_capable=True, managed=True)
        session.add(number)
    session.flush()
    if number.flow_id is None:
        number.flow_id = _seed_flow(session, ctx, tenant).id
    _seed_dispositions(session, tenant)
    session.flush()
    return [(email, password, role.value) for _slug, email, _name, role, password in DEMO_USERS]


#: The demo's disposition codes (wrap-up): code and label.
DEMO_DISPOSITIONS = (("resolved", "解決"), ("info_sent", "資料送付"), ("callback", "折り返し予定"), ("sale", "成約"), ("complaint", "苦情"))


def _seed_dispositions(session, tenant) -> None:
    from .dispositions.models import DispositionCode

    if session.scalar(select(DispositionCode.id).where(DispositionCode.tenant_id == tenant.id).limit(1)) is not None:
        return
    session.add_all([DispositionCode(tenant_id=tenant.id, code=code, label=label, position=i, active=True)
                     for i, (code, label) in enumerate(DEMO_DISPOSITIONS, 1)])


DEMO_FLOW = {
    "name": "代表フロー",
    "start": "welcome",
    "nodes": [
        {"id": "welcome", "type": "announcement", "settings": {"prompt": {"text": "お電話ありがとうございます。デモ株式会社です。"}}, "next": {"next": "menu"}},
        {
            "id": "menu", "type": "menu",
            "settings": {
                "prompt": {"text": "サポートは1を、伝言は2を押してください。"}, "digits": ["1", "2"],
                "invalid_prompt": {"text": "番号が正しくありません。"}, "no_input_prompt": {"text": "番号が押されませんでした。"}, "retries": 2,
            },
            "next": {"1": "support", "2": "message", "fallback": "message"},
        },
        {"id": "support", "type": "queue", "settings": {"queue": "$queue"}, "next": {"fallback": "message"}},
        {"id": "message", "type": "voicemail", "settings": {"box": "$box", "greeting": {"text": "発信音のあとにメッセージをどうぞ。"}}},
    ],
}


def _seed_flow(session, ctx, tenant):
    """A queue with the demo agents, a voicemail box and the main number's flow."""
    import copy

    from .acd.models import Queue, QueueMember
    from .db import set_tenant_scope
    from .ivr.models import VoicemailBox
    from .ivr.services import save_flow
    from .tenancy.models import User

    queue = Queue(tenant_id=tenant.id, name="サポート")
    box = VoicemailBox(tenant_id=tenant.id, name="代表")
    session.add_all([queue, box])
    session.flush()
    agents = session.scalars(select(User).where(User.tenant_id == tenant.id, User.role == Role.agent).order_by(User.id))
    session.add_all(QueueMember(tenant_id=tenant.id, queue_id=queue.id, user_id=a.id, position=i) for i, a in enumerate(agents))
    doc = copy.deepcopy(DEMO_FLOW)
    for node in doc["nodes"]:
        for key, value in list(node["settings"].items()):
            if value == "$queue":
                node["settings"][key] = queue.id
            elif value == "$box":
                node["settings"][key] = box.id
    set_tenant_scope(session, tenant.id)  # the flow's references are checked within the tenant
    try:
        return save_flow(session, ctx.registry, doc)
    finally:
        from .db import ALL_TENANTS, SCOPE_KEY

        session.info[SCOPE_KEY] = ALL_TENANTS
