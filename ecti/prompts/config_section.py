"""The prompt library in tenant configuration files (section ``prompts``), and prompt references
written by name.

In the database a prompt reference is ``{"prompt_id": 12}`` (see :mod:`ecti.prompts`); in a
file it is ``{"prompt": "受付あいさつ"}`` — the library prompt's name — so the file means the same
thing in another tenant or installation. :class:`PromptNames` converts both ways and says
precisely when a name is unknown.

Synthetic-voice prompts are exported whole (text, provider, voice settings) and created or
updated on import with the same checks as the console (the provider renders them then).
Uploaded audio cannot travel in a JSON file: such a prompt is listed by name, and importing it
requires that a prompt of that name with uploaded audio exists already (upload it first).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..errors import UserError
from ..i18n import _
from .models import Prompt, PromptKind
from .voice import settings_from_mapping

_VOICE = {
    "type": "object",
    "properties": {
        "voice": {"type": "string", "maxLength": 64},
        "speed": {"type": "number"},
        "pitch": {"type": "number"},
        "intonation": {"type": "number"},
        "volume": {"type": "number"},
        "emotion": {"type": "string", "maxLength": 16},
    },
    "additionalProperties": False,
}

#: A prompt reference as files write it: spoken text (with a voice), or a library prompt by name.
FILE_PROMPT_REF_SCHEMA = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "maxLength": 500},
        "prompt": {"type": "string", "minLength": 1, "maxLength": 100},
        "voice": {"type": "object"},
    },
    "additionalProperties": False,
}

PROMPTS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
            "kind": {"enum": ["tts", "audio"]},
            "text": {"type": "string", "minLength": 1, "maxLength": 500},
            "provider": {"type": "string", "minLength": 1, "maxLength": 64},
            "voice": _VOICE,
            "original_filename": {"type": ["string", "null"], "maxLength": 255},
        },
        "required": ["name", "kind"],
        "additionalProperties": False,
        "if": {"properties": {"kind": {"const": "tts"}}},
        "then": {"required": ["text", "provider"]},
    },
}


class PromptNames:
    """Prompt references between the database (``prompt_id``) and files (``prompt``: name)."""

    def __init__(self, session):
        self.session = session
        self._names: dict[int, str] | None = None

    def names(self) -> dict[int, str]:
        if self._names is None:
            self._names = dict(self.session.execute(select(Prompt.id, Prompt.name)).all())
        return self._names

    def to_file(self, ref: Any) -> Any:
        """``{"prompt_id": 12, "text": …}`` → ``{"prompt": "name", "text": …}``. A reference to a
        prompt that no longer exists keeps only what a caller hears instead (its text)."""
        if not isinstance(ref, dict) or "prompt_id" not in ref:
            return ref
        out = {k: v for k, v in ref.items() if k != "prompt_id"}
        name = self.names().get(ref["prompt_id"]) if isinstance(ref["prompt_id"], int) else None
        if name is not None:
            out = {"prompt": name, **out}
        return out

    def from_file(self, ctx, path: str, ref: Any) -> tuple[bool, Any]:
        """The database form of a file's reference; ``(False, None)`` after reporting an unknown
        name at ``path`` (``$.flows[0].nodes[1].settings.prompt.prompt``)."""
        if not isinstance(ref, dict) or "prompt" not in ref:
            return True, ref
        name = ref["prompt"]
        by_name = {n: i for i, n in self.names().items()}
        if name not in by_name:
            ctx.error(f"{path}.prompt", _("There is no prompt named ${name} in the prompt library.", mapping={"name": name}))
            return False, None
        return True, {"prompt_id": by_name[name], **{k: v for k, v in ref.items() if k != "prompt"}}

    def forget(self) -> None:
        self._names = None


def export_prompts(ctx) -> list:
    out = []
    for p in ctx.session.scalars(select(Prompt).order_by(Prompt.name)):
        if p.kind is PromptKind.tts:
            s = p.settings
            voice = {"voice": s.voice, "speed": s.speed, "pitch": s.pitch, "intonation": s.intonation, "volume": s.volume, "emotion": s.emotion}
            out.append({"name": p.name, "kind": "tts", "text": p.text or "", "provider": p.provider or "", "voice": voice})
        else:
            out.append({"name": p.name, "kind": "audio", "original_filename": p.original_filename})
    return out


def apply_prompts(ctx, value: list) -> None:
    from .services import create_tts_prompt, update_tts_prompt

    request = None
    for i, item in enumerate(value):
        path = f"$.prompts[{i}]"
        if ctx.broken(path):
            continue
        name = item["name"].strip()
        existing = ctx.session.scalar(select(Prompt).where(Prompt.name == name))
        if item["kind"] == "audio":
            if existing is None or existing.kind is not PromptKind.audio:
                ctx.error(f"{path}.name", _("The prompt ${name} is uploaded audio, which a configuration file cannot carry: upload it in the prompt library under this name first.", mapping={"name": name}))
            continue
        if existing is not None and existing.kind is not PromptKind.tts:
            ctx.error(f"{path}.kind", _("The prompt ${name} is uploaded audio here; it cannot become a synthetic voice by import.", mapping={"name": name}))
            continue
        settings = settings_from_mapping(item.get("voice") or {})
        if existing is not None and (existing.text, existing.provider, existing.settings) == (item["text"], item["provider"], settings):
            continue  # unchanged: nothing to render again
        request = request or ctx.request()
        try:
            if existing is None:
                create_tts_prompt(request, ctx.tenant, name=name, text=item["text"], provider=item["provider"], settings=settings)
            else:
                update_tts_prompt(request, ctx.tenant, existing, name=name, text=item["text"], provider=item["provider"], settings=settings)
        except UserError as err:
            ctx.error(f"{path}.{err.field or 'text'}" if err.field in ("name", "text", "provider") else path, err.message)


def includeme(config):
    config.add_tenant_config_section("prompts", order=15, schema=PROMPTS_SCHEMA, export=export_prompts, apply=apply_prompts)
