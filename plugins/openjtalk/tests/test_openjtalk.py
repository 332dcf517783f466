"""Open JTalk renders telephone-quality Japanese whose prosody follows the settings and emotions.

Prosody is measured on the rendered 8 kHz μ-law audio itself: pitch with the YIN estimator,
loudness as RMS, tempo as duration.
"""
import struct

import numpy as np
import pytest

from ecti.errors import UserError
from ecti.interfaces import VoiceSettings
from ecti.plugins import Registries, get_plugin_manager
from ecti.prompts.audio import ULAW_TO_LINEAR, identify_audio
from ecti_openjtalk import engine as engine_module
from ecti_openjtalk.engine import OpenJTalk
from ecti_openjtalk.provider import OpenJTalkProvider
from ecti_openjtalk.telephone import mulaw_encode, to_telephone_rate

TEXT = "お電話ありがとうございます。ただいま電話が大変混み合っております。"


@pytest.fixture(scope="module")
def provider():
    return OpenJTalkProvider()


@pytest.fixture(scope="module")
def rendered(provider):
    """Each setting under test rendered once (rendering is the slow part)."""
    cache = {}

    def render(**settings):
        key = tuple(sorted(settings.items()))
        if key not in cache:
            cache[key] = provider.render(TEXT, VoiceSettings(**settings))
        return cache[key]

    return render


def samples_of(wav: bytes) -> np.ndarray:
    info = identify_audio(wav)
    raw = wav[info.data_offset:info.data_offset + info.data_length]
    return np.array([ULAW_TO_LINEAR[b] for b in raw], dtype=np.float64)


def f0_track(x: np.ndarray, rate: int = 8000, fmin: float = 70.0, fmax: float = 600.0) -> np.ndarray:
    """F0 (Hz) of the voiced 40 ms frames, every 10 ms, by YIN (de Cheveigné & Kawahara 2002)."""
    n, hop = int(0.04 * rate), int(0.01 * rate)
    lo, hi = int(rate / fmax), int(rate / fmin)
    level = np.sqrt(np.mean(x ** 2))
    found = []
    for start in range(0, len(x) - n - hi, hop):
        frame = x[start:start + n + hi]
        if np.sqrt(np.mean(frame[:n] ** 2)) < 0.3 * level:
            continue  # pauses and quiet consonants
        windows = np.lib.stride_tricks.sliding_window_view(frame, n)[:hi + 1]
        difference = np.sum((windows - frame[:n]) ** 2, axis=1)
        normalised = np.ones_like(difference)
        normalised[1:] = difference[1:] * np.arange(1, hi + 1) / np.maximum(np.cumsum(difference[1:]), 1e-9)
        below = np.nonzero(normalised[lo:hi] < 0.15)[0]
        if not len(below):
            continue  # unvoiced
        tau = lo + below[0]
        while tau + 1 < hi and normalised[tau + 1] < normalised[tau]:
            tau += 1
        a, b, c = normalised[tau - 1:tau + 2]
        found.append(rate / (tau + (0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c else 0.0)))
    return np.array(found)


def prosody(wav: bytes) -> dict:
    x = samples_of(wav)
    f0 = f0_track(x)
    assert len(f0) > 50, "too few voiced frames to measure"
    return {
        "f0": float(np.median(f0)),
        "spread": float(np.std(12 * np.log2(f0))),  # pitch movement, in semitones
        "rms": float(np.sqrt(np.mean(x ** 2))),
        "seconds": len(x) / 8000,
    }


def test_hook_ecti_tts_providers_registers_open_jtalk():
    provider = Registries.collect(get_plugin_manager()).tts_providers["openjtalk"]
    assert isinstance(provider, OpenJTalkProvider)
    assert provider.output == "audio"


def test_the_output_is_a_valid_8khz_mulaw_wav(rendered):
    wav = rendered()
    riff, size, wave, fmt_id, fmt_size = struct.unpack_from("<4sI4s4sI", wav)
    assert (riff, wave, fmt_id) == (b"RIFF", b"WAVE", b"fmt ")
    assert size == len(wav) - 8
    tag, channels, rate, byte_rate, align, bits = struct.unpack_from("<HHIIHH", wav, 20)
    assert (tag, channels, rate, byte_rate, align, bits) == (7, 1, 8000, 8000, 1, 8)  # G.711 μ-law, mono
    info = identify_audio(wav, "prompt.wav", "audio/wav")
    assert (info.codec, info.sample_rate, info.channels) == ("mulaw", 8000, 1)
    assert 3000 < info.duration_ms < 8000  # a sentence and a half of speech
    assert samples_of(wav).std() > 300  # speech, not silence


