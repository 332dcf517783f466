"""How long Open JTalk takes to render a prompt, and what the cache saves.

Prints the render time of a 100- and a 500-character Japanese prompt (text → 8 kHz μ-law WAV),
the time of a cache hit (what a call costs once a prompt was rendered: one storage check and a
signed URL), and the ratio. Run: ``.venv/bin/python benchmarks/tts.py [--smoke]``.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import figure, machine, parser as make_parser  # noqa: E402
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
    args = make_parser(__doc__.split("\n")[0]).parse_args()
    lengths, repeats, hits = ((100, 500), (5, 3), 1000) if not args.smoke else ((20, 50), (1, 1), 10)
    provider = OpenJTalkProvider()
    provider.render("準備", VoiceSettings())  # load the dictionary and the voice once
    settings = VoiceSettings(emotion="joy")
    with tempfile.TemporaryDirectory() as media:
        cache = RenderCache(FilesystemStorage(media))
        print(f"Open JTalk (pyopenjtalk-plus), 8 kHz μ-law WAV; median of runs; {machine()}")
        renders = {}
        for length, repeat in zip(lengths, repeats):
            text = text_of(length)
            renders[length] = timed(lambda: provider.render(text, settings), repeat=repeat)
            audio = provider.render(text, settings)
            seconds = (len(audio) - 58) / 8000
            print(f"render {length:3d} characters: {renders[length] * 1000:8.1f} ms  ({seconds:5.1f} s of audio, {renders[length] / seconds:.3f}× real time)")
            figure(f"tts.render_{length}", renders[length] * 1000, "ms")
        longest = lengths[-1]
        text = text_of(longest)
        key = cache_key(1, provider, text, settings)
        cache.ensure(key, provider, text, settings)  # the miss, rendered once
        registry = type("Registry", (), {"settings": {"ecti.secret_key": "benchmark"}})()

        def call_time_hit():  # what a call does for a rendered prompt: storage check, signed URL
            cache.ensure(key, provider, text, settings)
            _signature(registry, key, 1_800_000_000)

        hit = timed(call_time_hit, repeat=hits)
        print(f"cache hit ({longest} characters): {hit * 1000:9.3f} ms  (storage check and signed URL)")
        print(f"cache hit is {renders[longest] / hit:,.0f}× faster than rendering {longest} characters")
        figure("tts.cache_hit", hit * 1000, "ms")
        cache._executor.shutdown()


if __name__ == "__main__":
    main()
