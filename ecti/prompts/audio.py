"""Uploaded audio: recognised from its content, measured, and made playable in a browser.

The carrier plays exactly the types of F-IVR-8 (audio/mpeg, audio/wav, audio/wave, audio/x-wav,
audio/aiff, audio/x-aifc, audio/x-aiff, audio/x-gsm, audio/gsm, audio/ulaw). A file's type is
decided by its bytes (the RIFF/FORM/ID3/frame headers), never by its name or by what the
browser claims; a name or claim that contradicts the content is refused, as are files that are
damaged, empty, 30 MB or larger, or in a codec the carrier cannot play. Every refusal is a
:class:`~ecti.errors.UserError` whose message says what is wrong and what to do.

Headerless μ-law (``.ulaw``/``.ul``) has no magic bytes: it is accepted only when it is named or
declared as μ-law and is not some other recognisable file (text included). A Sun ``.au`` file
holding 8 kHz mono μ-law is recognised by its header and stored as those same μ-law samples.
"""
from __future__ import annotations

import array
import io
import math
import struct
import sys
import wave
from dataclasses import dataclass, field

from ..errors import UserError
from ..i18n import _

MAX_UPLOAD_BYTES = 30 * 1024 * 1024  # "under 30 MB" (F-IVR-8), in MiB

#: The F-IVR-8 list, each type with the family of formats it names.
ACCEPTED_TYPES = {
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "audio/wave": "wav",
    "audio/x-wav": "wav",
    "audio/aiff": "aiff",
    "audio/x-aifc": "aiff",
    "audio/x-aiff": "aiff",
    "audio/x-gsm": "gsm",
    "audio/gsm": "gsm",
    "audio/ulaw": "ulaw",
}
#: What browsers send for the same files (compared with the content like the list above).
_BROWSER_TYPES = {"audio/mp3": "mp3", "audio/x-mpeg": "mp3", "audio/vnd.wave": "wav", "audio/basic": "ulaw", "audio/x-ulaw": "ulaw"}
_EXTENSIONS = {
    "mp3": "mp3", "wav": "wav", "wave": "wav", "aif": "aiff", "aiff": "aiff", "aifc": "aiff",
    "gsm": "gsm", "ulaw": "ulaw", "ul": "ulaw", "mulaw": "ulaw", "au": "ulaw", "snd": "ulaw",
}
FAMILY_NAMES = {"mp3": "MP3", "wav": "WAV", "aiff": "AIFF", "gsm": "GSM", "ulaw": "μ-law"}

#: Human names of codecs (stored in ``Prompt.codec``).
CODEC_NAMES = {
    "mp3": "MP3", "pcm_u8": "PCM 8-bit", "pcm_s16le": "PCM 16-bit", "pcm_s16be": "PCM 16-bit",
    "pcm_s24le": "PCM 24-bit", "pcm_s24be": "PCM 24-bit", "pcm_s32le": "PCM 32-bit", "pcm_s32be": "PCM 32-bit",
    "pcm_s8": "PCM 8-bit", "pcm_f32le": "float 32-bit", "pcm_f32be": "float 32-bit", "pcm_f64le": "float 64-bit",
    "mulaw": "μ-law", "alaw": "A-law", "gsm": "GSM 6.10",
}


@dataclass(frozen=True)
class AudioInfo:
    """What an audio file is: its canonical type, codec, and length."""

    content_type: str  # one of ACCEPTED_TYPES, canonical per family
    extension: str  # of the stored file
    codec: str
    sample_rate: int
    channels: int
    duration_ms: int
    data_offset: int = 0  # where the samples are (for conversion)
    data_length: int = 0
    #: The bytes to store: the upload itself, or its μ-law samples for an ``.au`` file.
    stored: bytes = field(default=b"", repr=False)

    @property
    def family(self) -> str:
        return ACCEPTED_TYPES[self.content_type]

    def describe(self) -> str:
        """``WAV · μ-law · 8000 Hz · mono``-style summary (numbers and codec names only)."""
        channels = {1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels} ch")
        return f"{FAMILY_NAMES[self.family]} · {CODEC_NAMES.get(self.codec, self.codec)} · {self.sample_rate} Hz · {channels}"


