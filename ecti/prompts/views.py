"""Console pages of the prompt library: list, create, edit, upload, listen, delete."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from ..errors import UserError
from ..i18n import _
from ..interfaces import VoiceSettings
from ..web import get_or_404
from .audio import MAX_UPLOAD_BYTES, browser_audio
from .models import Prompt, PromptKind
from .rendering import STORAGE_KEY, preview_audio, provider_output
from .services import create_audio_prompt, create_tts_prompt, delete_prompt, find_usages, update_audio_prompt, update_tts_prompt
from .storage import MediaNotFound
from .voice import EMOTION_LABELS, EMOTIONS, INTONATION_RANGE, MAX_TEXT_LENGTH, PITCH_RANGE, SPEED_RANGE, VOLUME_RANGE

TEMPLATE = "ecti:prompts/templates/"
SETTING_FIELDS = ("speed", "pitch", "intonation", "volume")


def _providers(request) -> list[dict]:
    providers = list(request.registry.ecti.tts_providers.values())
    # The tenant's carrier voice first: it is the default for a new prompt.
    providers.sort(key=lambda p: p.name != request.tenant.carrier)
    return [{"name": p.name, "label": p.label, "output": provider_output(p), "voices": list(getattr(p, "voices", ()))} for p in providers]


def _preview_label(request):
    audio = next((p for p in request.registry.ecti.tts_providers.values() if provider_output(p) == "audio"), None)
    return audio.label if audio is not None else None


def _common(request) -> dict:
    return {
        "providers": _providers(request),
        "preview_provider": _preview_label(request),
        "emotions": [(e, EMOTION_LABELS[e]) for e in EMOTIONS],
        "ranges": {"speed": SPEED_RANGE, "pitch": PITCH_RANGE, "intonation": INTONATION_RANGE, "volume": VOLUME_RANGE},
        "max_text": MAX_TEXT_LENGTH,
        "max_upload_mb": MAX_UPLOAD_BYTES // 1024 // 1024,
    }


def _form_settings(request) -> tuple[dict, VoiceSettings]:
    """The TTS fields of the posted form, and the voice settings they make."""
    form = {k: request.POST.get(k, "") for k in ("name", "text", "provider", "voice", "emotion", *SETTING_FIELDS)}
    defaults = VoiceSettings()
    numbers = {}
    for field in SETTING_FIELDS:
        raw = form[field].strip()
        try:
            numbers[field] = float(raw) if raw else getattr(defaults, field)
        except ValueError:
            raise UserError("not_a_number", _("Enter a number."), field=field, status=422)
    return form, VoiceSettings(voice=form["voice"], emotion=form["emotion"] or "normal", **numbers)


def _library(request, *, form=None, errors=None, upload_errors=None) -> dict:
    prompts = request.db.scalars(select(Prompt).order_by(Prompt.name)).all()
    return {
        **_common(request),
        "prompts": prompts,
        "usages": find_usages(request, [p.id for p in prompts]),
        "form": form or {},
        "errors": errors or {},
        "upload_errors": upload_errors or {},
    }


@view_config(route_name="admin.prompts", renderer=TEMPLATE + "prompts.jinja2", permission="manage", request_method="GET")
def library(request):
    return _library(request)


@view_config(route_name="admin.prompts", renderer=TEMPLATE + "prompts.jinja2", permission="manage", request_method="POST")
def library_create(request):
    form = {k: request.POST.get(k, "") for k in ("name", "text")}
    try:
        form, settings = _form_settings(request)
        prompt = create_tts_prompt(request, request.tenant, name=form["name"], text=form["text"], provider=form["provider"], settings=settings)
    except UserError as err:
        request.response.status_int = 422
        return _library(request, form=form, errors={err.field or "": err.message})
    request.session.flash(request.localizer.translate(_("The prompt “${name}” was saved.", mapping={"name": prompt.name})))
    return HTTPSeeOther(request.route_url("admin.prompts"))


def _uploaded(request) -> tuple[str, bytes, str]:
    field = request.POST.get("file")
    if field is None or not hasattr(field, "file"):
        raise UserError("audio_missing", _("Choose an audio file to upload."), field="file", status=422)
    # One byte more than allowed is enough to refuse a file that is too large.
    return field.filename or "", field.file.read(MAX_UPLOAD_BYTES + 1), field.type or ""


@view_config(route_name="admin.prompts_upload", renderer=TEMPLATE + "prompts.jinja2", permission="manage", request_method="POST")
def library_upload(request):
    try:
        filename, data, claimed = _uploaded(request)
        prompt = create_audio_prompt(request, request.tenant, name=request.POST.get("name", ""), filename=filename, data=data, claimed_type=claimed)
    except UserError as err:
        request.response.status_int = 422
        return _library(request, upload_errors={err.field or "": err.message}, form={"upload_name": request.POST.get("name", "")})
    request.session.flash(request.localizer.translate(_("The audio “${name}” was uploaded.", mapping={"name": prompt.name})))
    return HTTPSeeOther(request.route_url("admin.prompts"))


def _prompt_page(request, prompt: Prompt, *, form=None, errors=None) -> dict:
    if form is None:
        form = {"name": prompt.name, "text": prompt.text or "", "provider": prompt.provider or "", "voice": prompt.voice or "",
                "emotion": prompt.emotion, **{f: f"{getattr(prompt, f):g}" for f in SETTING_FIELDS}}
    playable = prompt.kind is PromptKind.tts or prompt.codec != "gsm"
    return {**_common(request), "prompt": prompt, "usages": find_usages(request, [prompt.id])[prompt.id], "form": form, "errors": errors or {}, "playable": playable}


@view_config(route_name="admin.prompt", renderer=TEMPLATE + "prompt.jinja2", permission="manage", request_method="GET")
def prompt_page(request):
    return _prompt_page(request, get_or_404(request, Prompt, request.matchdict["id"]))


@view_config(route_name="admin.prompt", renderer=TEMPLATE + "prompt.jinja2", permission="manage", request_method="POST")
def prompt_update(request):
    prompt = get_or_404(request, Prompt, request.matchdict["id"])
    form = {k: request.POST.get(k, "") for k in ("name", "text")}
    try:  # every check comes before the first change: a refusal leaves the prompt as it was
        if prompt.kind is PromptKind.tts:
            form, settings = _form_settings(request)
            update_tts_prompt(request, request.tenant, prompt, name=form["name"], text=form["text"], provider=form["provider"], settings=settings)
        else:
            filename, data, claimed = _uploaded(request) if getattr(request.POST.get("file"), "filename", "") else ("", b"", "")
            update_audio_prompt(request, request.tenant, prompt, name=form["name"], filename=filename, data=data, claimed_type=claimed)
    except UserError as err:
        request.response.status_int = 422
        return _prompt_page(request, prompt, form=form, errors={err.field or "": err.message})
    request.session.flash(request.localizer.translate(_("The prompt “${name}” was saved.", mapping={"name": prompt.name})))
    return HTTPSeeOther(request.route_url("admin.prompt", id=prompt.id))


@view_config(route_name="admin.prompt_delete", permission="manage", request_method="POST")
def prompt_delete(request):
    prompt = get_or_404(request, Prompt, request.matchdict["id"])
    name = prompt.name
    try:
        delete_prompt(request, prompt)
    except UserError as err:
        # Flashes are stored as plain text in the session cookie: translate before storing.
        request.session.flash(request.localizer.translate(err.message), "error")
        return HTTPSeeOther(request.route_url("admin.prompt", id=prompt.id))
    request.session.flash(request.localizer.translate(_("The prompt “${name}” was deleted.", mapping={"name": name})))
    return HTTPSeeOther(request.route_url("admin.prompts"))


def _audio_response(data: bytes, content_type: str) -> Response:
    response = Response(body=data, content_type=content_type, conditional_response=True)
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response


@view_config(route_name="admin.prompt_audio", permission="manage", request_method="GET")
def prompt_audio(request):
    """The prompt as a signed-in browser can play it (uploaded audio, or its rendered voice)."""
    prompt = get_or_404(request, Prompt, request.matchdict["id"])
    if prompt.kind is PromptKind.tts:
        try:
            data, content_type, _provider = preview_audio(request, request.tenant, text=prompt.text, provider_name=prompt.provider, settings=prompt.settings)
        except UserError as err:
            return Response(json_body={"error": request.localizer.translate(err.message)}, status=err.status)
        return _audio_response(data, content_type)
    try:
        playable = browser_audio(request.registry[STORAGE_KEY].load(prompt.storage_key))
    except MediaNotFound:
        raise HTTPNotFound()
    if playable is None:
        return Response(json_body={"error": request.localizer.translate(_("This audio cannot be played in a browser."))}, status=409)
    return _audio_response(*playable)


@view_config(route_name="admin.prompts_listen", permission="manage", request_method="POST")
def listen(request):
    """Render the form's text and settings without saving, for the listen button."""
    try:
        form, settings = _form_settings(request)
        data, content_type, _provider = preview_audio(request, request.tenant, text=form["text"], provider_name=form["provider"], settings=settings)
    except UserError as err:
        return Response(json_body={"error": request.localizer.translate(err.message), "field": err.field}, status=err.status if err.status >= 400 else 422)
    return _audio_response(data, content_type)
