"""Telephone quality: 8 kHz, G.711 μ-law, in a WAV file (what the phone network carries)."""
from __future__ import annotations

import struct

import numpy as np

TELEPHONE_RATE = 8000
_BIAS = 0x84
_CLIP = 32635
#: exponent of the μ-law segment for (biased magnitude >> 7): floor(log2(n)), 0 for 0.
_EXPONENTS = np.array([0] + [int(np.log2(n)) for n in range(1, 256)], dtype=np.int32)


def _lowpass(rate: int, cutoff: float, taps: int = 121) -> np.ndarray:
    """A windowed-sinc low-pass filter (Blackman window), unity gain at 0 Hz."""
    n = np.arange(taps) - (taps - 1) / 2
    kernel = np.sinc(2 * cutoff / rate * n) * np.blackman(taps)
    return kernel / kernel.sum()


def to_telephone_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """Resample 16-bit ``samples`` to 8 kHz: low-pass below 3.6 kHz, then keep every n-th sample.

    Only the kept outputs are computed (a polyphase decimator), so a minute of 48 kHz speech
    takes milliseconds.
    """
    if rate % TELEPHONE_RATE:
        raise ValueError(f"cannot resample {rate} Hz to 8 kHz by an integer factor")
    factor = rate // TELEPHONE_RATE
    signal = samples.astype(np.float64)
    if factor == 1:
        return samples.astype(np.int16)
    kernel = _lowpass(rate, 3600.0)
    padded = np.concatenate([np.zeros(len(kernel) // 2), signal, np.zeros(len(kernel) // 2)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, len(kernel))[::factor]
    filtered = windows @ kernel[::-1]
    return np.clip(np.rint(filtered), -32768, 32767).astype(np.int16)


def mulaw_encode(samples: np.ndarray) -> bytes:
    """G.711 μ-law bytes of 16-bit ``samples`` (the classic biased-segment encoder)."""
    x = samples.astype(np.int32)
    sign = np.where(x < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(x), _CLIP) + _BIAS
    exponent = _EXPONENTS[(magnitude >> 7) & 0xFF]
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def mulaw_wav(samples: np.ndarray) -> bytes:
    """An 8 kHz mono μ-law WAV file (format tag 7, with the ``fact`` chunk non-PCM WAV needs)."""
    data = mulaw_encode(samples)
    fmt = struct.pack("<HHIIHHH", 7, 1, TELEPHONE_RATE, TELEPHONE_RATE, 1, 8, 0)
    fact = struct.pack("<I", len(data))
    pad = b"\0" if len(data) % 2 else b""
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" + struct.pack("<I", 4) + fact + b"data" + struct.pack("<I", len(data)) + data + pad
    return b"RIFF" + struct.pack("<I", len(body)) + body
