"""The visual flow editor in Debian's Chromium, with the Twilio simulator as the carrier.

An admin builds a flow from the company's prompt library (a synthetic voice with an emotion, an
uploaded recording), connects the steps in the diagram's property panel and saves; a caller
then hears exactly those prompts. A forward to a number the dialing rules refuse is refused in
the editor with the softphone's message; leaving with unsaved changes asks first."""
import base64
import io
import os
import urllib.request
import wave

import pytest

from ecti.testing import switch_to_english
from sqlalchemy import select

from ecti.ivr.models import Flow
from ecti.telephony.models import PhoneNumber
from ecti_twilio.testing import MAIN_NUMBER

# wait_for_function needs eval, which the pages' CSP forbids (ecti.testing.page)
pytestmark = [pytest.mark.browser, pytest.mark.bypass_csp]

SHOTS = os.environ.get("ECTI_SHOTS", "/tmp/shots/flow")
GREETING = "お電話ありがとうございます。テレフォン株式会社です。"


def pcm_wav(seconds=2.0, rate=8000):
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(b"\x00\x10\x00\xf0" * int(seconds * rate / 2))
    return out.getvalue()


class Watch:
    """Console errors, uncaught exceptions and failed requests of a tab."""

    def __init__(self, page):
        self.errors = []
        # (the favicon's 404 is every console page's, fixed apart from the editor)
        page.on("console", lambda m: m.type == "error" and "favicon" not in m.location.get("url", "") and self.errors.append(f"{m.text} {m.location}"))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("response", lambda r: r.status >= 400 and "favicon" not in r.url and "/document" not in r.url and self.errors.append(f"{r.status} {r.url}"))


