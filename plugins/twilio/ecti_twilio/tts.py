"""Twilio's own voices as a TTS provider: ``<Say>`` with Amazon Polly and Google ja-JP voices.

The carrier speaks the text, so nothing is rendered or stored here: :meth:`TwilioSay.render`
returns a :class:`~ecti.voice.instructions.Say`, and the TwiML renderer wraps the text in SSML
``<prosody rate pitch volume>`` made by :func:`prosody_attributes`. Emotions use ECTI's common
presets (:data:`ecti.prompts.voice.EMOTION_PRESETS`) through rate, pitch and volume; SSML has no
intonation control, so this provider accepts intonation 1.0 only. Amazon Polly's neural voices
ignore pitch (Amazon's documentation): for them pitch is left out, and a prompt asking for a
pitch change is refused when it is saved.
"""
from __future__ import annotations

from ecti.errors import UserError
from ecti.i18n import _
from ecti.interfaces import VoiceSettings
from ecti.prompts.voice import apply_emotion
from ecti.voice.instructions import Say

#: Japanese voices, the first is the default. Polly ``-Neural`` voices cannot change pitch.
VOICES = (
    ("Polly.Mizuki", _("Mizuki — Amazon Polly, female")),
    ("Polly.Takumi", _("Takumi — Amazon Polly, male")),
    ("Polly.Kazuha-Neural", _("Kazuha — Amazon Polly neural, female")),
    ("Polly.Tomoko-Neural", _("Tomoko — Amazon Polly neural, female")),
    ("Polly.Takumi-Neural", _("Takumi — Amazon Polly neural, male")),
    ("Google.ja-JP-Standard-A", _("Google Standard A, female")),
    ("Google.ja-JP-Standard-C", _("Google Standard C, male")),
    ("Google.ja-JP-Wavenet-B", _("Google WaveNet B, female")),
    ("Google.ja-JP-Wavenet-D", _("Google WaveNet D, male")),
    ("Google.ja-JP-Neural2-B", _("Google Neural2 B, female")),
    ("Google.ja-JP-Neural2-C", _("Google Neural2 C, male")),
)
VOICE_NAMES = frozenset(name for name, _label in VOICES)
DEFAULT_VOICE = VOICES[0][0]


def supports_pitch(voice: str) -> bool:
    return not (voice.startswith("Polly.") and voice.endswith("-Neural"))


def prosody_attributes(voice: str, settings: VoiceSettings | None) -> dict[str, str]:
    """SSML ``<prosody>`` attributes for ``settings`` (emotion preset included) on ``voice``.

    Empty when the settings change nothing. Rate in percent of normal, pitch in percent
    (2^(semitones/12)), volume in dB, as Twilio passes them to Polly and Google.
    """
    if settings is None:
        return {}
    effective = apply_emotion(settings)
    attributes = {}
    if round(effective.speed * 100) != 100:
        attributes["rate"] = f"{round(effective.speed * 100)}%"
    pitch_percent = round((2 ** (effective.pitch / 12) - 1) * 100)
    if pitch_percent and supports_pitch(voice):
        attributes["pitch"] = f"{pitch_percent:+d}%"
    if round(effective.volume, 1):
        attributes["volume"] = f"{round(effective.volume, 1):+g}dB"
    return attributes


class TwilioSay:
    """The carrier's voices (F-IVR-6 over Twilio ``<Say>``)."""

    name = "twilio"
    label = _("Twilio voice (Amazon Polly / Google)")
    output = "carrier"
    voices = VOICES

    def validate(self, text: str, settings: VoiceSettings) -> None:
        voice = settings.voice or DEFAULT_VOICE
        if voice not in VOICE_NAMES:
            raise UserError("tts_unknown_voice", _("Twilio has no Japanese voice “${voice}”. Choose one from the list.", mapping={"voice": voice}), field="voice", status=422)
        if settings.intonation != 1.0:
            raise UserError(
                "tts_intonation_unsupported",
                _("Twilio voices cannot change the intonation: set it to 1.0, or choose Open JTalk, which can."),
                field="intonation", status=422,
            )
        if settings.pitch and not supports_pitch(voice):
            raise UserError(
                "tts_pitch_unsupported",
                _("Amazon Polly neural voices cannot change the pitch: set it to 0 or choose another voice."),
                field="pitch", status=422,
            )

    def render(self, text: str, settings: VoiceSettings) -> Say:
        return Say(text, language="ja-JP", voice=settings.voice or DEFAULT_VOICE, settings=settings)
