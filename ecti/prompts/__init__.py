"""Prompts: what callers hear (text spoken by a TTS provider, or uploaded audio).

Other subsystems (IVR nodes, queues, voicemail greetings) refer to a prompt with a *prompt
reference*, a small dict stored in their settings:

* ``{"text": "お電話ありがとうございます。", "voice": {...}}`` — text spoken with the tenant's
  default voice, or the voice settings given (see :class:`ecti.interfaces.VoiceSettings`);
  ``"voice"`` may name a TTS provider: ``{"provider": "openjtalk", "speed": 1.1, "emotion":
  "joy"}``;
* ``{"prompt_id": 12}`` — a prompt of the tenant's prompt library (:class:`.models.Prompt`).
  A ``"text"`` next to it is spoken instead should the prompt be gone.

:func:`prompt_instructions` turns a reference into instructions for the carrier, and never into
silence: a provider that fails is replaced by the carrier's voice saying the text, and missing
audio by a short spoken apology (each logged). :func:`check_prompt_ref` checks a reference when
a subsystem saves it. Subsystems that store references register a usage finder with
``config.add_prompt_usage_finder`` (see :mod:`.services`), so the library can say where each
prompt is used. docs/prompts.md describes providers, voices, emotions and upload rules.
"""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from ..config import ConfigurationError
from ..errors import UserError
from ..i18n import _
from ..interfaces import VoiceSettings
from ..voice.calls import say
from ..voice.instructions import Play, Say
from .media import media_url
from .models import Prompt, PromptKind
from .rendering import (
    RENDER_CACHE_KEY, STORAGE_KEY, RenderCache, carrier_fallback, check_tts, language_of, live_call_timeout, tts_instructions,
)
from .services import add_prompt_usage_finder
from .voice import MAX_TEXT_LENGTH, check_settings, check_text, clean_text, settings_from_mapping

log = logging.getLogger(__name__)

__all__ = ["MAX_TEXT_LENGTH", "prompt_instructions", "check_prompt_ref", "prompt_ref_problem", "includeme"]


def prompt_instructions(request, tenant, ref: dict[str, Any] | None) -> list:
    """The instructions that play ``ref`` to a caller (nothing for an empty reference)."""
    if not ref:
        return []
    text = clean_text(ref.get("text"))[:MAX_TEXT_LENGTH]
    if ref.get("prompt_id") is not None:
        return _library_prompt(request, tenant, ref["prompt_id"], fallback_text=text)
    if not text:
        return []
    voice = ref.get("voice")
    if not isinstance(voice, dict) or not voice:
        return [Say(text, language=language_of(tenant))]
    settings = settings_from_mapping(voice)
    if not voice.get("provider"):
        return [carrier_fallback(tenant, text, settings)]
    return _spoken(request, tenant, str(voice["provider"]), text, settings, what="a text prompt")


def _spoken(request, tenant, provider_name: str, text: str, settings: VoiceSettings, *, what: str) -> list:
    try:
        return tts_instructions(request, tenant, provider_name, text, settings, timeout=live_call_timeout(request))
    except Exception:  # a live call never hears silence: the carrier's voice says the text
        log.exception("TTS provider %s failed on %s of tenant %s; the carrier's voice speaks instead", provider_name, what, tenant.slug)
        return [carrier_fallback(tenant, text, settings)]


def _apology(tenant) -> Say:
    return say(tenant, _("We are sorry, this announcement cannot be played at the moment."))


def _library_prompt(request, tenant, prompt_id, *, fallback_text: str) -> list:
    try:
        key = int(prompt_id)
    except (TypeError, ValueError):
        key = None
    prompt = request.db.scalar(select(Prompt).where(Prompt.id == key, Prompt.tenant_id == tenant.id)) if key is not None else None
    if prompt is None:
        log.error("prompt %r of tenant %s does not exist; %s instead", prompt_id, tenant.slug, "its text is spoken" if fallback_text else "an apology is spoken")
        return [carrier_fallback(tenant, fallback_text, VoiceSettings())] if fallback_text else [_apology(tenant)]
    if prompt.kind is PromptKind.tts:
        return _spoken(request, tenant, prompt.provider or "", prompt.text or "", prompt.settings, what=f"prompt {prompt.id}")
    try:
        stored = bool(prompt.storage_key) and request.registry[STORAGE_KEY].exists(prompt.storage_key)
    except Exception:  # storage unreachable: same as missing for the caller
        log.exception("media storage failed for prompt %s of tenant %s", prompt.id, tenant.slug)
        stored = False
    if not stored:
        log.error("the audio of prompt %s of tenant %s is missing (%s); an apology is spoken", prompt.id, tenant.slug, prompt.storage_key)
        return [_apology(tenant)]
    return [Play(media_url(request, prompt.storage_key))]