def sign_in(page, base_url, user):
    page.goto(base_url + "/login")
    page.get_by_label("メールアドレス").fill(user.email)
    page.get_by_label("パスワード").fill(user.password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(base_url + "/")


@pytest.fixture
def library(telephony, make_user):
    """An admin and the company's library: a synthetic voice with joy, and an uploaded WAV."""
    admin = make_user(telephony.tenant, role="admin")
    app = telephony.webtest
    form = app.get("/login").forms["login"]
    form["email"], form["password"] = admin.email, admin.password
    form.submit(status=303)
    headers = {"X-CSRF-Token": app.get("/api/v1/me").json["csrf_token"]}
    joy = app.post_json("/api/v1/prompts", {"name": "挨拶（喜び）", "text": GREETING, "provider": "openjtalk", "emotion": "joy"}, headers=headers, status=201).json
    menu = app.post_json(
        "/api/v1/prompts/audio", {"name": "メニュー案内（録音）", "filename": "メニュー.wav", "content_base64": base64.b64encode(pcm_wav()).decode()}, headers=headers, status=201
    ).json
    return admin, joy, menu


def new_flow(page, base_url, name):
    page.goto(base_url + "/admin/ivr/flows")
    page.locator("#new-flow [name=name]").fill(name)
    page.locator("#new-flow").get_by_role("button").click()
    page.locator("#flow-designer[data-ready]").wait_for()


def panel(page):
    return page.locator("#panel-body")


def add_step(page, label):
    page.locator(".flow-designer__palette").get_by_role("button", name=label, exact=True).click()


def choose_library_prompt(page, field, prompt_name):
    box = panel(page).locator(f"[data-prompt-field={field}]")
    box.get_by_text("音声ガイダンスから選ぶ").click()
    box.get_by_role("combobox").select_option(label=prompt_name)
    return box


def test_a_flow_built_from_library_prompts_plays_them_to_a_caller(telephony, library, page, db):
    admin, joy, menu = library
    watch = Watch(page)
    sign_in(page, telephony.base_url, admin)
    new_flow(page, telephony.base_url, "代表（フロー図）")
    assert page.locator("#save-state").inner_text() == "変更はすべて保存済みです"

    # An announcement speaking the synthetic prompt with joy; its play button renders it.
    add_step(page, "アナウンス")
    assert page.locator("#save-state").inner_text() == "未保存の変更があります"
    box = choose_library_prompt(page, "prompt", "挨拶（喜び）")
    assert "感情: 喜び" in box.locator("[data-prompt-detail]").inner_text()
    box.get_by_role("button", name="▶ 再生").click()
    page.wait_for_function("document.querySelector('[data-prompt-field=prompt] audio').duration > 1")
    panel(page).get_by_role("button", name="ここから通話を開始する").click()

    # A menu speaking the uploaded recording: key 1 and the fallback hang up (the starter step).
    add_step(page, "メニュー")
    choose_library_prompt(page, "prompt", "メニュー案内（録音）")
    digits = panel(page).locator("#field-digits")
    digits.fill("1")
    digits.press("Tab")
    panel(page).locator("[data-exit-field='1'] select").select_option(label="切る — start")
    panel(page).locator("[data-exit-field=fallback] select").select_option(label="切る — start")

    # Connect the announcement to the menu: choose the announcement in the diagram itself.
    point = page.evaluate(
        "() => { const n = window.ectiFlowEditor.cy.nodes().filter(n => n.data('kind') === 'announcement')[0];"
        " const p = n.renderedPosition(); const box = document.getElementById('flow-canvas').getBoundingClientRect();"
        " return {x: box.left + p.x, y: box.top + p.y}; }"
    )
    page.mouse.click(point["x"], point["y"])
    assert page.locator("#panel-title").inner_text() == "アナウンス"
    panel(page).locator("[data-exit-field=next] select").select_option(label="メニュー — step-2")
    assert page.evaluate(
        "window.ectiFlowEditor.cy.edges().filter(e => e.source().data('stepId') === 'step-1' && e.target().data('stepId') === 'step-2').length"
    ) == 1
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/built-ja.png")

    page.get_by_role("button", name="保存", exact=True).click()
    page.locator("#save-state[data-state=saved]").wait_for()
    assert "保存しました" in page.locator("#save-state").inner_text()
    db.commit()
    flow = db.scalar(select(Flow).where(Flow.name == "代表（フロー図）"))
    assert flow.start == "step-1"
    assert flow.node("step-1") == {"id": "step-1", "type": "announcement", "settings": {"prompt": {"prompt_id": joy["id"]}}, "next": {"next": "step-2"}}
    assert flow.node("step-2")["settings"] == {"prompt": {"prompt_id": menu["id"]}, "digits": ["1"]}

    # The company's number answers with the flow; a caller hears both prompts, as audio.
    number = db.scalar(select(PhoneNumber).where(PhoneNumber.e164 == MAIN_NUMBER))
    page.goto(telephony.base_url + "/admin/ivr/flows")
    page.locator(f"[name=number-{number.id}]").select_option(label="代表（フロー図）")
    page.locator("#numbers").get_by_role("button").click()
    page.get_by_text("番号の割り当てを保存しました。").wait_for()
    call = telephony.dial()
    plays = [item["url"] for item in call.heard if item["verb"] == "Play"]
    assert call.said() == [] and len(plays) == 2, call.heard
    assert "/tts/openjtalk/" in plays[0] and "/audio/prompt-" in plays[1]
    for url in plays:  # what the carrier fetches: the rendered voice and the uploaded file
        with urllib.request.urlopen(url) as answer:
            body = answer.read()
            assert answer.headers["Content-Type"].startswith("audio/") and body[:4] == b"RIFF" and len(body) > 8000
    call.press("1")
    assert call.status == "completed"
    assert watch.errors == []


def test_a_refused_forward_number_is_refused_in_the_editor_and_nothing_is_saved(telephony, library, page, db):
    admin, _joy, _menu = library
    watch = Watch(page)
    sign_in(page, telephony.base_url, admin)
    new_flow(page, telephony.base_url, "転送")
    add_step(page, "外線転送")
    panel(page).locator("#field-destinations").fill("0570-123-456")
    panel(page).locator("#field-destinations").press("Tab")  # checked as soon as the field is left
    live = panel(page).locator("[data-field=destinations] [data-live-check]")
    live.wait_for()
    assert live.inner_text().startswith("0570-123-456 は 0570（ナビダイヤル）の番号です。")
    panel(page).locator("[data-exit-field=no_answer] select").select_option(label="切る — start")
    panel(page).get_by_role("button", name="ここから通話を開始する").click()
    page.get_by_role("button", name="保存", exact=True).click()
    field = panel(page).locator("[data-field=destinations]")
    alert = field.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text() == (
        "0570-123-456 は 0570（ナビダイヤル）の番号です。050 の発信者番号からは 0570（ナビダイヤル）の番号には発信できません。相手先の一般の固定電話番号にお掛けください。"
    )
    assert page.locator("#flow-problems").is_visible() and "保存していません" in page.locator("#flow-problems").inner_text()
    assert page.locator("#save-state").inner_text() == "未保存の変更があります"
    assert page.evaluate("window.ectiFlowEditor.cy.nodes('.problem').length") == 1
    page.screenshot(path=f"{SHOTS}/refused-ja.png")
    db.commit()
    flow = db.scalar(select(Flow).where(Flow.name == "転送"))
    assert [n["type"] for n in flow.nodes] == ["hangup"]  # as created: nothing of the forward saved
    assert watch.errors == []


def test_leaving_with_unsaved_changes_asks_first(telephony, library, page):
    admin, _joy, _menu = library
    sign_in(page, telephony.base_url, admin)
    new_flow(page, telephony.base_url, "未保存")
    editor_url = page.url
    add_step(page, "アナウンス")
    panel(page).locator("#step-id").click()  # a user gesture in the page (Chromium asks only then)
    asked = []

    def dismiss(dialog):
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.get_by_role("link", name="フォーム表示").click()
    page.wait_for_function("true")
    assert asked == ["beforeunload"]
    assert page.url == editor_url and page.locator("#save-state").inner_text() == "未保存の変更があります"

    # Saved, the editor lets the admin go without asking.
    panel(page).locator("[data-exit-field=next] select").select_option(label="切る — start")
    panel(page).get_by_role("button", name="ここから通話を開始する").click()
    panel(page).locator("[data-prompt-field=prompt] textarea").fill("ご案内します。")
    page.get_by_role("button", name="保存", exact=True).click()
    page.locator("#save-state[data-state=saved]").wait_for()
    page.get_by_role("link", name="フォーム表示").click()
    page.wait_for_url(editor_url + "/form")
    assert asked == ["beforeunload"]


@pytest.fixture
def main_flow(telephony, library, db):
    """A company's usual flow: hours → greeting → menu → queue / forward / voicemail."""
    from ecti.acd.models import Queue
    from ecti.db import make_session_factory, set_tenant_scope
    from ecti.ivr.services import create_box, save_flow, save_schedule

    admin, joy, menu = library
    session = make_session_factory(db.get_bind())()
    set_tenant_scope(session, telephony.tenant.id)
    weekday = [["09:00", "18:00"]]
    schedule = save_schedule(session, telephony.registry, name="平日 9〜18 時", weekly={d: weekday for d in ("mon", "tue", "wed", "thu", "fri")}, calendars=["jp_national"])
    box = create_box(session, "代表伝言")
    queue = Queue(name="営業窓口", overflow={}, hold_audio={})
    session.add(queue)
    session.flush()
    flow = save_flow(session, telephony.registry, {
        "name": "代表番号", "start": "hours",
        "nodes": [
            {"id": "hours", "type": "schedule", "settings": {"schedule": schedule.id}, "next": {"open": "welcome", "closed": "after_hours", "holiday": "holiday"}},
            {"id": "welcome", "type": "announcement", "settings": {"prompt": {"prompt_id": joy["id"]}}, "next": {"next": "menu"}},
            {"id": "menu", "type": "menu", "settings": {"prompt": {"prompt_id": menu["id"]}, "digits": ["1", "2", "3"]}, "next": {"1": "sales", "2": "support", "3": "message", "fallback": "message"}},
            {"id": "sales", "type": "queue", "settings": {"queue": queue.id}, "next": {"fallback": "message"}},
            {"id": "support", "type": "forward", "settings": {"destinations": ["+81312345678"]}, "next": {"no_answer": "message"}},
            {"id": "after_hours", "type": "announcement", "settings": {"prompt": {"text": "本日の営業は終了しました。"}}, "next": {"next": "message"}},
            {"id": "holiday", "type": "announcement", "settings": {"prompt": {"text": "本日は休業日です。"}}, "next": {"next": "message"}},
            {"id": "message", "type": "voicemail", "settings": {"box": box.id, "greeting": {"text": "発信音のあとにメッセージをどうぞ。"}}},
        ],
    })
    session.commit()
    flow_id = flow.id
    session.close()
    return admin, flow_id


@pytest.mark.parametrize("language", ["ja", "en"])
def test_screenshots_of_the_editor(telephony, main_flow, page, language):
    admin, flow_id = main_flow
    watch = Watch(page)
    sign_in(page, telephony.base_url, admin)
    if language == "en":
        switch_to_english(page)
    os.makedirs(SHOTS, exist_ok=True)
    for width, height in ((1366, 768), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(telephony.base_url + f"/admin/ivr/flows/{flow_id}")
        page.locator("#flow-designer[data-ready]").wait_for()
        # The editor fills the window below the console's header, never wider (the header is
        # the console layout's, rebuilt apart).
        box = page.locator("#flow-designer").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= page.evaluate("document.documentElement.clientWidth")
        assert box["y"] + box["height"] <= page.evaluate("Math.max(window.innerHeight, document.querySelector('main').getBoundingClientRect().bottom + window.scrollY)")
        page.select_option("#jump-to", label=("Menu" if language == "en" else "メニュー") + " — menu")
        page.screenshot(path=f"{SHOTS}/editor-{language}-{width}x{height}.png")
    assert watch.errors == []
