"""Audio uploads: exactly the F-IVR-8 types, recognised from the content, measured, and refused
with a specific message when empty, too large, damaged, mislabelled or not audio at all."""
import base64
import io
import re
import struct
import wave

import pytest

from ecti.errors import UserError
from ecti.prompts.audio import MAX_UPLOAD_BYTES, browser_audio, identify_audio


# --- files as audio editors write them ----------------------------------------------------------

def pcm_wav(seconds=1.0, rate=8000, channels=1):
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(b"\x00\x10\x00\xf0" * int(seconds * rate * channels / 2))
    return out.getvalue()


def wav_with_codec(tag, data, rate=8000, bits=8, fact=True):
    fmt = struct.pack("<HHIIHHH", tag, 1, rate, rate * bits // 8, bits // 8 or 1, bits, 0)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if fact:
        chunks += b"fact" + struct.pack("<II", 4, len(data))
    chunks += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def extended(value):
    """An 80-bit IEEE extended float, as AIFF stores the sample rate."""
    exponent, mantissa = 16383 + 63, int(value)
    while mantissa < 1 << 63:
        mantissa, exponent = mantissa << 1, exponent - 1
    return struct.pack(">HQ", exponent, mantissa)


def aiff(frames=8000, rate=8000, compression=None, sample_bytes=2):
    comm = struct.pack(">hIh", 1, frames, 8 * sample_bytes) + extended(rate)
    form = b"AIFF"
    if compression is not None:
        form = b"AIFC"
        comm += compression + b"\x00\x00"
    sound = b"\x00\x01" * (frames * sample_bytes // 2)
    ssnd = struct.pack(">II", 0, 0) + sound
    body = form + b"COMM" + struct.pack(">I", len(comm)) + comm + b"SSND" + struct.pack(">I", len(ssnd)) + ssnd
    return b"FORM" + struct.pack(">I", len(body)) + body


def mp3(frames=40):
    """MPEG-1 layer III, 128 kbit/s, 44.1 kHz, mono: 417-byte frames of 1152 samples."""
    frame = b"\xff\xfb\x90\xc0" + b"\x00" * 413
    tag = b"ID3\x04\x00\x00" + bytes([0, 0, 0, 10]) + b"\x00" * 10
    return tag + frame * frames


def gsm(frames=50):
    return (b"\xd8" + b"\x20" * 32) * frames


def au_ulaw(samples=8000, rate=8000, channels=1, encoding=1):
    return b".snd" + struct.pack(">IIIII", 24, samples, encoding, rate, channels) + b"\xff\x7f" * (samples // 2)


# --- recognised --------------------------------------------------------------------------------

@pytest.mark.parametrize("data, filename, content_type, codec, rate, duration_ms", [
    (pcm_wav(1.5), "あいさつ.wav", "audio/wav", "pcm_s16le", 8000, 1500),
    (pcm_wav(2.0, rate=44100, channels=2), "保留音.WAV", "audio/wav", "pcm_s16le", 44100, 2000),
    (wav_with_codec(7, b"\xff" * 16000), "greeting.wav", "audio/wav", "mulaw", 8000, 2000),
    (wav_with_codec(6, b"\xd5" * 8000), "greeting.wav", "audio/wav", "alaw", 8000, 1000),
    (wav_with_codec(0x31, b"\x00" * 65 * 25, bits=0, fact=False), "gsm.wav", "audio/wav", "gsm", 8000, 1000),
    (aiff(16000), "menu.aiff", "audio/aiff", "pcm_s16be", 8000, 2000),
    (aiff(8000, compression=b"sowt"), "menu.aifc", "audio/x-aifc", "pcm_s16le", 8000, 1000),
    (aiff(8000, compression=b"ulaw", sample_bytes=1), "menu.aifc", "audio/x-aifc", "mulaw", 8000, 1000),
    (mp3(40), "お知らせ.mp3", "audio/mpeg", "mp3", 44100, 1044),
    (gsm(50), "hold.gsm", "audio/x-gsm", "gsm", 8000, 1000),
    (au_ulaw(8000), "guide.au", "audio/ulaw", "mulaw", 8000, 1000),
    (bytes(range(128, 256)) * 125, "guide.ulaw", "audio/ulaw", "mulaw", 8000, 2000),
])
def test_each_accepted_type_is_recognised_and_measured(data, filename, content_type, codec, rate, duration_ms):
    info = identify_audio(data, filename, "")
    assert (info.content_type, info.codec, info.sample_rate, info.duration_ms) == (content_type, codec, rate, duration_ms)


def test_the_content_decides_not_the_name_or_the_browser():
    assert identify_audio(pcm_wav(), "no-extension", "application/octet-stream").content_type == "audio/wav"
    assert identify_audio(mp3(), "", "audio/x-wav-or-whatever").content_type == "audio/mpeg"
    assert identify_audio(pcm_wav(), "greeting.wav", "audio/x-wav").content_type == "audio/wav"


def test_an_au_file_is_stored_as_its_mulaw_samples():
    info = identify_audio(au_ulaw(800), "guide.au")
    assert info.stored == b"\xff\x7f" * 400


# --- refused, each with its reason -------------------------------------------------------------

def refusal(data, filename="file.wav", claimed=""):
    with pytest.raises(UserError) as refused:
        identify_audio(data, filename, claimed)
    return refused.value


@pytest.mark.parametrize("data, filename, claimed, code", [
    (b"", "empty.wav", "", "audio_empty"),
    (pcm_wav(), "greeting.mp3", "", "audio_mislabelled"),
    (mp3(), "greeting.wav", "audio/wav", "audio_mislabelled"),
    (pcm_wav(), "greeting.wav", "audio/mpeg", "audio_mislabelled"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "greeting.wav", "audio/wav", "audio_unsupported_type"),
    (b"OggS" + b"\x00" * 100, "greeting.ogg", "audio/ogg", "audio_unsupported_type"),
    ("お電話ありがとうございます".encode() * 50, "guide.ulaw", "", "audio_unrecognised"),
    (b"\x13\x37" * 500, "mystery.bin", "", "audio_unrecognised"),
    (pcm_wav()[:-100], "cut.wav", "", "audio_truncated"),
    (pcm_wav()[:30], "cut.wav", "", "audio_corrupt"),
    (b"RIFF\x04\x00\x00\x00WAVEdata\x04\x00\x00\x00abcd", "nofmt.wav", "", "audio_corrupt"),
    (wav_with_codec(0x11, b"\x00" * 4000, bits=4), "adpcm.wav", "", "audio_codec_unsupported"),
    (aiff(16000)[:-1000], "cut.aiff", "", "audio_truncated"),
    (aiff(8000, compression=b"ima4"), "ima.aifc", "", "audio_codec_unsupported"),
    (mp3(10) + b"\x42" * 20000, "broken.mp3", "", "audio_corrupt"),
    (b"\xff\xfd\x90\xc0" + b"\x00" * 2000, "layer2.mp3", "", "audio_codec_unsupported"),
    (au_ulaw(rate=16000), "wide.au", "", "audio_ulaw_rate"),
    (wav_with_codec(7, b""), "silent.wav", "", "audio_silent"),
])
def test_bad_files_are_refused_with_a_specific_code(data, filename, claimed, code):
    assert refusal(data, filename, claimed).code == code


def test_30_mb_or_more_is_refused():
    assert refusal(b"RIFF" + b"\x00" * (MAX_UPLOAD_BYTES - 4), "huge.wav").code == "audio_too_large"


# --- through the API and the console -----------------------------------------------------------

@pytest.fixture
def app_settings(app_settings, tmp_path):
    return {**app_settings, "ecti.media_dir": str(tmp_path / "media")}


@pytest.fixture
def headers(api, login, make_tenant, make_user):
    return {"X-CSRF-Token": login(api.testapp, make_user(make_tenant(), role="admin"))}


def upload(api, headers, data, filename, name=""):
    return api.post("/api/v1/prompts/audio", json={"name": name, "filename": filename, "content_base64": base64.b64encode(data).decode()}, headers=headers)


def test_an_upload_keeps_its_japanese_name_and_is_stored_under_a_unique_ascii_name(api, headers, app, tmp_path):
    first = upload(api, headers, pcm_wav(2.5), "営業時間のご案内.wav")
    second = upload(api, headers, pcm_wav(1.0), "営業時間のご案内.wav")
    assert first.status_int == second.status_int == 201
    assert (first.json["name"], second.json["name"]) == ("営業時間のご案内", "営業時間のご案内 (2)")
    assert first.json["original_filename"] == "営業時間のご案内.wav"
    assert (first.json["content_type"], first.json["codec"], first.json["duration_ms"]) == ("audio/wav", "pcm_s16le", 2500)
    stored = sorted(p.relative_to(tmp_path / "media").as_posix() for p in (tmp_path / "media").rglob("*.wav"))
    assert len(stored) == 2 and all(re.fullmatch(r"t\d+/audio/prompt-[0-9a-f]{32}\.wav", key) for key in stored)


def test_a_refused_upload_says_why_in_japanese_and_stores_nothing(api, headers, tmp_path):
    refused = upload(api, headers, pcm_wav(), "greeting.mp3")
    assert refused.status_int == 422
    assert refused.json["error"]["message"] == "「greeting.mp3」は MP3 を示していますが、ファイルの中身は WAV の音声です。名前を直すか、名前どおりの形式で書き出し直してください。"
    bad_base64 = api.post("/api/v1/prompts/audio", json={"filename": "a.wav", "content_base64": "%%%"}, headers=headers)
    assert bad_base64.json["error"]["code"] == "invalid_base64"
    assert not list((tmp_path / "media").rglob("*.*"))


def test_the_console_uploads_plays_renames_and_replaces_audio(webtest, login, make_tenant, make_user, tmp_path):
    token = login(webtest, make_user(make_tenant(), role="admin"))
    page = webtest.get("/admin/prompts")
    form = page.forms["upload-prompt"]
    form["file"] = ("保留中のご案内.wav", pcm_wav(1.0), "audio/wav")
    listed = form.submit().follow()
    assert "音声「保留中のご案内」をアップロードしました。" in listed.text
    link = listed.html.select_one("table.prompts a")
    player = listed.html.select_one("table.prompts audio")
    assert link.text == "保留中のご案内"
    assert webtest.get(player["src"]).content_type == "audio/wav"
    edit = webtest.get(link["href"])
    form = edit.forms["edit-prompt"]
    form["name"] = "保留音"
    form["file"] = ("hold.gsm", gsm(100), "audio/x-gsm")
    edited = form.submit().follow()
    assert "保留音" in edited.text and "GSM の音声は通話中のみ再生できます" in edited.text
    assert len(list((tmp_path / "media").rglob("prompt-*"))) == 1  # the replaced file is gone
    form = edited.forms["edit-prompt"]
    form["file"] = ("hold.wav", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "audio/wav")
    refused = form.submit(status=422)
    assert "このファイルは PNG 形式で、電話で再生できる音声ではありません。" in refused.text
    assert token


def test_mulaw_and_aiff_are_decoded_for_the_browsers_player():
    data, content_type = browser_audio(wav_with_codec(7, b"\xff\x7f\x80\x00" * 100))
    with wave.open(io.BytesIO(data)) as w:
        assert (content_type, w.getsampwidth(), w.getframerate(), w.getnframes()) == ("audio/wav", 2, 8000, 400)
        assert struct.unpack("<4h", w.readframes(4)) == (0, 0, 32124, -32124)
    data, _type = browser_audio(aiff(800))
    with wave.open(io.BytesIO(data)) as w:
        assert struct.unpack("<h", w.readframes(1)) == (1,)  # big-endian 0x0001 → 1
    assert browser_audio(gsm()) is None
    assert browser_audio(mp3()) == (mp3(), "audio/mpeg")
