"""A report in real Chromium: the chart is drawn (bars with a height) and looks right in a screenshot."""
import pytest

pytestmark = pytest.mark.browser


def test_the_queue_report_draws_its_chart(page, live_server, center, make_user, tmp_path):
    boss = make_user(center.tenant, role="supervisor", email="boss@acme.example", name="上司")
    page.goto(live_server + "/login")
    page.get_by_label("メールアドレス").fill(boss.email)
    page.get_by_label("パスワード").fill(boss.password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live_server + "/reports/wallboard")  # a supervisor lands on the wallboard
    page.goto(live_server + "/reports/queues?from=2026-05-30&to=2026-06-01")
    assert page.get_by_role("heading", name="キューレポート").is_visible()
    chart = page.locator("svg#queue-calls")
    assert chart.is_visible()
    # Rendered heights in the page (not the markup): May 31st's answered, abandoned and overflowed bars are drawn.
    heights = page.eval_on_selector_all("svg#queue-calls rect.bar", "bars => bars.map(b => b.getBoundingClientRect().height)")
    assert len(heights) == 9  # 3 days × 3 series
    assert sum(1 for h in heights if h > 0) == 4  # 05-31: answered, abandoned, overflowed; 06-01: overflowed (E9)
    box = chart.bounding_box()
    assert box["width"] > 300 and box["height"] > 150
    path = tmp_path / "queue-report.png"  # kept under pytest's tmp_path
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def test_the_wallboard_updates_itself(page, live_server, center, make_user, db):
    from datetime import timedelta

    from ecti.acd.models import QueueEntry
    from ecti.calls.models import Call, CallStatus, Direction
    from ecti.db import set_tenant_scope
    from ecti.models.meta import utcnow

    boss = make_user(center.tenant, role="admin", email="admin@acme.example", name="管理者")
    page.goto(live_server + "/login")
    page.get_by_label("メールアドレス").fill(boss.email)
    page.get_by_label("パスワード").fill(boss.password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/reports/wallboard")
    waiting = page.locator(f'tr[data-queue="{center.support.id}"] [data-key="waiting"]')
    assert waiting.inner_text() == "0"
    # A caller joins サポート after the page was drawn: the board shows it without a reload.
    set_tenant_scope(db, center.tenant_id)
    call = Call(tenant_id=center.tenant_id, carrier_call_id="CA-live", direction=Direction.inbound, from_number="+819011112222",
                to_number="+815011112222", status=CallStatus.in_progress)
    db.add(call)
    db.flush()
    db.add(QueueEntry(tenant_id=center.tenant_id, queue_id=center.support.id, call_id=call.id, entered_at=utcnow() - timedelta(seconds=42)))
    db.commit()
    page.wait_for_function(
        f"document.querySelector('tr[data-queue=\"{center.support.id}\"] [data-key=\"waiting\"]').textContent === '1'", timeout=12_000)
    longest = int(page.locator(f'tr[data-queue="{center.support.id}"] [data-key="longest_wait_seconds"]').inner_text())
    assert longest >= 42
