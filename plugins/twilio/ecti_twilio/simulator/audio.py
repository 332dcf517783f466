"""Small valid audio files standing in for recordings: silence of the right length.

WAV is 8 kHz 16-bit PCM (what Twilio serves); MP3 is a run of silent MPEG-1 Layer III frames
(32 kHz, 32 kbit/s, mono), which every decoder accepts.
"""
from __future__ import annotations

import io
import wave

_MP3_FRAME = bytes([0xFF, 0xFB, 0x18, 0xC4]) + bytes(140)  # 144-byte frame, 1152 samples
_MP3_FRAME_SECONDS = 1152 / 32000


def wav_bytes(seconds: int, channels: int = 1, rate: int = 8000) -> bytes:
    """A WAV file of ``seconds`` of silence."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(max(1, channels))
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(2 * max(1, channels) * rate * max(0, seconds)))
    return buffer.getvalue()


def mp3_bytes(seconds: int) -> bytes:
    """An MP3 stream of ``seconds`` of silence (at least one frame)."""
    frames = max(1, round(max(0, seconds) / _MP3_FRAME_SECONDS))
    return _MP3_FRAME * frames
