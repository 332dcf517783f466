"""The prompt library as JSON under ``/api/v1/prompts`` (every operation in the OpenAPI document)."""
from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from ..api import API_PREFIX, PatchModel, api_view
from ..errors import UserError
from ..i18n import _
from ..interfaces import VoiceSettings
from ..web import get_or_404
from .models import Prompt, PromptKind
from .rendering import provider_output
from .services import create_audio_prompt, create_tts_prompt, delete_prompt, find_usages, update_audio_prompt, update_tts_prompt
from .voice import EMOTION_LABELS, EMOTIONS

Emotion = Literal["normal", "joy", "sadness", "anger"]


class UsageOut(BaseModel):
    label: str
    url: str | None


class PromptOut(BaseModel):
    id: int
    name: str
    kind: Literal["tts", "audio"]
    text: str | None
    provider: str | None
    voice: str
    speed: float
    pitch: float
    intonation: float
    volume: float
    emotion: str
    original_filename: str | None
    content_type: str | None
    codec: str | None
    sample_rate: int | None
    channels: int | None
    duration_ms: int | None
    size_bytes: int | None
    #: Plays the prompt in a signed-in browser (uploaded audio, or the rendered voice).
    listen_url: str
    used_by: list[UsageOut]
    created_at: datetime
    updated_at: datetime


class PromptList(BaseModel):
    prompts: list[PromptOut]


class TTSPromptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200)
    #: 1–500 characters once white space around it is removed (checked with a clear message).
    text: str = Field(max_length=5000)
    provider: str = Field(min_length=1, max_length=64)
    voice: str = Field(default="", max_length=64)
    speed: float = 1.0
    pitch: float = 0.0
    intonation: float = 1.0
    volume: float = 0.0
    emotion: Emotion = "normal"

    def settings(self) -> VoiceSettings:
        return VoiceSettings(voice=self.voice, speed=self.speed, pitch=self.pitch, intonation=self.intonation, volume=self.volume, emotion=self.emotion)


