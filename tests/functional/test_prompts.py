"""The prompt library: synthetic-voice prompts through the API and console, what a call hears,
the render cache, the signed media URLs, usages, and tenant isolation."""
import io
import logging
import threading
import wave
from urllib.parse import urlsplit

import pytest
import transaction
from pyramid.scripting import prepare

from ecti.db import set_tenant_scope
from ecti.prompts import check_prompt_ref, prompt_instructions
from ecti.prompts.media import media_url
from ecti.prompts.models import Prompt
from ecti.prompts.services import PromptUsage, prompt_ids_in
from ecti.voice.instructions import Play, Say

GREETING = "お電話ありがとうございます。株式会社アクメでございます。"


@pytest.fixture
def app_settings(app_settings, tmp_path):
    return {**app_settings, "ecti.media_dir": str(tmp_path / "media")}


@pytest.fixture
def registry(app):
    return app.registry


@pytest.fixture
def admin(api, login, make_tenant, make_user):
    tenant = make_tenant()
    user = make_user(tenant, role="admin")
    return tenant, {"X-CSRF-Token": login(api.testapp, user)}


@pytest.fixture
def render_count(registry):
    """How often Open JTalk rendered, in this app."""
    provider = registry.ecti.tts_providers["openjtalk"]
    original = provider.render
    calls = []

    def counting(text, settings):
        calls.append(text)
        return original(text, settings)

    provider.render = counting
    return calls


@pytest.fixture
def call_request(registry):
    """A request as a carrier webhook has it: the tenant's scope, a transaction."""
    closers = []

    def make(tenant):
        env = prepare(registry=registry)
        closers.append(env["closer"])
        request = env["request"]
        request.tm = transaction.TransactionManager(explicit=True)
        request.tm.begin()
        closers.append(request.tm.abort)
        set_tenant_scope(request.db, tenant.id)
        return request

    yield make
    for close in reversed(closers):
        close()


def path_of(url):
    parts = urlsplit(url)
    return parts.path + "?" + parts.query


def pcm_wav(seconds=0.5, rate=8000):
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(b"\x10\x00\xf0\xff" * int(seconds * rate / 2))
    return out.getvalue()


# --- saving ------------------------------------------------------------------------------------

def test_an_open_jtalk_prompt_is_rendered_when_saved_and_can_be_listened_to(api, admin, render_count):
    tenant, headers = admin
    created = api.post("/api/v1/prompts", json={"name": "営業時間内", "text": GREETING, "provider": "openjtalk", "emotion": "joy", "intonation": 1.2}, headers=headers)
    assert created.status_int == 201, created.text
    assert created.json["name"] == "営業時間内" and created.json["emotion"] == "joy"
    assert len(render_count) == 1  # rendered at save time: the first caller waits for nothing
    listened = api.testapp.get(urlsplit(created.json["listen_url"]).path)
    assert listened.content_type == "audio/wav"
    with wave.open(io.BytesIO(listened.body)) as w:  # decoded to PCM: every browser plays it
        assert (w.getframerate(), w.getsampwidth(), w.getnchannels()) == (8000, 2, 1)
        assert w.getnframes() > 8000 * 2
    assert len(render_count) == 1  # listening used the cache


def test_text_must_be_1_to_500_characters_with_a_clear_message(api, admin):
    _tenant, headers = admin
    empty = api.post("/api/v1/prompts", json={"text": "  　\n", "provider": "twilio"}, headers=headers)
    assert empty.status_int == 422
    assert empty.json["error"] == {"code": "prompt_text_empty", "message": "話す文章を入力してください。", "fields": []}
    too_long = api.post("/api/v1/prompts", json={"text": "あ" * 501, "provider": "twilio"}, headers=headers)
    assert too_long.status_int == 422
    assert too_long.json["error"]["code"] == "prompt_text_too_long"
    assert "501 文字" in too_long.json["error"]["message"] and "500 文字" in too_long.json["error"]["message"]
    exactly = api.post("/api/v1/prompts", json={"text": "漢字かなカナ０１２ＡＢＣ" * 41 + "以上でございます", "provider": "twilio"}, headers=headers)
    assert exactly.status_int == 201 and len(exactly.json["text"]) == 500  # characters, not bytes


