"""Open JTalk as an ECTI TTS provider (``openjtalk``): audio rendered on this server."""
from __future__ import annotations

import logging

from ecti.errors import UserError
from ecti.i18n import _
from ecti.interfaces import VoiceSettings
from ecti.prompts.voice import apply_emotion

from .engine import EngineUnavailable, OpenJTalk, speakable
from .telephone import mulaw_wav, to_telephone_rate

log = logging.getLogger(__name__)

#: Bumped when the rendering changes, so cached audio is rendered again.
RENDERING_VERSION = "1"


class OpenJTalkProvider:
    """Japanese speech synthesised locally (offline) and played as 8 kHz μ-law WAV.

    Speed, pitch (semitones) and volume (dB) map to the engine's own settings; intonation is
    the weight of the log F0 global variance (Open JTalk's ``-jf``: 0 monotone, 1 natural,
    2 lively). Emotions are ECTI's common presets applied on top.
    """

    name = "openjtalk"
    label = _("Open JTalk (on this server)")
    output = "audio"
    voices = (("mei_normal", _("Mei — calm female voice")),)

    def __init__(self, engine: OpenJTalk | None = None):
        self.engine = engine or OpenJTalk()

    @property
    def version(self) -> str:
        return f"{RENDERING_VERSION}/{self.engine.version}"

    def validate(self, text: str, settings: VoiceSettings) -> None:
        if settings.voice and settings.voice not in dict(self.voices):
            raise UserError("tts_unknown_voice", _("Open JTalk has no voice “${voice}”. Choose one from the list.", mapping={"voice": settings.voice}), field="voice", status=422)
        try:
            labels = self.engine.labels(text)
        except EngineUnavailable as exc:
            log.error("Open JTalk is unavailable: %s", exc)
            raise UserError(
                "openjtalk_unavailable",
                _("Open JTalk does not work on this server (${error}). Ask your operator to reinstall ecti-openjtalk, or choose another voice provider.", mapping={"error": str(exc)}),
                field="provider", status=422,
            ) from exc
        if not speakable(labels):
            raise UserError("openjtalk_nothing_to_read", _("Open JTalk finds nothing to read aloud in this text. Write it in Japanese words."), field="text", status=422)

    def render(self, text: str, settings: VoiceSettings) -> bytes:
        effective = apply_emotion(settings)
        samples, rate = self.engine.synthesize(
            text, speed=effective.speed, half_tone=effective.pitch, intonation=effective.intonation, volume_db=effective.volume,
        )
        return mulaw_wav(to_telephone_rate(samples, rate))