class PromptUpdate(PatchModel):
    """Change a prompt: any field of a synthetic voice; the name (and file) of uploaded audio."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    text: str | None = Field(default=None, max_length=5000)
    provider: str | None = Field(default=None, max_length=64)
    voice: str | None = Field(default=None, max_length=64)
    speed: float | None = None
    pitch: float | None = None
    intonation: float | None = None
    volume: float | None = None
    emotion: Emotion | None = None
    filename: str | None = Field(default=None, max_length=255)
    content_base64: str | None = None


class AudioPromptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200)
    #: The file's own name (may be Japanese); compared with the content, never trusted.
    filename: str = Field(min_length=1, max_length=255)
    #: The file, base64-encoded (under 30 MB before encoding).
    content_base64: str = Field(min_length=1)


class VoiceOut(BaseModel):
    name: str
    label: str


class EmotionOut(BaseModel):
    name: str
    label: str


class ProviderOut(BaseModel):
    name: str
    label: str
    output: Literal["carrier", "audio"]
    voices: list[VoiceOut]


class ProviderList(BaseModel):
    providers: list[ProviderOut]
    emotions: list[EmotionOut]


def prompt_out(request, prompt: Prompt, usages) -> PromptOut:
    translate = request.localizer.translate
    return PromptOut(
        id=prompt.id, name=prompt.name, kind=prompt.kind.value, text=prompt.text, provider=prompt.provider, voice=prompt.voice or "",
        speed=prompt.speed, pitch=prompt.pitch, intonation=prompt.intonation, volume=prompt.volume, emotion=prompt.emotion,
        original_filename=prompt.original_filename, content_type=prompt.content_type, codec=prompt.codec,
        sample_rate=prompt.sample_rate, channels=prompt.channels, duration_ms=prompt.duration_ms, size_bytes=prompt.size_bytes,
        listen_url=request.route_url("admin.prompt_audio", id=prompt.id),
        used_by=[UsageOut(label=translate(u.label), url=u.url) for u in usages],
        created_at=prompt.created_at, updated_at=prompt.updated_at,
    )


def _decode(content: str) -> bytes:
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise UserError("invalid_base64", _("content_base64 is not valid base64."), field="content_base64", status=422)


def _one(request, prompt: Prompt) -> PromptOut:
    return prompt_out(request, prompt, find_usages(request, [prompt.id])[prompt.id])


@api_view("api.prompts", method="GET", summary="The prompt library", permission="manage", response=PromptList, tags=("prompts",))
def api_prompts(request):
    prompts = request.db.scalars(select(Prompt).order_by(Prompt.name)).all()
    usages = find_usages(request, [p.id for p in prompts])
    return PromptList(prompts=[prompt_out(request, p, usages[p.id]) for p in prompts])


@api_view("api.prompts", method="POST", summary="Add a synthetic-voice prompt (checked and rendered now)", permission="manage",
          body=TTSPromptIn, response=PromptOut, status=201, tags=("prompts",))
def api_prompt_create(request, body: TTSPromptIn):
    prompt = create_tts_prompt(request, request.tenant, name=body.name, text=body.text, provider=body.provider, settings=body.settings())
    return _one(request, prompt)


@api_view("api.prompts_audio", method="POST", summary="Upload an audio prompt (type recognised from the content)", permission="manage",
          body=AudioPromptIn, response=PromptOut, status=201, tags=("prompts",))
def api_prompt_upload(request, body: AudioPromptIn):
    prompt = create_audio_prompt(request, request.tenant, name=body.name, filename=body.filename, data=_decode(body.content_base64))
    return _one(request, prompt)


@api_view("api.prompt", method="GET", summary="One prompt, with where it is used", permission="manage", response=PromptOut, tags=("prompts",), errors=(404,))
def api_prompt(request):
    return _one(request, get_or_404(request, Prompt, request.matchdict["id"]))


@api_view("api.prompt", method="PATCH", summary="Change a prompt", permission="manage", body=PromptUpdate, response=PromptOut, tags=("prompts",), errors=(404,))
def api_prompt_update(request, body: PromptUpdate):
    prompt = get_or_404(request, Prompt, request.matchdict["id"])
    changes = body.model_dump(exclude_unset=True)
    if prompt.kind is PromptKind.audio:
        if set(changes) - {"name", "filename", "content_base64"}:
            raise UserError("prompt_is_audio", _("This prompt is uploaded audio: upload a new file to change what it says."), status=422)
        data = _decode(body.content_base64) if body.content_base64 else b""
        update_audio_prompt(request, request.tenant, prompt, name=changes.get("name", prompt.name), filename=body.filename or "", data=data)
    else:
        if {"filename", "content_base64"} & set(changes):
            raise UserError("prompt_is_tts", _("This prompt is a synthetic voice: change its text instead of uploading a file."), status=422)
        settings = prompt.settings
        merged = {field: changes.get(field, getattr(settings, field)) for field in ("voice", "speed", "pitch", "intonation", "volume", "emotion")}
        update_tts_prompt(
            request, request.tenant, prompt, name=changes.get("name", prompt.name), text=changes.get("text", prompt.text),
            provider=changes.get("provider", prompt.provider), settings=VoiceSettings(**merged),
        )
    return _one(request, prompt)


@api_view("api.prompt", method="DELETE", summary="Delete a prompt nothing uses (409 says where it is used)", permission="manage",
          status=204, tags=("prompts",), errors=(404, 409))
def api_prompt_delete(request):
    delete_prompt(request, get_or_404(request, Prompt, request.matchdict["id"]))


@api_view("api.prompt_providers", method="GET", summary="Voice providers, their voices and the emotions", permission="manage",
          response=ProviderList, tags=("prompts",))
def api_prompt_providers(request):
    translate = request.localizer.translate
    providers = [
        ProviderOut(
            name=p.name, label=translate(p.label), output=provider_output(p),
            voices=[VoiceOut(name=name, label=translate(label)) for name, label in getattr(p, "voices", ())],
        )
        for p in request.registry.ecti.tts_providers.values()
    ]
    return ProviderList(providers=providers, emotions=[EmotionOut(name=e, label=translate(EMOTION_LABELS[e])) for e in EMOTIONS])


def includeme(config):
    config.add_route("api.prompts", f"{API_PREFIX}/prompts")
    config.add_route("api.prompts_audio", f"{API_PREFIX}/prompts/audio")
    config.add_route("api.prompt_providers", f"{API_PREFIX}/prompts/providers")
    config.add_route("api.prompt", f"{API_PREFIX}/prompts/{{id:\\d+}}")