def test_settings_a_provider_cannot_speak_are_refused_at_save_time(api, admin):
    _tenant, headers = admin
    out_of_range = api.post("/api/v1/prompts", json={"text": GREETING, "provider": "openjtalk", "speed": 3}, headers=headers)
    assert out_of_range.json["error"]["code"] == "prompt_speed_out_of_range"
    assert out_of_range.json["error"]["message"] == "話す速さは 0.5 から 2 の間で指定してください。"
    no_intonation = api.post("/api/v1/prompts", json={"text": GREETING, "provider": "twilio", "intonation": 1.5}, headers=headers)
    assert no_intonation.json["error"]["code"] == "tts_intonation_unsupported"
    unknown = api.post("/api/v1/prompts", json={"text": GREETING, "provider": "robot"}, headers=headers)
    assert unknown.json["error"]["code"] == "prompt_unknown_provider"
    assert api.get("/api/v1/prompts").json["prompts"] == []  # nothing half-saved


def test_a_failing_engine_is_an_error_for_the_admin_at_save_time(api, admin, registry):
    _tenant, headers = admin

    def broken(text, settings):
        raise RuntimeError("HTS Engine could not synthesise these labels")

    registry.ecti.tts_providers["openjtalk"].render = broken
    refused = api.post("/api/v1/prompts", json={"text": GREETING, "provider": "openjtalk"}, headers=headers)
    assert refused.status_int == 422
    assert refused.json["error"]["code"] == "tts_provider_failed"
    assert "HTS Engine could not synthesise these labels" in refused.json["error"]["message"]
    assert api.get("/api/v1/prompts").json["prompts"] == []


def test_patch_changes_a_prompt_and_renders_the_new_text(api, admin, render_count):
    _tenant, headers = admin
    prompt = api.post("/api/v1/prompts", json={"text": GREETING, "provider": "openjtalk"}, headers=headers).json
    changed = api.patch(f"/api/v1/prompts/{prompt['id']}", json={"text": "本日の営業は終了しました。", "emotion": "sadness"}, headers=headers)
    assert changed.status_int == 200
    assert (changed.json["text"], changed.json["emotion"], changed.json["provider"]) == ("本日の営業は終了しました。", "sadness", "openjtalk")
    assert render_count == [GREETING, "本日の営業は終了しました。"]


def test_names_are_unique_and_may_be_japanese(api, admin):
    _tenant, headers = admin
    first = api.post("/api/v1/prompts", json={"name": "時間外案内", "text": GREETING, "provider": "twilio"}, headers=headers)
    again = api.post("/api/v1/prompts", json={"name": "時間外案内", "text": GREETING, "provider": "twilio"}, headers=headers)
    assert first.status_int == 201
    assert again.json["error"]["code"] == "prompt_name_taken"
    unnamed = [api.post("/api/v1/prompts", json={"text": "少々お待ちください。", "provider": "twilio"}, headers=headers).json["name"] for _ in range(2)]
    assert unnamed == ["少々お待ちください。", "少々お待ちください。 (2)"]


def test_providers_list_voices_and_emotions(api, admin):
    listing = api.get("/api/v1/prompts/providers").json
    providers = {p["name"]: p for p in listing["providers"]}
    assert providers["twilio"]["output"] == "carrier" and providers["openjtalk"]["output"] == "audio"
    assert "Polly.Mizuki" in [v["name"] for v in providers["twilio"]["voices"]]
    assert [e["label"] for e in listing["emotions"]] == ["通常", "喜び", "悲しみ", "怒り"]


def test_the_console_creates_previews_and_edits_synthetic_voice_prompts(webtest, login, make_tenant, make_user):
    token = login(webtest, make_user(make_tenant(), role="admin"))
    form = webtest.get("/admin/prompts").forms["new-prompt"]
    assert form["provider"].value == "twilio"  # the tenant's carrier voice comes first
    form["text"], form["voice"], form["emotion"] = GREETING, "Polly.Takumi", "joy"
    listed = form.submit().follow()
    assert f"音声ガイダンス「{GREETING}」を保存しました。" in listed.text
    # A carrier voice is previewed by Open JTalk with the same settings, refused like saving.
    heard = webtest.post("/admin/prompts/listen", {"csrf_token": token, "text": GREETING, "provider": "twilio", "speed": "1.2"})
    assert heard.content_type == "audio/wav" and heard.body[:4] == b"RIFF"
    refused = webtest.post("/admin/prompts/listen", {"csrf_token": token, "text": GREETING, "provider": "twilio", "intonation": "1.5"}, status=422)
    assert refused.json["error"].startswith("Twilio の音声では抑揚を変えられません。")
    edit_url = listed.html.select_one("table.prompts a")["href"]
    form = webtest.get(edit_url).forms["edit-prompt"]
    form["text"] = "あ" * 501
    assert "文章が 501 文字あります。" in form.submit(status=422).text
    form["text"] = "本日の営業は終了しました。"
    form["emotion"] = "sadness"
    assert "本日の営業は終了しました。" in form.submit().follow().text


