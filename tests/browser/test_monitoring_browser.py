"""Live monitoring in Chromium (issue 24): a supervisor picks an agent's live call on the
wallboard and listens, then coaches; the agent's softphone shows モニタリング中 / コーチング中.
The supervisor's softphone is the simulator's device (it answers the monitoring leg); who hears
whom is checked in the simulator's conference model. Screenshots of the wallboard at 1366×768
in Japanese and English go to var/screenshots/monitoring/."""
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ecti.acd.models import Queue, QueueMember
from ecti.tenancy.models import User
from ecti.voice import HANDLERS_KEY, dispatch

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[2]


def shots() -> Path:
    folder = Path(os.environ.get("ECTI_SCREENSHOTS") or REPO / "var" / "screenshots") / "monitoring"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(page, base_url, user, to):
    page.goto(base_url + "/login?next=" + to)
    page.get_by_label("メールアドレス").fill(user.email)
    page.get_by_label("パスワード").fill(user.password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**" + to)


def test_the_wallboard_monitors_a_call_and_the_agent_sees_it(telephony, make_user, db, page, chromium):
    agent = make_user(telephony.tenant, role="agent", name="青木 一郎")
    boss = make_user(telephony.tenant, role="supervisor", name="佐藤 監督")
    queue = Queue(tenant_id=telephony.tenant.id, name="サポート", overflow={}, hold_audio={}, ring_timeout=600,
                  wrap_up_seconds=600, announce_position=False, announce_wait=False)
    db.add(queue)
    db.flush()
    db.add(QueueMember(tenant_id=telephony.tenant.id, queue_id=queue.id, user_id=agent.id, level=1, position=1))
    db.commit()
    queue_id = str(queue.id)
    telephony.registry[HANDLERS_KEY]["inbound.start"] = (
        lambda request, call, args, call_input: dispatch(request, call, "acd.enqueue", {"queue": queue_id}, call_input))
    boss_phone = telephony.softphone(boss)
    board_context = chromium.new_context(locale="ja-JP", viewport={"width": 1366, "height": 768})
    board = board_context.new_page()
    board.set_default_timeout(30_000)
    try:
        # the agent takes a queue call on the softphone
        sign_in(page, telephony.base_url, agent, "/softphone")
        expect(page.locator(".sp-device")).to_have_attribute("data-ready", "true")
        page.get_by_label("ステータスを変更").select_option("available")
        expect(page.locator(".sp-status")).to_have_text("待機中")
        caller = telephony.dial()
        page.get_by_role("region", name="着信").get_by_role("button", name="応答", exact=True).click()
        in_call = page.get_by_role("region", name="通話中の電話")
        expect(in_call).to_be_visible()

        # the supervisor's wallboard shows the call with the monitoring controls
        sign_in(board, telephony.base_url, boss, "/reports/wallboard")
        controls = board.get_by_role("group", name="青木 一郎 の通話をモニタリング")
        expect(controls).to_be_visible()
        listen = controls.get_by_role("button", name="モニタリング", exact=True)
        listen.focus()
        board.keyboard.press("Enter")  # keyboard operable
        expect(board.locator("#wallboard-monitor-status")).to_contain_text("ソフトフォンで着信に応答")
        expect(listen).to_have_attribute("aria-pressed", "true")
        telephony.sim.settle()
        assert boss_phone.ringing is not None
        boss_phone.answer()
        telephony.sim.settle()
        leg = boss_phone.active
        assert telephony.sim.audience(leg) == []  # nobody hears the supervisor
        assert telephony.sim.hears(leg, caller)
        expect(in_call.locator(".sp-badge-monitored")).to_have_text("モニタリング中")

        coach = controls.get_by_role("button", name="コーチング", exact=True)
        coach.click()
        expect(coach).to_have_attribute("aria-pressed", "true")
        expect(listen).to_have_attribute("aria-pressed", "false")
        telephony.sim.settle()
        agent_leg = [c for c in telephony.sim.audience(leg)]
        assert len(agent_leg) == 1 and agent_leg[0].sid != caller.sid  # only the agent hears
        expect(in_call.locator(".sp-badge-monitored")).to_have_text("コーチング中")
        board.screenshot(path=str(shots() / "wallboard-1366x768-ja.png"))
        page.screenshot(path=str(shots() / "softphone-coached-ja.png"))

        # English
        db.rollback()
        db.get(User, boss.id).locale = "en"
        db.commit()
        board.reload()
        expect(board.get_by_role("group", name="Monitor the call of 青木 一郎")).to_be_visible()
        expect(board.get_by_role("button", name="Coach the agent")).to_have_attribute("aria-pressed", "true")
        board.screenshot(path=str(shots() / "wallboard-1366x768-en.png"))

        board.get_by_role("button", name="Leave", exact=True).click()
        expect(board.locator("#wallboard-monitor-status")).to_have_text("You left the call.")
        telephony.sim.settle()
        assert boss_phone.active is None
        assert telephony.sim.call(caller.sid).status == "in-progress"
        expect(in_call.locator(".sp-badge-monitored")).to_be_hidden()
        expect(in_call).to_be_visible()
        assert telephony.sim.errors == []
    finally:
        board_context.close()
