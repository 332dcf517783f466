"""The prompt library: creating, changing and deleting prompts, and where they are used.

Subsystems that store prompt references declare how to find them, so that the library shows
where each prompt is used and refuses to delete one in use::

    def queue_prompt_usages(request, prompt_ids):
        for queue in request.db.scalars(select(Queue)):
            for prompt_id in prompt_ids_in(queue.settings) & prompt_ids:
                yield PromptUsage(prompt_id, _("Queue “${name}”", mapping={"name": queue.name}),
                                  request.route_url("admin.queue", id=queue.id))

    config.add_prompt_usage_finder(queue_prompt_usages)  # in the subsystem's includeme
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from sqlalchemy import select

from ..errors import UserError
from ..i18n import _
from ..interfaces import VoiceSettings
from .audio import identify_audio
from .models import Prompt, PromptKind
from .rendering import STORAGE_KEY, check_tts
from .voice import clean_text

log = logging.getLogger(__name__)

USAGE_FINDERS_KEY = "ecti.prompts.usage_finders"
MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class PromptUsage:
    """One place that plays a prompt: ``label`` is shown to people, ``url`` links there."""

    prompt_id: int
    label: Any
    url: str | None = None


UsageFinder = Callable[[Any, frozenset], Iterable[PromptUsage]]


def add_prompt_usage_finder(config, finder: UsageFinder) -> None:
    """Config directive: ``finder(request, prompt_ids)`` yields a :class:`PromptUsage` for each
    place of the request's tenant that refers to one of ``prompt_ids`` (a frozenset of ints)."""
    finder = config.maybe_dotted(finder)

    def register():
        config.registry.setdefault(USAGE_FINDERS_KEY, []).append(finder)

    config.action(("ecti.prompt_usage_finder", id(finder)), register)


def prompt_ids_in(value: Any) -> set[int]:
    """Every ``prompt_id`` of the prompt references anywhere inside ``value`` (JSON-like data)."""
    found: set[int] = set()
    if isinstance(value, dict):
        prompt_id = value.get("prompt_id")
        if isinstance(prompt_id, int) and not isinstance(prompt_id, bool):
            found.add(prompt_id)
        elif isinstance(prompt_id, str) and prompt_id.isdigit():
            found.add(int(prompt_id))
        for item in value.values():
            found |= prompt_ids_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            found |= prompt_ids_in(item)
    return found


def find_usages(request, prompt_ids: Iterable[int]) -> dict[int, list[PromptUsage]]:
    """Where each prompt is used, by prompt id, as every registered finder reports it."""
    wanted = frozenset(prompt_ids)
    usages: dict[int, list[PromptUsage]] = {prompt_id: [] for prompt_id in wanted}
    for finder in request.registry.get(USAGE_FINDERS_KEY, []):
        for usage in finder(request, wanted) or ():
            if usage.prompt_id in usages:
                usages[usage.prompt_id].append(usage)
    return usages


# --- names -------------------------------------------------------------------------------------

def _name_taken(request, name: str, exclude_id: int | None) -> bool:
    query = select(Prompt.id).where(Prompt.name == name)
    if exclude_id is not None:
        query = query.where(Prompt.id != exclude_id)
    return request.db.scalar(query) is not None


def _check_name(request, name: str | None, *, default: str, exclude_id: int | None = None) -> str:
    """The prompt's name: the one given (unique, at most 100 characters) or one made from
    ``default`` (the text or the file name), numbered when it is taken."""
    name = clean_text(name)
    if name:
        if len(name) > MAX_NAME_LENGTH:
            raise UserError("prompt_name_too_long", _("The name can have at most 100 characters."), field="name", status=422)
        if _name_taken(request, name, exclude_id):
            raise UserError(
                "prompt_name_taken", _("A prompt named “${name}” already exists. Choose another name.", mapping={"name": name}),
                field="name", status=422,
            )
        return name
    base = clean_text(default)[:MAX_NAME_LENGTH - 5] or "prompt"
    candidate, number = base, 2
    while _name_taken(request, candidate, exclude_id):
        candidate, number = f"{base} ({number})", number + 1
    return candidate


# --- synthetic voice ---------------------------------------------------------------------------

def create_tts_prompt(request, tenant, *, name: str | None, text: str, provider: str, settings: VoiceSettings) -> Prompt:
    """Add a synthetic-voice prompt after its provider has checked and rendered it."""
    text, checked = check_tts(request, tenant, text=text, provider_name=provider, settings=settings)
    prompt = Prompt(tenant_id=tenant.id, kind=PromptKind.tts, name=_check_name(request, name, default=text[:40]), text=text, provider=checked.name)
    prompt.set_settings(settings)
    request.db.add(prompt)
    request.db.flush()
    return prompt


