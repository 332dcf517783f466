"""The audit log in real Chromium at 1366×768 and 1920×1080, in Japanese and English: an admin's
configuration changes appear with what changed, readably, without sideways scrolling.
Screenshots go to /tmp/shots/audit/ for a reviewer."""
from __future__ import annotations

from pathlib import Path

import pytest

from ecti.testing import switch_to_english

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/audit")


@pytest.fixture
def changes(make_tenant, make_user, db):
    from ecti.telephony.models import PhoneNumber

    tenant = make_tenant(slug="acme", name="株式会社アクメ")
    db.add(PhoneNumber(tenant_id=tenant.id, e164="+815012345678", label="代表"))
    db.commit()
    make_user(tenant, role="agent", email="hana@acme.example", name="応対 花子")
    return make_user(tenant, role="admin", email="boss@acme.example", name="管理 一郎")


@pytest.mark.parametrize("width,height", [(1366, 768), (1920, 1080)])
def test_the_audit_page_shows_each_change_readably(chromium, live_server, changes, width, height):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(locale="ja-JP", viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(live_server + "/login")
    page.get_by_label("メールアドレス").fill("boss@acme.example")
    page.get_by_label("パスワード").fill(changes.password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live_server + "/**")
    headers = {"X-CSRF-Token": page.request.get(live_server + "/api/v1/me").json()["csrf_token"]}
    api = page.request
    queue = api.post(live_server + "/api/v1/acd/queues", data={"name": "サポート", "strategy": "round_robin"}, headers=headers).json()
    api.patch(live_server + f"/api/v1/acd/queues/{queue['id']}", data={"strategy": "longest_idle", "ring_timeout": 25}, headers=headers)
    agent = next(u for u in api.get(live_server + "/api/v1/users").json()["users"] if u["email"] == "hana@acme.example")
    api.put(live_server + f"/api/v1/acd/queues/{queue['id']}/members", data={"members": [{"user_id": agent["id"], "level": 1}]}, headers=headers)
    flow = {"name": "代表", "start": "welcome", "nodes": [
        {"id": "welcome", "type": "announcement", "settings": {"prompt": {"text": "お電話ありがとうございます。"}}, "next": {"next": "bye"}},
        {"id": "bye", "type": "hangup", "settings": {}, "next": {}},
    ]}
    created = api.post(live_server + "/api/v1/ivr/flows", data=flow, headers=headers).json()
    flow["nodes"][0]["settings"]["prompt"]["text"] = "ようこそ、アクメです。"
    api.put(live_server + f"/api/v1/ivr/flows/{created['id']}", data=flow, headers=headers)

    for language in ("ja", "en"):
        if language == "en":
            switch_to_english(page)
        page.goto(live_server + "/admin/audit")
        actions = [a for a in page.locator("#audit-entries > tbody > tr").evaluate_all("rows => rows.map(r => r.dataset.action)")]
        assert actions == ["flow.update", "flow.create", "queue.update", "queue.update", "queue.create", "phone_number.create"], actions
        assert page.locator("#audit-entries > tbody > tr").nth(3).locator(".audit-diff").is_visible()
        # The log fits the window (the top navigation is rebuilt separately, issue 17).
        right = page.evaluate("document.getElementById('audit-entries').getBoundingClientRect().right")
        assert right <= width, f"the audit table is {right} px wide in a {width} px window"
        page.screenshot(path=str(SHOTS / f"audit-{language}-{width}x{height}.png"), full_page=True)
        page.goto(live_server + "/admin/audit?kind=queue")
        assert page.locator("#audit-entries > tbody > tr").count() == 3
        page.screenshot(path=str(SHOTS / f"audit-queue-{language}-{width}x{height}.png"), full_page=False)
    context.close()
