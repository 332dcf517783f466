"""The caller's name from the built-in contact directory on the softphone, in Chromium with a
call through the Twilio simulator."""
import pytest
from playwright.sync_api import expect

from ecti.acd.models import Queue, QueueMember
from ecti.contacts.services import ContactData, save_contact
from ecti.voice import HANDLERS_KEY, dispatch

pytestmark = pytest.mark.browser


def test_an_incoming_call_shows_the_contacts_name(telephony, make_user, page, db):
    tenant = telephony.tenant
    agent = make_user(tenant, role="agent")
    queue = Queue(tenant_id=tenant.id, name="サポート", overflow={}, hold_audio={}, ring_timeout=600,
                  wrap_up_seconds=600, announce_position=False, announce_wait=False)
    db.add(queue)
    db.flush()
    db.add(QueueMember(tenant_id=tenant.id, queue_id=queue.id, user_id=agent.id, level=1, position=1))
    from ecti.db import set_tenant_scope

    set_tenant_scope(db, tenant.id)
    save_contact(db, tenant.id, ContactData(name="山田 太郎", company="山田商事", numbers="090-1111-2222"))
    db.commit()
    set_tenant_scope(db, None)

    def to_queue(request, call, args, call_input):  # the IVR's queue node, in short
        return dispatch(request, call, "acd.enqueue", {"queue": str(queue.id)}, call_input)

    telephony.registry[HANDLERS_KEY]["inbound.start"] = to_queue
    page.goto(telephony.base_url + "/login?next=/softphone")
    page.get_by_label("メールアドレス").fill(agent.email)
    page.get_by_label("パスワード").fill(agent.password)
    page.get_by_role("button", name="ログイン").click()
    expect(page.locator(".sp-device")).to_have_attribute("data-ready", "true")
    page.get_by_label("ステータスを変更").select_option("available")
    expect(page.locator(".sp-status")).to_have_text("待機中")

    telephony.dial()  # from 090-1111-2222
    ringing = page.get_by_role("region", name="着信")
    expect(ringing.locator(".sp-number")).to_have_text("090-1111-2222")
    expect(ringing.locator(".sp-name")).to_have_text("山田 太郎（山田商事）")