# --- on a call ---------------------------------------------------------------------------------

def test_a_library_prompt_plays_from_a_signed_url_and_cache_hits_do_not_render(api, admin, render_count, call_request, webtest):
    tenant, headers = admin
    prompt = api.post("/api/v1/prompts", json={"text": GREETING, "provider": "openjtalk"}, headers=headers).json
    first = prompt_instructions(call_request(tenant), tenant, {"prompt_id": prompt["id"]})
    second = prompt_instructions(call_request(tenant), tenant, {"prompt_id": prompt["id"]})
    assert isinstance(first[0], Play) and first == second  # same URL for a while: the carrier caches it
    assert len(render_count) == 1
    played = webtest.get(path_of(first[0].url))
    assert played.content_type == "audio/wav" and played.body[20:22] == b"\x07\x00"  # μ-law WAV as rendered
    assert "private" in played.headers["Cache-Control"]


def test_a_twilio_voice_prompt_is_spoken_by_the_carrier_with_its_settings(api, admin, call_request):
    tenant, headers = admin
    prompt = api.post("/api/v1/prompts", json={"text": GREETING, "provider": "twilio", "voice": "Polly.Takumi", "emotion": "anger"}, headers=headers).json
    [say] = prompt_instructions(call_request(tenant), tenant, {"prompt_id": prompt["id"]})
    assert isinstance(say, Say)
    assert (say.text, say.voice, say.settings.emotion) == (GREETING, "Polly.Takumi", "anger")


def test_inline_text_with_a_provider_is_rendered_and_cached_too(admin, call_request, render_count):
    tenant, _headers = admin
    ref = {"text": "ただいま混み合っております。", "voice": {"provider": "openjtalk", "speed": 1.1}}
    check_prompt_ref(call_request(tenant), tenant, ref)  # what a subsystem calls when saving
    [play] = prompt_instructions(call_request(tenant), tenant, ref)
    assert isinstance(play, Play)
    assert len(render_count) == 1
    assert prompt_instructions(call_request(tenant), tenant, {"text": "本日は休業日です。"}) == [Say("本日は休業日です。", language="ja-JP")]


def test_a_provider_failing_on_a_live_call_falls_back_to_the_carriers_voice(api, admin, registry, call_request, caplog):
    tenant, headers = admin
    prompt = api.post("/api/v1/prompts", json={"text": GREETING, "provider": "openjtalk", "emotion": "joy"}, headers=headers).json
    registry["ecti.media_storage"].delete(next(iter_cache_keys(registry, tenant)))  # the cache is gone…

    def broken(text, settings):
        raise RuntimeError("engine crashed")

    registry.ecti.tts_providers["openjtalk"].render = broken  # …and the engine broke since
    with caplog.at_level(logging.ERROR, logger="ecti.prompts"):
        [say] = prompt_instructions(call_request(tenant), tenant, {"prompt_id": prompt["id"]})
    assert isinstance(say, Say) and say.text == GREETING and say.voice is None
    assert say.settings.emotion == "joy"  # the carrier voice keeps the emotion's prosody
    assert "carrier's voice speaks instead" in caplog.text


def iter_cache_keys(registry, tenant):
    root = registry["ecti.media_storage"].root
    for path in (root / f"t{tenant.id}" / "tts" / "openjtalk").iterdir():
        yield path.relative_to(root).as_posix()


def test_a_slow_render_on_a_live_call_does_not_keep_the_caller_waiting(admin, registry, call_request):
    tenant, _headers = admin
    registry.settings["ecti.prompts.render_timeout"] = "0.05"
    provider = registry.ecti.tts_providers["openjtalk"]
    release = threading.Event()
    original = provider.render

    def slow(text, settings):
        release.wait(10)
        return original(text, settings)

    provider.render = slow
    ref = {"text": "順番におつなぎします。", "voice": {"provider": "openjtalk"}}
    [say] = prompt_instructions(call_request(tenant), tenant, ref)
    assert isinstance(say, Say) and say.text == "順番におつなぎします。"
    release.set()  # the rendering finishes in the background and serves the next caller
    registry["ecti.prompts.render_cache"]._pending and next(iter(registry["ecti.prompts.render_cache"]._pending.values())).result(10)
    [play] = prompt_instructions(call_request(tenant), tenant, ref)
    assert isinstance(play, Play)


