"""Turning text and voice settings into something the carrier plays, through TTS providers.

A provider declares its ``output``:

* ``"carrier"`` — ``render`` returns a :class:`~ecti.voice.instructions.Say` (or plain text)
  that the carrier speaks with its own voice (the Twilio plugin's Polly/Google voices);
* ``"audio"`` — ``render`` returns the bytes of an audio file in one of the accepted types (the
  Open JTalk plugin's 8 kHz μ-law WAV). The audio is rendered once, stored in media storage
  under a hash of provider, provider version, text and settings (:func:`cache_key`), and
  played from a signed URL. Rendering happens in a small thread pool: a live call waits at most
  ``ecti.prompts.render_timeout`` seconds (default 5) and is otherwise spoken by the carrier's
  voice while the rendering finishes for the next caller.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, replace

from ..errors import UserError
from ..i18n import _
from ..interfaces import VoiceSettings
from ..voice.instructions import Play, Say
from .audio import browser_audio, identify_audio
from .media import media_url
from .voice import check_settings, check_text

log = logging.getLogger(__name__)

STORAGE_KEY = "ecti.media_storage"
RENDER_CACHE_KEY = "ecti.prompts.render_cache"
DEFAULT_RENDER_TIMEOUT = 5.0


class UnplayableAudio(RuntimeError):
    """A provider returned something that is not audio the carrier can play."""


def language_of(tenant) -> str:
    return "ja-JP" if (tenant.locale or "ja") == "ja" else "en-US"


def provider_output(provider) -> str:
    return getattr(provider, "output", "audio")


def cache_key(tenant_id: int, provider, text: str, settings: VoiceSettings) -> str:
    """Where the rendering of ``text`` with ``settings`` by ``provider`` is kept."""
    payload = json.dumps(
        {"provider": provider.name, "version": str(getattr(provider, "version", "")), "text": text, "settings": asdict(settings)},
        sort_keys=True, ensure_ascii=False,
    )
    return f"t{tenant_id}/tts/{provider.name}/{hashlib.sha256(payload.encode('utf-8')).hexdigest()}"


class RenderCache:
    """Renders audio once per cache key, even when several calls ask at the same moment."""

    def __init__(self, storage, workers: int = 2):
        self.storage = storage
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ecti-tts")
        self._pending: dict[str, Future] = {}
        self._lock = threading.RLock()

    def ensure(self, key: str, provider, text: str, settings: VoiceSettings, *, timeout: float | None = None) -> None:
        """Make sure ``key`` is stored, rendering it if needed; wait at most ``timeout`` seconds.

        Raises :class:`TimeoutError` when the rendering takes longer (it goes on and is stored
        when done), or whatever the provider raised.
        """
        if self.storage.exists(key):
            return
        with self._lock:
            future = self._pending.get(key)
            if future is None:
                future = self._executor.submit(self._render, key, provider, text, settings)
                self._pending[key] = future
                future.add_done_callback(lambda _done: self._forget(key))
        future.result(timeout=timeout)

    def _forget(self, key: str) -> None:
        with self._lock:
            self._pending.pop(key, None)

    def _render(self, key: str, provider, text: str, settings: VoiceSettings) -> None:
        data = provider.render(text, settings)
        if not isinstance(data, (bytes, bytearray)):
            raise UnplayableAudio(f"{provider.name}.render returned {type(data).__name__}, not audio bytes")
        try:
            identify_audio(bytes(data))
        except UserError as err:
            raise UnplayableAudio(f"{provider.name}.render returned audio the carrier cannot play: {err}") from None
        self.storage.save(key, bytes(data))


def carrier_say(result, text: str, settings: VoiceSettings, tenant) -> Say:
    """A carrier provider's rendering as a Say (plain text is spoken with ``settings``)."""
    if isinstance(result, Say):
        return result
    return Say(str(result), language=language_of(tenant), voice=settings.voice or None, settings=settings)


