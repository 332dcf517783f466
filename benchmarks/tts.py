"""How long Open JTalk takes to render a prompt, and what the cache saves.

Prints the render time of a 100- and a 500-character Japanese prompt (text → 8 kHz μ-law WAV),
the time of a cache hit (what a call costs once a prompt was rendered: one storage check and a
signed URL), and the ratio. Run: ``.venv/bin/python benchmarks/tts.py``.
"""
from __future__ import annotations

import statistics
import tempfile
import time

from ecti.interfaces import VoiceSettings
from ecti.prompts.media import _signature
from ecti.prompts.rendering import RenderCache, cache_key
from ecti.prompts.storage import FilesystemStorage
from ecti_openjtalk.provider import OpenJTalkProvider

SENTENCES = (
    "お電話ありがとうございます。株式会社アクメ、カスタマーサポートセンターでございます。"
    "ただいま電話が大変混み合っております。恐れ入りますが、このまましばらくお待ちいただくか、"
    "時間をおいておかけ直しください。営業時間は平日の午前九時から午後六時まででございます。"
    "ご注文に関するお問い合わせは一番を、製品の故障や修理については二番を、"
    "その他のお問い合わせは三番を押してください。"
)


def text_of(length: int) -> str:
    return (SENTENCES * (length // len(SENTENCES) + 1))[:length]


def timed(function, repeat: int) -> float:
    """The median of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    provider = OpenJTalkProvider()
    provider.render("準備", VoiceSettings())  # load the dictionary and the voice once
    settings = VoiceSettings(emotion="joy")
    with tempfile.TemporaryDirectory() as media:
        cache = RenderCache(FilesystemStorage(media))
        print("Open JTalk (pyopenjtalk-plus), 8 kHz μ-law WAV; median of runs")
        renders = {}
        for length in (100, 500):
            text = text_of(length)
            renders[length] = timed(lambda: provider.render(text, settings), repeat=5 if length == 100 else 3)
            audio = provider.render(text, settings)
            seconds = (len(audio) - 58) / 8000
            print(f"render {length:3d} characters: {renders[length] * 1000:8.1f} ms  ({seconds:5.1f} s of audio, {renders[length] / seconds:.3f}× real time)")
        text = text_of(500)
        key = cache_key(1, provider, text, settings)
        cache.ensure(key, provider, text, settings)  # the miss, rendered once
        registry = type("Registry", (), {"settings": {"ecti.secret_key": "benchmark"}})()

        def call_time_hit():  # what a call does for a rendered prompt: storage check, signed URL
            cache.ensure(key, provider, text, settings)
            _signature(registry, key, 1_800_000_000)

        hit = timed(call_time_hit, repeat=1000)
        print(f"cache hit (500 characters): {hit * 1000:9.3f} ms  (storage check and signed URL)")
        print(f"cache hit is {renders[500] / hit:,.0f}× faster than rendering 500 characters")
        cache._executor.shutdown()


if __name__ == "__main__":
    main()