def _refuse(code: str, message, **mapping) -> UserError:
    """A refusal of the uploaded file; ``mapping`` fills the message's ``${placeholders}``."""
    return UserError(code, _(message, mapping=mapping) if mapping else message, field="file", status=422)


def identify_audio(data: bytes, filename: str = "", claimed_type: str = "") -> AudioInfo:
    """Recognise ``data`` as one of the accepted audio types, or raise :class:`UserError`.

    ``filename`` and ``claimed_type`` (what the browser said) decide nothing; they are only
    compared with the content, so a mislabelled file is refused with both names in the message.
    """
    if not data:
        raise _refuse("audio_empty", _("The file is empty."))
    if len(data) >= MAX_UPLOAD_BYTES:
        raise _refuse(
            "audio_too_large", _("The file is ${size} MB; audio files must be under 30 MB. Shorten it or save it as μ-law 8 kHz, which is much smaller."),
            size=f"{len(data) / 1024 / 1024:.1f}",
        )
    info = _detect(data, filename, claimed_type)
    for claim, family in _claims(filename, claimed_type):
        if family != info.family:
            raise _refuse(
                "audio_mislabelled", _("“${claim}” says ${claimed} but the file contains ${actual} audio. Rename it or export it again in the format its name says."),
                claim=claim, claimed=FAMILY_NAMES[family], actual=FAMILY_NAMES[info.family],
            )
    if info.duration_ms <= 0:
        raise _refuse("audio_silent", _("The file contains no audio (its length is 0 seconds)."))
    return info


def _claims(filename: str, claimed_type: str) -> list[tuple[str, str]]:
    claims = []
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension in _EXTENSIONS:
        claims.append((filename, _EXTENSIONS[extension]))
    claimed_type = (claimed_type or "").split(";")[0].strip().lower()
    family = ACCEPTED_TYPES.get(claimed_type) or _BROWSER_TYPES.get(claimed_type)
    if family:
        claims.append((claimed_type, family))
    return claims