def carrier_fallback(tenant, text: str, settings: VoiceSettings) -> Say:
    """The carrier's own voice speaking ``text`` (when a provider cannot); the provider's voice
    name means nothing to the carrier, the speed, pitch, volume and emotion still apply."""
    return Say(text, language=language_of(tenant), settings=replace(settings, voice=""))


def tts_instructions(request, tenant, provider_name: str, text: str, settings: VoiceSettings, *, timeout: float | None) -> list:
    """What the carrier does to speak ``text``; raises when the provider cannot (callers fall back)."""
    provider = request.registry.ecti.tts_providers.get(provider_name)
    if provider is None:
        raise LookupError(f"no TTS provider {provider_name!r} is installed")
    if provider_output(provider) == "carrier":
        return [carrier_say(provider.render(text, settings), text, settings, tenant)]
    key = cache_key(tenant.id, provider, text, settings)
    request.registry[RENDER_CACHE_KEY].ensure(key, provider, text, settings, timeout=timeout)
    return [Play(media_url(request, key))]


def live_call_timeout(request) -> float:
    return float(request.registry.settings.get("ecti.prompts.render_timeout", DEFAULT_RENDER_TIMEOUT))


def get_provider(request, name: str | None):
    provider = request.registry.ecti.tts_providers.get(name or "")
    if provider is None:
        raise UserError(
            "prompt_unknown_provider", _("Choose a voice provider: “${name}” is not installed.", mapping={"name": name or ""}),
            field="provider", status=422,
        )
    return provider


def check_tts(request, tenant, *, text: str, provider_name: str | None, settings: VoiceSettings):
    """Validate a synthetic-voice prompt as its provider will speak it, and render it now.

    Runs when an admin saves: text length, setting ranges, the provider's own checks, and —
    for audio providers — the rendering itself, so a broken engine is an error message now
    rather than silence on a call. Returns ``(cleaned text, provider)``.
    """
    text = check_text(text)
    check_settings(settings)
    provider = get_provider(request, provider_name)
    try:
        provider.validate(text, settings)
        if provider_output(provider) == "carrier":
            provider.render(text, settings)
        else:
            request.registry[RENDER_CACHE_KEY].ensure(cache_key(tenant.id, provider, text, settings), provider, text, settings)
    except UserError:
        raise
    except Exception as exc:  # any engine failure becomes a message for the admin, not a 500
        log.exception("TTS provider %s failed for tenant %s", provider.name, tenant.slug)
        raise UserError(
            "tts_provider_failed",
            _("${provider} cannot speak this text now: ${error}", mapping={"provider": request.localizer.translate(provider.label), "error": str(exc)}),
            field="provider", status=422,
        ) from exc
    return text, provider


def preview_audio(request, tenant, *, text: str, provider_name: str | None, settings: VoiceSettings) -> tuple[bytes, str, object]:
    """Audio a browser can play for this text and these settings: ``(bytes, type, provider)``.

    A carrier voice cannot be rendered here: its preview is rendered by the first installed
    audio provider, with that provider's default voice and the same speed, pitch, intonation,
    volume and emotion (the console says so). Without any audio provider there is no preview.
    """
    text = check_text(text)
    check_settings(settings)
    provider = get_provider(request, provider_name)
    if provider_output(provider) == "carrier":
        provider.validate(text, settings)  # the same refusals as saving, before the stand-in voice
        provider = next((p for p in request.registry.ecti.tts_providers.values() if provider_output(p) == "audio"), None)
        if provider is None:
            raise UserError(
                "prompt_preview_unavailable",
                _("This voice is spoken by the carrier during the call and cannot be played here. Call your number to hear it."),
                status=409,
            )
        settings = replace(settings, voice="")
    text, provider = check_tts(request, tenant, text=text, provider_name=provider.name, settings=settings)
    data = request.registry[STORAGE_KEY].load(cache_key(tenant.id, provider, text, settings))
    playable = browser_audio(data)
    if playable is None:
        raise UserError("prompt_preview_unavailable", _("This audio cannot be played in a browser."), status=409)
    return playable[0], playable[1], provider
