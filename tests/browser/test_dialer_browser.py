"""The softphone's dialing-list panel in Chromium against the Twilio simulator: join, the row
shown with its data, the call placed through the softphone, the result recorded."""
import base64

import pytest
import webtest as wt
from playwright.sync_api import expect

from ecti.testing import wait_until

from ecti_twilio.testing import MAIN_NUMBER

pytestmark = pytest.mark.browser

ALL_DAY = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}



def running_list(telephony, admin, agent, lines):
    app = wt.TestApp(telephony.app, extra_environ={"HTTP_HOST": telephony.base_url.split("//", 1)[1]})
    form = app.get("/login").forms["login"]
    form["email"], form["password"] = admin.email, admin.password
    form.submit(status=303)
    h = {"X-CSRF-Token": app.get("/api/v1/me").json["csrf_token"]}
    lst = app.post_json("/api/v1/dialer/lists", {"name": "秋の訪問予約", "caller_id": MAIN_NUMBER, "weekly": ALL_DAY,
                                                 "agent_ids": [agent.id]}, headers=h).json
    data = "\r\n".join(lines).encode("cp932")
    imp = app.post_json(f"/api/v1/dialer/lists/{lst['id']}/imports", {"content_base64": base64.b64encode(data).decode()}, headers=h).json
    app.post_json(f"/api/v1/dialer/imports/{imp['id']}/confirm", {}, headers=h)
    app.put_json(f"/api/v1/dialer/lists/{lst['id']}/status", {"status": "running"}, headers=h)
    return lst


def test_an_agent_joins_sees_the_row_calls_it_and_records_the_result(telephony, make_user, page):
    admin = make_user(telephony.tenant, role="admin", email="boss@tel.example")
    agent = make_user(telephony.tenant, role="agent", name="青木 一郎")
    customer = telephony.sim.phone("+819033334444")
    customer.behaviour = "answer"
    running_list(telephony, admin, agent, ["電話番号,氏名,ご契約プラン", "090-3333-4444,山田 花子,ゴールド"])

    page.goto(telephony.base_url + "/login?next=/softphone")
    page.get_by_label("メールアドレス").fill(agent.email)
    page.get_by_label("パスワード").fill(agent.password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/softphone")
    expect(page.locator(".sp-device")).to_have_attribute("data-ready", "true")

    panel = page.get_by_role("region", name="発信リスト")
    expect(panel).to_be_visible()
    expect(panel.locator("#dl-list")).to_contain_text("秋の訪問予約")
    panel.get_by_role("button", name="参加").click()
    expect(panel.locator(".dl-status")).to_contain_text("待機中")  # not available yet: no number
    page.get_by_label("ステータスを変更").select_option("available")

    expect(panel.locator(".dl-name")).to_have_text("山田 花子")
    expect(panel.locator(".dl-number")).to_have_text("090-3333-4444")
    expect(panel.locator(".dl-columns")).to_contain_text("ご契約プラン")
    expect(panel.locator(".dl-columns")).to_contain_text("ゴールド")
    panel.get_by_role("button", name="発信", exact=True).click()

    wait_until(lambda: customer.active is not None)
    assert customer.active.from_ == MAIN_NUMBER
    expect(page.locator(".sp-call")).to_be_visible()
    expect(panel.locator(".dl-name")).to_have_text("山田 花子")  # still shown during the call
    page.locator(".sp-call").get_by_role("button", name="切る", exact=True).click()
    wait_until(lambda: customer.active is None)

    panel.get_by_label("結果").select_option("connected")
    panel.get_by_label("メモ").fill("訪問日を調整済み")
    panel.get_by_role("button", name="結果を記録").click()
    expect(panel.locator(".dl-row")).to_be_hidden()
    expect(panel.locator(".dl-status")).to_contain_text("すべての行が完了しました")