def test_a_missing_prompt_or_missing_audio_is_never_silence(api, admin, registry, call_request, caplog):
    tenant, headers = admin
    with caplog.at_level(logging.ERROR, logger="ecti.prompts"):
        [apology] = prompt_instructions(call_request(tenant), tenant, {"prompt_id": 99999})
        [text] = prompt_instructions(call_request(tenant), tenant, {"prompt_id": 99999, "text": "ご用件をお話しください。"})
    assert isinstance(apology, Say) and "申し訳ございません" in apology.text
    assert text.text == "ご用件をお話しください。"
    uploaded = api.post("/api/v1/prompts/audio", json={"filename": "hold.wav", "content_base64": b64(pcm_wav())}, headers=headers).json
    registry["ecti.media_storage"].delete(f"t{tenant.id}/audio/" + uploaded_key(registry, uploaded["id"]).rsplit("/", 1)[-1])
    [apology] = prompt_instructions(call_request(tenant), tenant, {"prompt_id": uploaded["id"]})
    assert "申し訳ございません" in apology.text
    assert "is missing" in caplog.text or "does not exist" in caplog.text


def uploaded_key(registry, prompt_id):
    from sqlalchemy import select

    from ecti.db import all_tenants, make_session_factory

    with make_session_factory(registry["ecti.engine"])() as session, all_tenants(session):
        return session.scalar(select(Prompt.storage_key).where(Prompt.id == prompt_id))


def b64(data):
    import base64

    return base64.b64encode(data).decode()


# --- media URLs --------------------------------------------------------------------------------

def test_media_urls_cannot_be_guessed_tampered_with_or_used_after_expiry(api, admin, call_request, webtest, make_tenant):
    tenant, headers = admin
    uploaded = api.post("/api/v1/prompts/audio", json={"filename": "hold.wav", "content_base64": b64(pcm_wav())}, headers=headers).json
    [play] = prompt_instructions(call_request(tenant), tenant, {"prompt_id": uploaded["id"]})
    url = path_of(play.url)
    assert webtest.get(url).body == pcm_wav()
    path, query = url.split("?")
    assert webtest.get(path, expect_errors=True).status_int == 403  # no signature
    assert webtest.get(url[:-3] + "AAA", expect_errors=True).status_int == 403  # tampered signature
    expires = int(query.split("expires=")[1].split("&")[0])
    assert webtest.get(url.replace(f"expires={expires}", f"expires={expires + 86400}"), expect_errors=True).status_int == 403
    other = make_tenant(slug="other", name="他社")
    assert webtest.get(url.replace(f"/media/t{tenant.id}/", f"/media/t{other.id}/"), expect_errors=True).status_int == 403
    request = call_request(tenant)
    expired = media_url(request, f"t{tenant.id}/audio/" + urlsplit(play.url).path.rsplit("/", 1)[-1], now=0)
    assert webtest.get(path_of(expired), expect_errors=True).status_int == 410
    gone = media_url(request, f"t{tenant.id}/audio/prompt-0000.wav")  # valid signature, no such file
    assert webtest.get(path_of(gone), expect_errors=True).status_int == 404
    # A refused URL is refused plainly, never redirected to the sign-in page (the carrier is the client).
    assert "login" not in webtest.get(path, expect_errors=True).headers.get("Location", "")


# --- usages and deleting -----------------------------------------------------------------------

@pytest.fixture
def app_with_usages(app_settings, engine, clean_database):
    """The application with a subsystem that uses prompts (as IVR and queues will)."""
    import sys
    import types

    import webtest as wt

    from ecti import hookimpl
    from ecti.config import configure
    from ecti.plugins import get_plugin_manager

    module = types.ModuleType("menu_subsystem")
    sys.modules["menu_subsystem"] = module
    menus = {}  # prompt_id -> menu name, standing in for IVR nodes' settings

    def usages(request, prompt_ids):
        for name, settings in menus.items():
            for prompt_id in prompt_ids_in(settings) & prompt_ids:
                yield PromptUsage(prompt_id, f"IVR「{name}」", "/admin/ivr/1")

    @hookimpl
    def ecti_config(config):
        config.add_prompt_usage_finder(usages)

    module.ecti_config = ecti_config
    pm = get_plugin_manager(plugins=[module])
    app = configure(dict(app_settings), plugin_manager=pm, engine=engine).make_wsgi_app()
    return wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"}), menus


