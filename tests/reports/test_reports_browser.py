"""Reports and the wallboard in real Chromium (Debian's), as a supervisor sees them.

Screenshots at 1366×768 and 1920×1080, in Japanese and English, go to /tmp/shots/wallboard/
(``ECTI_SHOTS`` to change) for a reviewer to look at.
"""
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

# wait_for_function needs eval, which the pages' CSP forbids (ecti.testing.page)
pytestmark = [pytest.mark.browser, pytest.mark.bypass_csp]

SHOTS = Path(os.environ.get("ECTI_SHOTS", "/tmp/shots/wallboard"))
MOMENT = re.compile(r"^\d{4}/\d{2}/\d{2}（[月火水木金土日]）\d{2}:\d{2}$")
MOMENT_EN = re.compile(r"^\d{4}/\d{2}/\d{2} \((Mon|Tue|Wed|Thu|Fri|Sat|Sun)\) \d{2}:\d{2}$")
HMS = re.compile(r"^\d+:\d{2}:\d{2}$")
SIZES = {"1366": {"width": 1366, "height": 768}, "1920": {"width": 1920, "height": 1080}}


@pytest.fixture
def sqlite_only(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("layout and screenshots: SQLite is enough")


@pytest.fixture
def errors(page):
    """Console errors, uncaught exceptions and failed requests of the page (there must be none;
    the favicon is another piece of work of issue 17)."""
    seen = []
    page.on("console", lambda m: seen.append(m.text) if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda e: seen.append(str(e)))
    page.on("requestfailed", lambda r: seen.append(f"failed: {r.url}"))
    page.on("response", lambda r: seen.append(f"{r.status}: {r.url}") if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    return seen


def sign_in(page, live_server, user, *, lang="ja", size="1366"):
    page.set_viewport_size(SIZES[size])
    page.context.add_cookies([{"name": "_LOCALE_", "value": lang, "url": live_server}])
    page.goto(live_server + "/login")
    page.locator("input[name=email]").fill(user.email)
    page.locator("input[name=password]").fill(user.password)
    with page.expect_navigation():
        page.locator("input[name=password]").press("Enter")


def add_caller(db, center, queue, seconds_ago, n):
    from ecti.acd.models import QueueEntry
    from ecti.calls.models import Call, CallStatus, Direction
    from ecti.db import set_tenant_scope
    from ecti.models.meta import utcnow

    set_tenant_scope(db, center.tenant_id)
    call = Call(tenant_id=center.tenant_id, carrier_call_id=f"CA-live-{n}", direction=Direction.inbound, from_number="+819011112222",
                to_number="+815011112222", status=CallStatus.in_progress)
    db.add(call)
    db.flush()
    db.add(QueueEntry(tenant_id=center.tenant_id, queue_id=queue.id, call_id=call.id, entered_at=utcnow() - timedelta(seconds=seconds_ago)))
    db.commit()


def signed_in_agents(db, center, statuses):
    """Agent rows as the ACD keeps them: (user, status, seconds in it)."""
    from ecti.acd.models import Agent, AgentState, Presence
    from ecti.db import set_tenant_scope
    from ecti.models.meta import utcnow

    set_tenant_scope(db, center.tenant_id)
    now = utcnow()
    for user, status, seconds in statuses:
        presence = Presence.away if status == "away" else Presence.available
        state = AgentState.on_call if status == "on_call" else AgentState.idle
        db.add(Agent(tenant_id=center.tenant_id, user_id=user.id, presence=presence, state=state, status=status,
                     status_since=now - timedelta(seconds=seconds), available_at=now if status == "available" else None,
                     updated_at=now, missed_in_row=0, calls_today=0, talk_seconds_today=0))
    db.commit()


def test_the_queue_report_draws_its_chart(page, live_server, center, make_user, errors):
    boss = make_user(center.tenant, role="supervisor", email="boss@acme.example", name="上司")
    sign_in(page, live_server, boss)
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
    assert errors == []


def test_the_wallboard_updates_in_place_and_colours_a_queue_past_its_thresholds(page, live_server, center, make_user, db, errors):
    from ecti.acd.models import Queue
    from ecti.db import set_tenant_scope

    boss = make_user(center.tenant, role="supervisor", email="boss@acme.example", name="上司")
    set_tenant_scope(db, center.tenant_id)
    db.get(Queue, center.support.id).wallboard_waiting_amber = 1  # the admin's thresholds for サポート
    db.get(Queue, center.support.id).wallboard_waiting_red = 2
    db.get(Queue, center.support.id).wallboard_wait_amber = 40
    db.get(Queue, center.support.id).wallboard_wait_red = 600
    db.get(Queue, center.support.id).wallboard_service_level_amber = 0  # today's service level never colours this tile
    db.get(Queue, center.support.id).wallboard_service_level_red = 0
    db.commit()
    sign_in(page, live_server, boss)
    page.goto(live_server + "/reports/wallboard")
    tile = page.locator(f'[data-queue="{center.support.id}"]')
    assert tile.get_attribute("data-level") == "green" and tile.locator('[data-key="waiting"]').inner_text() == "0"
    # Readable from three metres: the numerals are at least 48 px.
    sizes = page.eval_on_selector_all(".wb-value", "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert sizes and min(sizes) >= 48
    assert MOMENT.match(page.locator("#wallboard-at").inner_text())
    page.evaluate("() => { window.__sameDocument = true; window.__tile = document.querySelector('[data-queue=\"%d\"]'); }" % center.support.id)
    # A caller joins サポート: the next poll shows it, in the same tile (no reload, no redraw), amber.
    add_caller(db, center, center.support, 42, 1)
    page.wait_for_function(f"document.querySelector('[data-queue=\"{center.support.id}\"] [data-key=\"waiting\"]').textContent === '1'",
                           timeout=15_000)
    assert page.evaluate("() => window.__sameDocument === true && window.__tile.isConnected")
    assert tile.get_attribute("data-level") == "amber"
    assert tile.locator('[data-figure="waiting"]').get_attribute("data-level") == "amber"
    assert tile.locator(".wb-badge").inner_text() == "注意"
    # The longest wait ticks every second without asking the server.
    first = tile.locator('[data-key="longest_wait"]').inner_text()
    assert HMS.match(first) and first >= "0:00:42"
    page.wait_for_function(f"document.querySelector('[data-queue=\"{center.support.id}\"] [data-key=\"longest_wait\"]').textContent > '{first}'")
    # A second caller: red from 2 waiting. The date keeps its format after the refresh.
    add_caller(db, center, center.support, 5, 2)
    page.wait_for_function(f"document.querySelector('[data-queue=\"{center.support.id}\"]').dataset.level === 'red'", timeout=15_000)
    assert tile.locator(".wb-badge").inner_text() == "警告"
    assert MOMENT.match(page.locator("#wallboard-at").inner_text())
    assert errors == []


def test_the_wallboard_asks_for_full_screen(page, live_server, center, make_user, sqlite_only, errors):
    boss = make_user(center.tenant, role="admin", email="admin@acme.example", name="管理者")
    sign_in(page, live_server, boss)
    page.goto(live_server + "/reports/wallboard")
    button = page.get_by_role("button", name="全画面表示")
    button.click()
    page.wait_for_function("document.fullscreenElement === document.documentElement")
    assert page.locator("#wallboard-fullscreen").get_attribute("aria-pressed") == "true"
    assert page.locator("#wallboard-fullscreen").inner_text() == "全画面表示を終了"
    page.locator("#wallboard-fullscreen").click()
    page.wait_for_function("document.fullscreenElement === null")
    assert errors == []


CHART_TEXT = """() => Array.from(document.querySelectorAll('svg.chart text')).map(t => {
  const m = t.getScreenCTM(); return parseFloat(t.getAttribute('font-size')) * Math.hypot(m.a, m.b);
})"""
OUTSIDE = """() => Array.from(document.querySelectorAll('.report-card')).filter(card => {
  const c = card.getBoundingClientRect();
  return Array.from(card.querySelectorAll('.table-scroll')).some(s => s.getBoundingClientRect().right > c.right + 1);
}).length + (document.documentElement.scrollWidth > window.innerWidth ? 100 : 0)"""
TALL_HEADERS = """() => Array.from(document.querySelectorAll('table.report-table th')).filter(th => {
  const range = document.createRange(); range.selectNodeContents(th); return range.getBoundingClientRect().height > 80;
}).map(th => th.textContent)"""


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("size", ["1366", "1920"])
def test_reports_and_wallboard_are_readable_at_common_sizes(page, live_server, center, make_user, db, sqlite_only, errors, lang, size):
    SHOTS.mkdir(parents=True, exist_ok=True)
    boss = make_user(center.tenant, role="supervisor", email="boss@acme.example", name="上司")
    others = [make_user(center.tenant, role="agent", email=f"agent{i}@acme.example", name=name)
              for i, name in enumerate(("高橋 一郎", "田中 美咲", "伊藤 健", "渡辺 さくら"))]
    signed_in_agents(db, center, [(center.users["a"], "on_call", 312), (center.users["b"], "available", 95), (others[0], "wrap_up", 21),
                                  (others[1], "available", 640), (others[2], "away", 1500), (others[3], "on_call", 48)])
    for n, wait in enumerate((88, 61, 12)):
        add_caller(db, center, center.support, wait, n)
    sign_in(page, live_server, boss, lang=lang, size=size)
    for name, path in (("queues", "/reports/queues?from=2026-05-30&to=2026-06-01"), ("agents", "/reports/agents?from=2026-05-31&to=2026-06-01"),
                       ("center", "/reports/center?from=2026-05-30&to=2026-06-01")):
        page.goto(live_server + path)
        text_sizes = page.evaluate(CHART_TEXT)
        assert text_sizes and min(text_sizes) >= 11, (name, min(text_sizes))
        assert page.evaluate(OUTSIDE) == 0, name  # every table within its card; the page never scrolls sideways
        assert page.evaluate(TALL_HEADERS) == [], name  # no header broken one character per line
        if name in ("queues", "agents"):
            cells = page.eval_on_selector_all('#report-table td[data-key$="wait"], #report-table td[data-key$="_seconds"]',
                                              "tds => tds.map(td => td.textContent).filter(Boolean)")
            assert cells and all(HMS.match(c) for c in cells), cells
        page.screenshot(path=str(SHOTS / f"report-{name}-{lang}-{size}.png"), full_page=True)
    page.goto(live_server + "/reports/wallboard")
    assert (MOMENT if lang == "ja" else MOMENT_EN).match(page.locator("#wallboard-at").inner_text())
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert page.locator(f'[data-queue="{center.support.id}"]').get_attribute("data-level") == "red"  # 3 waiting, 88 s
    assert page.locator("#wallboard-agents tbody tr").count() == 6
    page.screenshot(path=str(SHOTS / f"wallboard-{lang}-{size}.png"))
    assert errors == []