def update_tts_prompt(request, tenant, prompt: Prompt, *, name: str | None, text: str, provider: str, settings: VoiceSettings) -> Prompt:
    if prompt.kind is not PromptKind.tts:
        raise UserError("prompt_is_audio", _("This prompt is uploaded audio: upload a new file to change what it says."), status=422)
    text, checked = check_tts(request, tenant, text=text, provider_name=provider, settings=settings)
    prompt.name = _check_name(request, name, default=text[:40], exclude_id=prompt.id)
    prompt.text = text
    prompt.provider = checked.name
    prompt.set_settings(settings)
    request.db.flush()
    return prompt


# --- uploaded audio ----------------------------------------------------------------------------

def _display_filename(filename: str) -> str:
    # Old browsers send the whole path ("C:\fakepath\あいさつ.wav"): keep the file's own name.
    return clean_text(filename.replace("\\", "/").rsplit("/", 1)[-1])[:255]


def _store_audio(request, tenant, prompt: Prompt, *, filename: str, data: bytes, claimed_type: str) -> None:
    """Recognise and store the file, and point ``prompt`` at it; the file is removed again if
    the transaction does not commit, and the file it replaces is removed if it does."""
    info = identify_audio(data, _display_filename(filename), claimed_type)
    storage = request.registry[STORAGE_KEY]
    key = f"t{tenant.id}/audio/prompt-{uuid.uuid4().hex}.{info.extension}"
    storage.save(key, info.stored)
    replaced = prompt.storage_key

    def tidy(committed: bool) -> None:
        stale = replaced if committed else key
        if stale:
            storage.delete(stale)

    request.tm.get().addAfterCommitHook(tidy)
    prompt.original_filename = _display_filename(filename)
    prompt.storage_key = key
    prompt.content_type = info.content_type
    prompt.codec = info.codec
    prompt.sample_rate = info.sample_rate
    prompt.channels = info.channels
    prompt.duration_ms = info.duration_ms
    prompt.size_bytes = len(info.stored)


def _file_stem(filename: str) -> str:
    display = _display_filename(filename)
    return display.rsplit(".", 1)[0] if "." in display else display


def create_audio_prompt(request, tenant, *, name: str | None, filename: str, data: bytes, claimed_type: str = "") -> Prompt:
    """Add an uploaded-audio prompt (the file is checked first: see :mod:`ecti.prompts.audio`)."""
    prompt = Prompt(tenant_id=tenant.id, kind=PromptKind.audio, name=_check_name(request, name, default=_file_stem(filename)))
    _store_audio(request, tenant, prompt, filename=filename, data=data, claimed_type=claimed_type)
    request.db.add(prompt)
    request.db.flush()
    return prompt


def update_audio_prompt(request, tenant, prompt: Prompt, *, name: str | None, filename: str = "", data: bytes = b"", claimed_type: str = "") -> Prompt:
    """Rename an uploaded-audio prompt and, when a file is given, replace its audio."""
    if prompt.kind is not PromptKind.audio:
        raise UserError("prompt_is_tts", _("This prompt is a synthetic voice: change its text instead of uploading a file."), status=422)
    prompt.name = _check_name(request, name, default=prompt.name, exclude_id=prompt.id)
    if data:
        _store_audio(request, tenant, prompt, filename=filename, data=data, claimed_type=claimed_type)
    request.db.flush()
    return prompt


# --- deleting ----------------------------------------------------------------------------------

def delete_prompt(request, prompt: Prompt) -> None:
    """Delete a prompt no one uses; one in use is refused with the list of places."""
    usages = find_usages(request, [prompt.id])[prompt.id]
    if usages:
        places = ("、" if request.locale_name == "ja" else ", ").join(request.localizer.translate(usage.label) for usage in usages)
        raise UserError(
            "prompt_in_use", _("“${name}” cannot be deleted: it is used by ${places}. Choose another prompt there first.",
                               mapping={"name": prompt.name, "places": places}),
            status=409,
        )
    key = prompt.storage_key
    if key:
        storage = request.registry[STORAGE_KEY]
        request.tm.get().addAfterCommitHook(lambda committed: committed and storage.delete(key))
    request.db.delete(prompt)
    request.db.flush()