def test_mulaw_encoding_follows_g711():
    assert mulaw_encode(np.array([0, -1, 32767, -32768], dtype=np.int16)) == bytes([0xFF, 0x7F, 0x80, 0x00])
    x = np.arange(-32768, 32768, 7, dtype=np.int16)
    decoded = np.array([ULAW_TO_LINEAR[b] for b in mulaw_encode(x)])
    # Each μ-law segment has 16 steps: the error is at most one step, 1/16 of the magnitude
    # (the loudest code decodes to ±32124).
    assert np.all(np.abs(decoded - np.clip(x, -32124, 32124)) <= np.maximum(np.abs(x) / 16, 16))


def test_resampling_to_8khz_keeps_speech_band_and_removes_what_would_alias():
    t = np.arange(48000) / 48000
    speech_band = to_telephone_rate((8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16), 48000)
    above_nyquist = to_telephone_rate((8000 * np.sin(2 * np.pi * 6000 * t)).astype(np.int16), 48000)
    assert len(speech_band) == 8000
    assert 5400 < speech_band[100:-100].std() < 5900  # a 1 kHz tone passes (8000/√2)
    assert above_nyquist[100:-100].std() < 80  # a 6 kHz tone would fold to 2 kHz: filtered out


def test_emotion_presets_change_pitch_loudness_and_tempo_measurably(rendered):
    normal, joy, sadness, anger = (prosody(rendered(emotion=e)) for e in ("normal", "joy", "sadness", "anger"))
    assert joy["f0"] > normal["f0"] * 1.05 > sadness["f0"] * 1.1  # about +2 and −2 semitones
    assert joy["spread"] > normal["spread"] > sadness["spread"]  # livelier, flatter
    assert anger["rms"] > normal["rms"] * 1.3  # +4 dB
    assert sadness["rms"] < normal["rms"] * 0.8  # −3 dB
    assert sadness["seconds"] > normal["seconds"] > joy["seconds"]


def test_pitch_intonation_speed_and_volume_follow_the_settings(rendered):
    normal = prosody(rendered())
    assert prosody(rendered(pitch=4.0))["f0"] > normal["f0"] * 1.12  # +4 semitones ≈ ×1.26
    assert prosody(rendered(intonation=0.0))["spread"] < 1.0 < normal["spread"]  # 抑揚なし: monotone
    assert prosody(rendered(intonation=2.0))["spread"] > normal["spread"] * 1.15
    assert prosody(rendered(speed=1.5))["seconds"] < normal["seconds"] * 0.75
    assert 0.4 < prosody(rendered(volume=-6.0))["rms"] / normal["rms"] < 0.6  # −6 dB ≈ half


def test_text_with_nothing_to_read_is_refused_at_save_time(provider):
    with pytest.raises(UserError) as refused:
        provider.validate("。。。", VoiceSettings())
    assert refused.value.code == "openjtalk_nothing_to_read"


def test_an_unknown_voice_is_refused(provider):
    with pytest.raises(UserError) as refused:
        provider.validate(TEXT, VoiceSettings(voice="takumi"))
    assert refused.value.code == "tts_unknown_voice"


def test_a_missing_engine_is_a_clear_error_not_a_crash(monkeypatch):
    def missing():
        raise engine_module.EngineUnavailable("pyopenjtalk-plus is not installed (No module named 'pyopenjtalk')")

    monkeypatch.setattr(engine_module, "_import_pyopenjtalk", missing)
    with pytest.raises(UserError) as refused:
        OpenJTalkProvider(OpenJTalk()).validate(TEXT, VoiceSettings())
    assert refused.value.code == "openjtalk_unavailable"
    assert "pyopenjtalk-plus is not installed" in str(refused.value.message.mapping["error"])


def test_the_version_names_the_engine_so_cached_audio_follows_upgrades(provider):
    assert provider.version.startswith("1/0.")