def _detect(data: bytes, filename: str, claimed_type: str) -> AudioInfo:
    head = data[:16]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return _wav(data)
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return _aiff(data)
    if head[:4] == b".snd":
        return _au(data)
    if head[:3] == b"ID3" or _mpeg_header(data, 0) is not None:
        return _mp3(data)
    if len(data) >= 66 and len(data) % 33 == 0 and all(b >> 4 == 0xD for b in data[::33]):
        return AudioInfo("audio/x-gsm", "gsm", "gsm", 8000, 1, len(data) // 33 * 20, 0, len(data), data)
    other = _other_format(head)
    if other is not None:
        raise _refuse(
            "audio_unsupported_type", _("This is a ${kind} file, not audio the carrier can play. Upload MP3, WAV, AIFF, GSM or μ-law (8 kHz μ-law WAV is recommended)."),
            kind=other,
        )
    if any(family == "ulaw" for _claim, family in _claims(filename, claimed_type)) and not _is_text(data):
        return AudioInfo("audio/ulaw", "ulaw", "mulaw", 8000, 1, len(data) // 8, 0, len(data), data)
    raise _refuse(
        "audio_unrecognised", _("The content of this file is not audio of an accepted type (MP3, WAV, AIFF, GSM or μ-law), whatever its name says. Export it again from your audio editor."),
    )


def _other_format(head: bytes) -> str | None:
    """Name files people upload by mistake, so the message says what the file really is."""
    signatures = (
        (b"\x89PNG", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF8", "GIF"), (b"%PDF", "PDF"), (b"PK\x03\x04", "ZIP/Office"),
        (b"OggS", "Ogg"), (b"fLaC", "FLAC"), (b"\x1aE\xdf\xa3", "WebM/Matroska"), (b"caff", "CAF"), (b"#!AMR", "AMR"),
    )
    for magic, name in signatures:
        if head.startswith(magic):
            return name
    if head[4:8] == b"ftyp":
        return "MP4/M4A"
    return None


def _is_text(data: bytes) -> bool:
    sample = data[:4096]
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- WAV --------------------------------------------------------------------------------------

_WAV_CODECS = {1: "pcm", 3: "float", 6: "alaw", 7: "mulaw", 0x31: "gsm"}
_WAV_CODEC_NAMES = {2: "Microsoft ADPCM", 0x11: "IMA ADPCM", 0x55: "MP3", 0x50: "MPEG", 0x40: "G.721 ADPCM", 0x22: "TrueSpeech"}


def _chunks(data: bytes, start: int, big_endian: bool):
    """Yield (id, payload offset, payload size) of the IFF/RIFF chunks from ``start``."""
    fmt = ">4sI" if big_endian else "<4sI"
    offset = start
    while offset + 8 <= len(data):
        chunk_id, size = struct.unpack_from(fmt, data, offset)
        yield chunk_id, offset + 8, size
        offset += 8 + size + (size & 1)


def _wav(data: bytes) -> AudioInfo:
    fmt = None
    fact_samples = None
    for chunk_id, offset, size in _chunks(data, 12, False):
        if chunk_id == b"fmt ":
            if size < 16 or offset + size > len(data):
                raise _refuse("audio_corrupt", _("The WAV file is damaged: its format header is incomplete."))
            fmt = struct.unpack_from("<HHIIHH", data, offset)
            if fmt[0] == 0xFFFE and size >= 40:  # WAVE_FORMAT_EXTENSIBLE: the codec is in the sub-format
                fmt = (struct.unpack_from("<H", data, offset + 24)[0],) + fmt[1:]
        elif chunk_id == b"fact" and size >= 4 and offset + 4 <= len(data):
            fact_samples = struct.unpack_from("<I", data, offset)[0]
        elif chunk_id == b"data":
            if fmt is None:
                raise _refuse("audio_corrupt", _("The WAV file is damaged: its audio comes before its format header."))
            available = len(data) - offset
            if size > available:
                raise _refuse(
                    "audio_truncated", _("The WAV file is cut short: it announces ${expected} bytes of audio but holds ${actual}. Upload the complete file."),
                    expected=size, actual=available,
                )
            return _wav_info(data, fmt, fact_samples, offset, size)
    if fmt is None:
        raise _refuse("audio_corrupt", _("The WAV file is damaged: it has no format header."))
    raise _refuse("audio_corrupt", _("The WAV file is damaged: it has no audio data."))


def _wav_info(data: bytes, fmt, fact_samples, offset: int, size: int) -> AudioInfo:
    tag, channels, rate, _byte_rate, block_align, bits = fmt
    kind = _WAV_CODECS.get(tag)
    if kind is None:
        raise _refuse(
            "audio_codec_unsupported", _("This WAV file is encoded as ${codec}, which the carrier cannot play. Save it as PCM or μ-law WAV."),
            codec=_WAV_CODEC_NAMES.get(tag, f"0x{tag:04x}"),
        )
    _check_stream(channels, rate)
    if kind == "pcm" and bits in (8, 16, 24, 32):
        codec = "pcm_u8" if bits == 8 else f"pcm_s{bits}le"
    elif kind == "float" and bits in (32, 64):
        codec = f"pcm_f{bits}le"
    elif kind in ("alaw", "mulaw") and bits == 8:
        codec = kind
    elif kind == "gsm":
        codec = "gsm"
    else:
        raise _refuse("audio_corrupt", _("The WAV file is damaged: ${bits}-bit samples do not fit its codec."), bits=bits)
    if codec == "gsm":
        samples = fact_samples if fact_samples else size // 65 * 320
    else:
        if block_align != channels * bits // 8:
            raise _refuse("audio_corrupt", _("The WAV file is damaged: its block size does not match its channels and sample size."))
        samples = size // block_align
    return AudioInfo("audio/wav", "wav", codec, rate, channels, samples * 1000 // rate, offset, size, data)


def _check_stream(channels: int, rate: int) -> None:
    if not 1 <= channels <= 8 or not 1000 <= rate <= 192000:
        raise _refuse(
            "audio_corrupt", _("The file is damaged: ${channels} channels at ${rate} Hz is not a real recording."), channels=channels, rate=rate,
        )


# --- AIFF / AIFF-C ----------------------------------------------------------------------------

_AIFC_CODECS = {b"NONE": "pcm_be", b"twos": "pcm_be", b"sowt": "pcm_le", b"ulaw": "mulaw", b"ULAW": "mulaw",
                b"alaw": "alaw", b"ALAW": "alaw", b"fl32": "pcm_f32be", b"FL32": "pcm_f32be", b"GSM ": "gsm"}


def _extended(raw: bytes) -> float:
    """An IEEE 754 80-bit extended float (the AIFF sample rate)."""
    exponent, mantissa = struct.unpack(">HQ", raw)
    if exponent == 0 and mantissa == 0:
        return 0.0
    sign = -1 if exponent & 0x8000 else 1
    return sign * mantissa * 2.0 ** ((exponent & 0x7FFF) - 16383 - 63)


def _aiff(data: bytes) -> AudioInfo:
    aifc = data[8:12] == b"AIFC"
    comm = None
    sound = None
    for chunk_id, offset, size in _chunks(data, 12, True):
        if chunk_id == b"COMM":
            if size < 18 or offset + 18 > len(data):
                raise _refuse("audio_corrupt", _("The AIFF file is damaged: its format header is incomplete."))
            channels, frames, bits = struct.unpack_from(">hIh", data, offset)
            rate = _extended(data[offset + 8:offset + 18])
            compression = data[offset + 18:offset + 22] if aifc and size >= 22 else b"NONE"
            comm = (channels, frames, bits, rate, compression)
        elif chunk_id == b"SSND":
            if offset + 8 > len(data):
                raise _refuse("audio_corrupt", _("The AIFF file is damaged: its sound data header is incomplete."))
            start = offset + 8 + struct.unpack_from(">I", data, offset)[0]
            sound = (start, min(offset + size, len(data)) - start)
    if comm is None:
        raise _refuse("audio_corrupt", _("The AIFF file is damaged: it has no format header."))
    if sound is None:
        raise _refuse("audio_corrupt", _("The AIFF file is damaged: it has no sound data."))
    channels, frames, bits, rate, compression = comm
    rate_int = int(round(rate)) if math.isfinite(rate) else 0
    _check_stream(channels, rate_int)
    kind = _AIFC_CODECS.get(compression)
    if kind is None:
        raise _refuse(
            "audio_codec_unsupported", _("This AIFF-C file is compressed as “${codec}”, which the carrier cannot play. Save it as uncompressed AIFF or μ-law."),
            codec=compression.decode("latin-1").strip(),
        )
    if kind in ("pcm_be", "pcm_le"):
        if bits not in (8, 16, 24, 32):
            raise _refuse("audio_corrupt", _("The file is damaged: ${bits}-bit samples do not fit its codec."), bits=bits)
        codec = "pcm_s8" if bits == 8 else f"pcm_s{bits}{kind[-2:]}"
        needed = frames * channels * (bits // 8)
    elif kind == "gsm":
        codec, needed = kind, frames // 160 * 33
    else:
        codec = kind
        needed = frames * channels * (4 if kind == "pcm_f32be" else 1)
    start, length = sound
    if length < needed:
        raise _refuse(
            "audio_truncated", _("The AIFF file is cut short: it announces ${expected} bytes of audio but holds ${actual}. Upload the complete file."),
            expected=needed, actual=max(length, 0),
        )
    content_type, extension = ("audio/x-aifc", "aifc") if aifc else ("audio/aiff", "aiff")
    return AudioInfo(content_type, extension, codec, rate_int, channels, int(frames * 1000 / rate), start, needed, data)


# --- Sun .au (μ-law) --------------------------------------------------------------------------

def _au(data: bytes) -> AudioInfo:
    if len(data) < 24:
        raise _refuse("audio_corrupt", _("The .au file is damaged: its header is incomplete."))
    header_size, size, encoding, rate, channels = struct.unpack_from(">IIIII", data, 4)
    if encoding != 1:
        raise _refuse("audio_codec_unsupported", _("This .au file is not μ-law audio. Save it as μ-law (8 kHz, mono) or as WAV."))
    if rate != 8000 or channels != 1:
        raise _refuse(
            "audio_ulaw_rate", _("μ-law audio must be 8000 Hz mono; this file is ${rate} Hz with ${channels} channels. Save it as WAV instead."),
            rate=rate, channels=channels,
        )
    samples = data[header_size:] if size == 0xFFFFFFFF else data[header_size:header_size + size]
    if header_size < 24 or (size != 0xFFFFFFFF and len(samples) < size):
        raise _refuse("audio_truncated", _("The .au file is cut short. Upload the complete file."))
    return AudioInfo("audio/ulaw", "ulaw", "mulaw", 8000, 1, len(samples) // 8, 0, len(samples), samples)


# --- MP3 --------------------------------------------------------------------------------------

_BITRATES = {  # kbit/s by (MPEG-1?, layer)
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_BITRATES[(False, 3)] = _BITRATES[(False, 2)]
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mpeg_header(data: bytes, offset: int):
    """(layer, frame length, samples, sample rate, channels) of the frame at ``offset``, or None."""
    if offset + 4 > len(data):
        return None
    b1, b2, b3 = data[offset + 1], data[offset + 2], data[offset + 3]
    if data[offset] != 0xFF or b1 & 0xE0 != 0xE0:
        return None
    version, layer_bits = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index, padding = b2 >> 4, (b2 >> 2) & 3, (b2 >> 1) & 1
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    layer = 4 - layer_bits
    mpeg1 = version == 3
    bitrate = _BITRATES[(mpeg1, layer)][bitrate_index] * 1000
    rate = _RATES[version][rate_index]
    if layer == 1:
        length, samples = (12 * bitrate // rate + padding) * 4, 384
    elif layer == 2 or mpeg1:
        length, samples = 144 * bitrate // rate + padding, 1152
    else:
        length, samples = 72 * bitrate // rate + padding, 576
    return layer, length, samples, rate, 1 if b3 >> 6 == 3 else 2


def _mp3(data: bytes) -> AudioInfo:
    offset = 0
    if data[:3] == b"ID3":
        if len(data) < 10:
            raise _refuse("audio_corrupt", _("The MP3 file is damaged: its tag header is incomplete."))
        tag_size = 0
        for byte in data[6:10]:
            tag_size = (tag_size << 7) | (byte & 0x7F)
        offset = 10 + tag_size + (10 if data[5] & 0x10 else 0)
    first = _mpeg_header(data, offset)
    if first is None:
        raise _refuse("audio_corrupt", _("The MP3 file is damaged: no audio frame follows its tag."))
    layer, _length, _samples, rate, channels = first
    if layer != 3:
        raise _refuse(
            "audio_codec_unsupported", _("This is MPEG layer ${layer} audio, which the carrier cannot play. Export it as MP3 (layer III)."), layer="I" * layer,
        )
    frames = samples = 0
    start = offset
    end = len(data) - (128 if data[-128:-125] == b"TAG" else 0)
    while offset < end:
        header = _mpeg_header(data, offset)
        if header is None or header[3] != rate:
            break
        frames += 1
        samples += header[2]
        offset += header[1]
    if frames < 2:
        raise _refuse("audio_corrupt", _("The MP3 file is damaged: it holds less than two audio frames."))
    if end - min(offset, end) > max(4096, (end - start) // 100):
        raise _refuse(
            "audio_corrupt", _("The MP3 file is damaged after ${seconds} seconds of audio. Export it again."),
            seconds=f"{samples / rate:.1f}",
        )
    return AudioInfo("audio/mpeg", "mp3", "mp3", rate, channels, samples * 1000 // rate, start, min(offset, end) - start, data)


# --- decoding for the browser -----------------------------------------------------------------

def _ulaw_table() -> list[int]:
    table = []
    for byte in range(256):
        u = ~byte & 0xFF
        magnitude = ((u & 0x0F) << 3 | 0x84) << ((u >> 4) & 7)
        table.append(0x84 - magnitude if u & 0x80 else magnitude - 0x84)
    return table


def _alaw_table() -> list[int]:
    table = []
    for byte in range(256):
        a = byte ^ 0x55
        exponent, mantissa = (a >> 4) & 7, a & 0x0F
        magnitude = (mantissa << 4) + 8 if exponent == 0 else ((mantissa << 4) + 0x108) << (exponent - 1)
        table.append(magnitude if a & 0x80 else -magnitude)
    return table


ULAW_TO_LINEAR = _ulaw_table()
ALAW_TO_LINEAR = _alaw_table()


def _to_pcm16(raw: bytes, codec: str) -> array.array | None:
    """Samples as native 16-bit integers, or None for codecs a browser cannot get (GSM)."""
    if codec == "mulaw":
        return array.array("h", map(ULAW_TO_LINEAR.__getitem__, raw))
    if codec == "alaw":
        return array.array("h", map(ALAW_TO_LINEAR.__getitem__, raw))
    if codec in ("pcm_s16le", "pcm_s16be"):
        samples = array.array("h", raw[: len(raw) // 2 * 2])
        if (codec == "pcm_s16be") == (sys.byteorder == "little"):
            samples.byteswap()
        return samples
    if codec in ("pcm_s24le", "pcm_s24be", "pcm_s32le", "pcm_s32be"):
        width = int(codec[5:7]) // 8
        top = slice(width - 2, width) if codec.endswith("le") else slice(0, 2)
        swapped = b"".join(raw[i:i + width][top] for i in range(0, len(raw) - width + 1, width))
        return _to_pcm16(swapped, "pcm_s16le" if codec.endswith("le") else "pcm_s16be")
    if codec in ("pcm_u8", "pcm_s8"):
        offset = 128 if codec == "pcm_u8" else 0
        return array.array("h", (((b - offset + 128) % 256 - 128) << 8 for b in raw))
    if codec == "pcm_f32be":
        floats = array.array("f", raw[: len(raw) // 4 * 4])
        if sys.byteorder == "little":
            floats.byteswap()
        return array.array("h", (int(max(-1.0, min(1.0, f)) * 32767) for f in floats))
    return None


def pcm16_wav(samples: array.array, rate: int, channels: int = 1) -> bytes:
    """A 16-bit PCM WAV file of native-order ``samples``."""
    if sys.byteorder != "little":
        samples = array.array("h", samples)
        samples.byteswap()
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    return out.getvalue()


def browser_audio(data: bytes) -> tuple[bytes, str] | None:
    """``data`` (stored prompt audio) in a form every browser's ``<audio>`` plays, with its type.

    MP3 and PCM/float WAV are played as they are; μ-law, A-law and AIFF are decoded to 16-bit
    WAV. GSM cannot be played in a browser: None.
    """
    info = _detect(data, "", "audio/ulaw")  # stored files were recognised before; raw μ-law is .ulaw
    if info.content_type == "audio/mpeg":
        return data, "audio/mpeg"
    if info.content_type == "audio/wav" and info.codec.startswith("pcm_"):
        return data, "audio/wav"
    samples = _to_pcm16(data[info.data_offset:info.data_offset + info.data_length], info.codec)
    if samples is None:
        return None
    return pcm16_wav(samples, info.sample_rate, info.channels), "audio/wav"
