"""The content security policy in real Chromium: another site cannot frame a console page, and
the console's pages run under the policy without a single violation."""
import re

import pytest
from pyramid.interfaces import IRoutesMapper

from ecti.testing import serve_in_thread, switch_to_english, wait_until

pytestmark = pytest.mark.browser

SHOTS = "/tmp/shots/security"
#: Prefixes of routes that are not console pages (API, carrier webhooks, media, assets).
NOT_PAGES = ("/api/", "/webhooks", "/sim", "/twilio", "/media", "/static", "/slds", "/voice-sdk", "/_debug")


def sign_in(page, base, email, password):
    page.goto(base + "/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(lambda url: "/login" not in url)


def violations_of(page) -> list[str]:
    found = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    return found


def test_another_site_cannot_frame_a_console_page(page, live_server, demo):
    email, password = demo["admin"]
    sign_in(page, live_server, email, password)
    refused = violations_of(page)
    # A page of another origin (another port: the browser still sends the session cookie, as
    # production's SameSite=None cookie would be sent to any site) frames the user administration.
    bait = f'<h1>win a prize</h1><iframe title="bait" src="{live_server}/admin/users"></iframe>'
    with serve_in_thread(lambda environ, start: (start("200 OK", [("Content-Type", "text/html")]), [bait.encode()])[1]) as attacker:
        page.goto(attacker + "/prize")
        wait_until(lambda: refused, page=page, what="Chromium did not refuse the frame")
        assert any("frame-ancestors 'none'" in text for text in refused), refused
        frame = page.frame_locator("iframe[title=bait]")
        assert frame.locator("table").count() == 0  # the user list never showed in the frame
        page.screenshot(path=f"{SHOTS}/framed-refused.png")


def console_pages(app) -> list[str]:
    paths = []
    for route in app.registry.getUtility(IRoutesMapper).get_routes():
        pattern = "/" + route.pattern.lstrip("/")
        if re.search(r"[{*]", pattern) or pattern.startswith(NOT_PAGES) or route.name in ("logout", "lang", "healthz"):
            continue
        paths.append(pattern)
    return sorted(set(paths))


@pytest.mark.parametrize("role", ["admin", "operator"])
def test_the_console_pages_run_under_the_policy_without_a_violation(page, live_server, demo, app, role):
    email, password = demo[role]
    sign_in(page, live_server, email, password)
    violations = violations_of(page)
    seen = 0
    for path in console_pages(app):
        probe = page.request.get(live_server + path, max_redirects=0)
        if probe.status != 200 or "text/html" not in probe.headers.get("content-type", ""):
            continue  # downloads, redirects, pages this role may not see
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
        seen += 1
        assert not violations, f"{path}: {violations}"
        # The console's own stylesheet applied (styles from ECTI itself are allowed).
        assert page.evaluate("document.styleSheets.length") >= 1, path
    assert seen >= (10 if role == "admin" else 3)


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_sessions_page_in_both_languages(chromium, live_server, demo, size, lang):
    context = chromium.new_context(locale="ja-JP", viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    violations = violations_of(page)
    email, password = demo["admin"]
    sign_in(page, live_server, email, password)
    if lang == "en":
        switch_to_english(page)
    page.locator("summary.ecti-menu__trigger").click()  # the account menu holds the sessions page
    page.get_by_role("link", name="ログイン中の端末" if lang == "ja" else "Your sessions").click()
    heading = "ログイン中の端末" if lang == "ja" else "Your sessions"
    assert page.get_by_role("heading", name=heading).is_visible()
    assert page.get_by_text("この端末" if lang == "ja" else "This browser").is_visible()
    page.screenshot(path=f"{SHOTS}/sessions-{lang}-{size[0]}x{size[1]}.png", full_page=True)
    page.get_by_role("button", name="すべての端末からログアウト" if lang == "ja" else "Sign out everywhere").click()
    page.wait_for_url(re.compile(r"/login"))
    assert not violations
    context.close()
