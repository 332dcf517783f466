"""Voice settings of a prompt: their limits, the emotion presets, and the text rules (F-IVR-6).

Every provider reads the same :class:`~ecti.interfaces.VoiceSettings`:

============  ==========  =============================================================
setting       range       meaning
============  ==========  =============================================================
speed         0.5 – 2.0   speaking rate, × the voice's natural rate
pitch         −6 – +6     semitones up or down
intonation    0.0 – 2.0   抑揚: × the natural pitch movement (0 = monotone, 1 = natural)
volume        −12 – +6    dB louder or softer
emotion       see below   normal, joy 喜び, sadness 悲しみ, anger 怒り
============  ==========  =============================================================

An emotion is a *preset* applied on top of the other settings (:func:`apply_emotion`): it
multiplies the speed and intonation and adds to the pitch and volume. The presets are one table
for every provider, so a prompt sounds alike whichever provider speaks it (docs/prompts.md).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from typing import Any, Mapping

from ..errors import UserError
from ..i18n import _
from ..interfaces import VoiceSettings

MAX_TEXT_LENGTH = 500

SPEED_RANGE = (0.5, 2.0)
PITCH_RANGE = (-6.0, 6.0)
INTONATION_RANGE = (0.0, 2.0)
VOLUME_RANGE = (-12.0, 6.0)

EMOTIONS = ("normal", "joy", "sadness", "anger")
EMOTION_LABELS = {
    "normal": _("Normal"),
    "joy": _("Joy"),
    "sadness": _("Sadness"),
    "anger": _("Anger"),
}


@dataclass(frozen=True)
class EmotionPreset:
    """How an emotion changes the prosody: speed and intonation ×, pitch and volume +."""

    speed: float = 1.0
    pitch: float = 0.0
    intonation: float = 1.0
    volume: float = 0.0


#: Joy speaks a little faster, higher and livelier; sadness slower, lower, flatter and softer;
#: anger a little faster, lower, with strong accents and louder.
EMOTION_PRESETS: dict[str, EmotionPreset] = {
    "normal": EmotionPreset(),
    "joy": EmotionPreset(speed=1.1, pitch=2.0, intonation=1.4, volume=1.0),
    "sadness": EmotionPreset(speed=0.85, pitch=-2.0, intonation=0.6, volume=-3.0),
    "anger": EmotionPreset(speed=1.05, pitch=-1.0, intonation=1.5, volume=4.0),
}


def clamp(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


def apply_emotion(settings: VoiceSettings) -> VoiceSettings:
    """The settings with the emotion preset folded in (emotion becomes ``normal``).

    The result stays within each setting's range, so a provider checks its input once.
    """
    preset = EMOTION_PRESETS.get(settings.emotion, EMOTION_PRESETS["normal"])
    return replace(
        settings,
        speed=clamp(settings.speed * preset.speed, SPEED_RANGE),
        pitch=clamp(settings.pitch + preset.pitch, PITCH_RANGE),
        intonation=clamp(settings.intonation * preset.intonation, INTONATION_RANGE),
        volume=clamp(settings.volume + preset.volume, VOLUME_RANGE),
        emotion="normal",
    )


def clean_text(text: str | None) -> str:
    """The text as it is spoken: NFC-normalised, surrounding white space removed."""
    return unicodedata.normalize("NFC", text or "").strip()


def check_text(text: str | None) -> str:
    """Return the cleaned text, or raise :class:`UserError` when it is empty or too long."""
    cleaned = clean_text(text)
    if not cleaned:
        raise UserError("prompt_text_empty", _("Enter the text to be spoken."), field="text", status=422)
    if len(cleaned) > MAX_TEXT_LENGTH:
        raise UserError(
            "prompt_text_too_long",
            _("The text has ${count} characters; at most ${max} can be spoken. Shorten it or split it into two prompts.",
              mapping={"count": len(cleaned), "max": MAX_TEXT_LENGTH}),
            field="text", status=422,
        )
    return cleaned


def check_settings(settings: VoiceSettings) -> VoiceSettings:
    """Raise :class:`UserError` for a setting out of its range or an unknown emotion."""
    for field, bounds, message in (
        ("speed", SPEED_RANGE, _("Speed must be between ${low} and ${high}.")),
        ("pitch", PITCH_RANGE, _("Pitch must be between ${low} and ${high} semitones.")),
        ("intonation", INTONATION_RANGE, _("Intonation must be between ${low} and ${high}.")),
        ("volume", VOLUME_RANGE, _("Volume must be between ${low} and ${high} dB.")),
    ):
        value = getattr(settings, field)
        if not bounds[0] <= value <= bounds[1]:
            raise UserError(
                f"prompt_{field}_out_of_range",
                _(message, mapping={"low": f"{bounds[0]:g}", "high": f"{bounds[1]:g}"}),
                field=field, status=422,
            )
    if settings.emotion not in EMOTIONS:
        raise UserError("prompt_unknown_emotion", _("Choose an emotion: normal, joy, sadness or anger."), field="emotion", status=422)
    return settings


def settings_from_mapping(data: Mapping[str, Any] | None) -> VoiceSettings:
    """Voice settings from a prompt reference's ``"voice"`` dict; missing keys take defaults.

    Values that are not numbers fall back to the default: a reference is read on live calls,
    where a bad value must not stop the prompt from being spoken.
    """
    data = data or {}
    defaults = VoiceSettings()

    def number(key: str) -> float:
        try:
            return float(data.get(key, getattr(defaults, key)))
        except (TypeError, ValueError):
            return getattr(defaults, key)

    return VoiceSettings(
        voice=str(data.get("voice") or ""),
        speed=number("speed"),
        pitch=number("pitch"),
        intonation=number("intonation"),
        volume=number("volume"),
        emotion=str(data.get("emotion") or "normal"),
    )
