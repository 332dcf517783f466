"""Open JTalk: text → full-context labels (pyopenjtalk) → waveform (HTS Engine API).

pyopenjtalk's Python wrapper exposes speed and pitch but not the weight of the global variance
of log F0 — Open JTalk's ``-jf`` option, the knob Japanese TTS tools call 抑揚 (intonation): 0
flattens the pitch movement, 1 is the voice as trained, 2 exaggerates it. pyopenjtalk-plus
links the HTS Engine API (1.10) into its ``htsengine`` extension and exports its C functions,
so this module drives that documented C API directly through ctypes, with its own engine and
the voice pyopenjtalk ships. Nothing is downloaded: the dictionary and voice are in the wheel.

One engine per process, used under a lock (HTS Engine is not thread-safe); a synthesis of a
sentence takes a fraction of a second and the results are cached by ECTI.
"""
from __future__ import annotations

import contextlib
import ctypes
import io
import threading
from pathlib import Path

import numpy as np

#: Generous room for ``HTS_Engine`` (a few hundred bytes in HTS Engine API 1.10).
_ENGINE_BYTES = 1 << 16
#: Stream index of log F0 in the Open JTalk voices.
_LF0_STREAM = 1
#: Where the voice leaves the sample range to the volume setting: −6 dB below the raw level.
BASE_GAIN_DB = -6.0


class EngineUnavailable(RuntimeError):
    """Open JTalk cannot run here (pyopenjtalk-plus missing or its engine not loadable)."""


def _import_pyopenjtalk():
    try:
        # pyopenjtalk-plus prints a notice about an optional ONNX model on import; ECTI does
        # not use that model, and the notice would land in the CLI's output.
        with contextlib.redirect_stdout(io.StringIO()):
            import pyopenjtalk
            from pyopenjtalk import htsengine
    except ImportError as exc:
        raise EngineUnavailable(f"pyopenjtalk-plus is not installed ({exc})") from exc
    return pyopenjtalk, htsengine


def _bind(lib, name: str, restype, *argtypes):
    function = getattr(lib, name)
    function.restype = restype
    function.argtypes = list(argtypes)
    return function


class HTSEngine:
    """An HTS Engine with the Open JTalk voice ``voice_path``, through the HTS Engine C API."""

    def __init__(self, library_path: str, voice_path: str):
        try:
            lib = ctypes.CDLL(library_path)
            libc = ctypes.CDLL(None)
            e, size, double, char_pp = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_double, ctypes.POINTER(ctypes.c_char_p)
            self._initialize = _bind(lib, "HTS_Engine_initialize", None, e)
            self._load = _bind(lib, "HTS_Engine_load", ctypes.c_char, e, char_pp, size)
            self._set_speed = _bind(lib, "HTS_Engine_set_speed", None, e, double)
            self._add_half_tone = _bind(lib, "HTS_Engine_add_half_tone", None, e, double)
            self._set_gv_weight = _bind(lib, "HTS_Engine_set_gv_weight", None, e, size, double)
            self._set_volume = _bind(lib, "HTS_Engine_set_volume", None, e, double)
            self._sampling_frequency = _bind(lib, "HTS_Engine_get_sampling_frequency", size, e)
            self._synthesize = _bind(lib, "HTS_Engine_synthesize_from_strings", ctypes.c_char, e, char_pp, size)
            self._save_speech = _bind(lib, "HTS_Engine_save_generated_speech", None, e, ctypes.c_void_p)
            self._refresh = _bind(lib, "HTS_Engine_refresh", None, e)
            self._open_memstream = _bind(libc, "open_memstream", ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(size))
            self._fclose = _bind(libc, "fclose", ctypes.c_int, ctypes.c_void_p)
            self._free = _bind(libc, "free", None, ctypes.c_void_p)
        except (OSError, AttributeError) as exc:
            raise EngineUnavailable(f"the HTS Engine of pyopenjtalk-plus cannot be used ({exc})") from exc
        self._memory = ctypes.create_string_buffer(_ENGINE_BYTES)
        self._engine = ctypes.cast(self._memory, ctypes.c_void_p)
        self._initialize(self._engine)
        voices = (ctypes.c_char_p * 1)(voice_path.encode())
        if self._load(self._engine, voices, 1) != b"\x01":
            raise EngineUnavailable(f"the voice {voice_path} cannot be loaded")
        self.sample_rate = int(self._sampling_frequency(self._engine))

    def synthesize(self, labels: list[str], *, speed: float, half_tone: float, intonation: float, volume_db: float) -> np.ndarray:
        """16-bit samples at :attr:`sample_rate` for ``labels`` (the engine clips to 16 bits)."""
        self._set_speed(self._engine, speed)
        self._add_half_tone(self._engine, half_tone)
        self._set_gv_weight(self._engine, _LF0_STREAM, intonation)
        self._set_volume(self._engine, BASE_GAIN_DB + volume_db)
        lines = (ctypes.c_char_p * len(labels))(*(label.encode("utf-8") for label in labels))
        try:
            if self._synthesize(self._engine, lines, len(labels)) != b"\x01":
                raise RuntimeError("HTS Engine could not synthesise these labels")
            buffer, length = ctypes.c_void_p(), ctypes.c_size_t()
            stream = self._open_memstream(ctypes.byref(buffer), ctypes.byref(length))
            if not stream:
                raise MemoryError("open_memstream failed")
            self._save_speech(self._engine, stream)
            self._fclose(stream)
            try:
                return np.frombuffer(ctypes.string_at(buffer, length.value), dtype="<i2").copy()
            finally:
                self._free(buffer)
        finally:
            self._refresh(self._engine)


class OpenJTalk:
    """Japanese text to 16-bit samples, with speed, pitch, intonation and volume."""

    def __init__(self):
        self._lock = threading.Lock()
        self._engine: HTSEngine | None = None
        self._pyopenjtalk = None

    @property
    def version(self) -> str:
        self._load()
        return str(getattr(self._pyopenjtalk, "__version__", "unknown"))

    def _load(self) -> HTSEngine:
        if self._engine is None:
            pyopenjtalk, htsengine = _import_pyopenjtalk()
            voice = Path(pyopenjtalk.__file__).parent / "htsvoice" / "mei_normal.htsvoice"
            self._engine = HTSEngine(htsengine.__file__, str(voice))
            self._pyopenjtalk = pyopenjtalk
        return self._engine

    def check(self) -> None:
        """Raise :class:`EngineUnavailable` when Open JTalk cannot run here."""
        with self._lock:
            self._load()

    def labels(self, text: str) -> list[str]:
        """Open JTalk's full-context labels for ``text`` (pauses included)."""
        with self._lock:
            self._load()
            return list(self._pyopenjtalk.extract_fullcontext(text, predict_nani=False))

    def synthesize(self, text: str, *, speed: float, half_tone: float, intonation: float, volume_db: float) -> tuple[np.ndarray, int]:
        """``(samples, sample rate)`` of ``text`` spoken with these settings."""
        with self._lock:
            engine = self._load()
            labels = self._pyopenjtalk.extract_fullcontext(text, predict_nani=False)
            samples = engine.synthesize(labels, speed=speed, half_tone=half_tone, intonation=intonation, volume_db=volume_db)
            return samples, engine.sample_rate


def speakable(labels: list[str]) -> bool:
    """Whether the labels hold any phoneme besides silence and pauses."""
    return any(label.split("-", 1)[-1].split("+", 1)[0] not in ("sil", "pau") for label in labels)