def check_prompt_ref(request, tenant, ref: dict[str, Any] | None) -> None:
    """Raise :class:`~ecti.errors.UserError` when ``ref`` cannot be played as saved.

    Subsystems call this when an admin saves a setting that holds a prompt reference: the
    prompt must exist in the tenant's library, or the text and voice must pass the provider's
    checks (an audio provider renders it now, so the first caller does not wait for it).
    """
    if not ref:
        return
    if ref.get("prompt_id") is not None:
        try:
            key = int(ref["prompt_id"])
        except (TypeError, ValueError):
            key = None
        if key is None or request.db.scalar(select(Prompt.id).where(Prompt.id == key, Prompt.tenant_id == tenant.id)) is None:
            raise UserError("prompt_not_found", _("The chosen prompt does not exist (any more). Choose another one."), field="prompt_id", status=422)
        return
    voice = ref.get("voice") if isinstance(ref.get("voice"), dict) else {}
    settings = settings_from_mapping(voice)
    if voice.get("provider"):
        check_tts(request, tenant, text=ref.get("text"), provider_name=str(voice["provider"]), settings=settings)
    else:
        check_text(ref.get("text"))
        check_settings(settings)


def prompt_ref_problem(session, ref: Any):
    """What is wrong with ``ref`` (a message), or None: for validators that have a scoped
    session but no request (IVR flows, configuration files). Provider checks that need to
    render run later, when the admin saves through :func:`check_prompt_ref`."""
    if not isinstance(ref, dict):
        return _("Enter the text to be spoken.")
    if ref.get("prompt_id") is not None:
        try:
            key = int(ref["prompt_id"])
        except (TypeError, ValueError):
            key = None
        # (Without a session, e.g. validating a file offline, the library is empty.)
        found = key is not None and session is not None and session.scalar(select(Prompt.id).where(Prompt.id == key)) is not None
        return None if found else _("The prompt ${id} does not exist.", mapping={"id": ref["prompt_id"]})
    try:
        check_text(ref.get("text"))
        check_settings(settings_from_mapping(ref.get("voice") if isinstance(ref.get("voice"), dict) else {}))
    except UserError as err:
        return err.message
    return None


def includeme(config):
    settings = config.get_settings()
    if not settings.get("ecti.media_dir") and not settings.get("ecti.media_storage"):
        raise ConfigurationError("setting ecti.media_dir is missing: set the environment variable ECTI_MEDIA_DIR (a folder for uploaded and rendered audio)")
    factory = config.maybe_dotted(settings.get("ecti.media_storage", "ecti.prompts.storage:FilesystemStorage.from_settings"))
    storage = factory(settings)
    config.registry[STORAGE_KEY] = storage
    config.registry[RENDER_CACHE_KEY] = RenderCache(storage)
    config.add_directive("add_prompt_usage_finder", add_prompt_usage_finder)

    config.add_route("prompts.media", "/media/*key")
    config.add_route("admin.prompts", "/admin/prompts")
    config.add_route("admin.prompts_upload", "/admin/prompts/upload")
    config.add_route("admin.prompts_listen", "/admin/prompts/listen")
    config.add_route("admin.prompt", "/admin/prompts/{id:\\d+}")
    config.add_route("admin.prompt_audio", "/admin/prompts/{id:\\d+}/audio")
    config.add_route("admin.prompt_delete", "/admin/prompts/{id:\\d+}/delete")
    config.add_static_view("prompts-static", "ecti:prompts/static", cache_max_age=3600)
    config.add_console_nav("admin.prompts", _("Prompts"), group="settings", permission="manage", order=40)
    config.include(".api")
