"""The voicemail player in Chromium: the recording comes through ECTI with range requests, so
the browser knows its length and can seek (F-REC-2)."""
import pytest
from playwright.sync_api import expect

# wait_for_function needs eval, which the pages' CSP forbids (ecti.testing.page)
pytestmark = [pytest.mark.browser, pytest.mark.bypass_csp]


def test_the_player_plays_and_seeks_a_message_through_ecti(telephony, db, make_user, page, h):
    h.voicemail_line(telephony, db)
    h.leave_message(telephony, from_="+819011112222", seconds=9)
    message = h.last_message(db)
    user = make_user(telephony.tenant, role="supervisor", email="sv@tel.example")
    ranges = []
    page.on("request", lambda r: ranges.append(r.headers.get("range")) if "/media" in r.url else None)
    page.goto(f"{telephony.base_url}/login?next=/voicemail/{message.id}")
    page.get_by_label("メールアドレス").fill(user.email)
    page.get_by_label("パスワード").fill(user.password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"**/voicemail/{message.id}")
    expect(page.locator("#voicemail-message .caller")).to_have_text("090-1111-2222")
    audio = page.locator("#voicemail-message audio")
    page.wait_for_function("document.querySelector('#voicemail-message audio').readyState >= 1")
    assert audio.evaluate("a => Math.round(a.duration)") == 9
    assert audio.evaluate("a => a.seekable.length > 0 && a.seekable.end(0) > 8")
    page.evaluate("""() => new Promise(resolve => {
        const a = document.querySelector('#voicemail-message audio');
        a.addEventListener('seeked', resolve, {once: true});
        a.currentTime = 6;
    })""")
    assert audio.evaluate("a => Math.round(a.currentTime)") == 6
    assert any(r and r.startswith("bytes=") for r in ranges)  # the browser asked for ranges
    page.get_by_role("button", name="聴取済みにする").click()
    expect(page.get_by_role("button", name="未聴に戻す")).to_be_visible()