def test_a_prompt_in_use_cannot_be_deleted_and_the_message_says_where(app_with_usages, login, make_tenant, make_user):
    testapp, menus = app_with_usages
    tenant = make_tenant()
    headers = {"X-CSRF-Token": login(testapp, make_user(tenant, role="admin"))}
    prompt = testapp.post_json("/api/v1/prompts", {"name": "メニュー", "text": GREETING, "provider": "twilio"}, headers=headers).json
    menus["メイン"] = {"nodes": [{"type": "menu", "prompt": {"prompt_id": prompt["id"]}}]}
    assert testapp.get(f"/api/v1/prompts/{prompt['id']}").json["used_by"] == [{"label": "IVR「メイン」", "url": "/admin/ivr/1"}]
    refused = testapp.delete(f"/api/v1/prompts/{prompt['id']}", headers=headers, expect_errors=True)
    assert refused.status_int == 409
    assert refused.json["error"]["message"] == "「メニュー」は IVR「メイン」で使われているため削除できません。先にそちらで別の音声を選んでください。"
    page = testapp.post(f"/admin/prompts/{prompt['id']}/delete", {"csrf_token": headers["X-CSRF-Token"]}).follow()
    assert "IVR「メイン」で使われているため削除できません" in page.text
    assert "IVR「メイン」" in testapp.get("/admin/prompts").text  # the library shows where it is used
    menus.clear()
    assert testapp.delete(f"/api/v1/prompts/{prompt['id']}", headers=headers).status_int == 204


def test_deleting_an_audio_prompt_removes_its_file(api, admin, registry):
    tenant, headers = admin
    uploaded = api.post("/api/v1/prompts/audio", json={"filename": "hold.wav", "content_base64": b64(pcm_wav())}, headers=headers).json
    key = uploaded_key(registry, uploaded["id"])
    assert registry["ecti.media_storage"].exists(key)
    assert api.delete(f"/api/v1/prompts/{uploaded['id']}", headers=headers).status_int == 204
    assert not registry["ecti.media_storage"].exists(key)


def test_prompt_ids_are_found_anywhere_in_settings():
    settings = {"greeting": {"prompt_id": 3}, "menu": [{"prompt": {"prompt_id": "7"}}, {"text": "x"}], "flag": {"prompt_id": True}}
    assert prompt_ids_in(settings) == {3, 7}


# --- tenant isolation --------------------------------------------------------------------------

def test_another_tenants_prompts_are_404_everywhere(api, admin, login, make_tenant, make_user, call_request):
    tenant, headers = admin
    prompt = api.post("/api/v1/prompts", json={"text": GREETING, "provider": "twilio"}, headers=headers).json
    uploaded = api.post("/api/v1/prompts/audio", json={"filename": "hold.wav", "content_base64": b64(pcm_wav())}, headers=headers).json
    other = make_tenant(slug="other", name="他社")
    api.testapp.reset()
    other_headers = {"X-CSRF-Token": login(api.testapp, make_user(other, role="admin"))}
    assert api.get("/api/v1/prompts").json["prompts"] == []
    for prompt_id in (prompt["id"], uploaded["id"]):
        assert api.get(f"/api/v1/prompts/{prompt_id}").status_int == 404
        assert api.patch(f"/api/v1/prompts/{prompt_id}", json={"name": "乗っ取り"}, headers=other_headers).status_int == 404
        assert api.delete(f"/api/v1/prompts/{prompt_id}", headers=other_headers).status_int == 404
        assert api.testapp.get(f"/admin/prompts/{prompt_id}", expect_errors=True).status_int == 404
        assert api.testapp.get(f"/admin/prompts/{prompt_id}/audio", expect_errors=True).status_int == 404
    # A call of tenant B naming A's prompt id hears an apology, never A's audio.
    [apology] = prompt_instructions(call_request(other), other, {"prompt_id": uploaded["id"]})
    assert isinstance(apology, Say)


def test_agents_cannot_open_the_library(webtest, login, make_tenant, make_user):
    login(webtest, make_user(make_tenant(), role="agent"))
    assert webtest.get("/admin/prompts", expect_errors=True).status_int == 403
