"""The visual flow editor: the flow drawn as a diagram (Cytoscape.js laid out by dagre, served
from ``node_modules``) beside a property panel, saved as a whole.

The page carries everything the script needs in a ``<script type="application/json">`` block
(the flow, the node types and their fields, the company's schedules, queues, voicemail boxes and
prompts, every label already translated); the script posts the whole flow to
``/admin/ivr/flows/{id}/document``, which checks it with the same validation as the form, the
API and configuration files and saves all of it or nothing. Numbers arrive as people type them
and are checked with the softphone's dialing rules from the numbers that answer with the flow.
"""
from __future__ import annotations

import re

from pyramid.view import view_config
from sqlalchemy import select

from ..i18n import _
from ..prompts.models import Prompt, PromptKind
from ..prompts.voice import EMOTION_LABELS
from ..telephony.numbering import NumberError, format_domestic
from ..web import get_or_404
from . import forms
from .models import Flow
from .services import flow_numbers, flow_problems, save_flow
from .validation import NODE_ID, ReferenceChecker, outbound_refusal, problem_text, translate

TEMPLATES = "ecti:ivr/templates/"
_PATH = re.compile(r"^nodes\[(\d+)\](?:\.(settings|next)\.([^.\[]+))?")


def _shown_number(value) -> str:
    try:
        return format_domestic(value) if str(value).startswith("+") else str(value)
    except NumberError:
        return str(value)


def _shown(doc: dict, node_types) -> dict:
    """The flow as the editor shows it: numbers in the domestic format."""
    nodes = []
    for node in doc["nodes"]:
        settings = dict(node.get("settings") or {})
        node_type = node_types.get(node.get("type"))
        for name, schema in (node_type.settings_schema.get("properties", {}) if node_type else {}).items():
            if schema.get("x-ecti-phone") and isinstance(settings.get(name), list):
                settings[name] = [_shown_number(v) for v in settings[name]]
        nodes.append({"id": node.get("id"), "type": node.get("type"), "settings": settings, "next": dict(node.get("next") or {})})
    return {"name": doc["name"], "start": doc["start"], "nodes": nodes}


def _minutes(ms: int | None) -> str:
    seconds = round((ms or 0) / 1000)
    return f"{seconds // 60}:{seconds % 60:02d}"


def _prompt_detail(request, prompt: Prompt) -> str:
    t = request.localizer.translate
    if prompt.kind is PromptKind.tts:
        provider = request.registry.ecti.tts_providers.get(prompt.provider or "")
        parts = [t(provider.label) if provider else (prompt.provider or "")]
        voices = dict(getattr(provider, "voices", ()))
        if prompt.voice and prompt.voice in voices:
            parts.append(t(voices[prompt.voice]))
        parts.append(t(_("Emotion: ${emotion}", mapping={"emotion": t(EMOTION_LABELS.get(prompt.emotion, prompt.emotion))})))
        if prompt.intonation != 1.0:
            parts.append(t(_("Intonation ${value}", mapping={"value": f"{prompt.intonation:g}"})))
        return " · ".join(p for p in parts if p)
    return " · ".join(p for p in (_minutes(prompt.duration_ms), prompt.original_filename or "") if p)


def _prompts(request) -> list[dict]:
    t = request.localizer.translate
    return [
        {
            "id": p.id, "name": p.name, "kind": p.kind.value, "kindLabel": t(p.kind.label), "detail": _prompt_detail(request, p),
            "text": p.text or "", "audio": request.route_url("admin.prompt_audio", id=p.id),
        }
        for p in request.db.scalars(select(Prompt).order_by(Prompt.name))
    ]


def _types(request, checker) -> list[dict]:
    t = request.localizer.translate
    out = []
    for node_type in sorted(request.registry.ecti.ivr_node_types.values(), key=lambda nt: nt.name):
        properties = node_type.settings_schema.get("properties", {})
        fields = []
        for field in forms.fields(node_type, {}, checker):
            schema = properties[field["name"]]
            fields.append({
                "name": field["name"], "label": t(field["label"]), "widget": field["widget"], "required": field["required"],
                "choices": [[value, t(label) if not isinstance(label, str) else label] for value, label in field.get("choices", [])],
                "min": field.get("min"), "max": field.get("max"), "phone": bool(schema.get("x-ecti-phone")),
                "ref": schema.get("x-ecti-ref"),
            })
        try:
            static_exits = [e for e in node_type.exits({})]
        except (TypeError, KeyError, AttributeError):
            static_exits = []
        out.append({
            "name": node_type.name, "label": t(node_type.label), "fields": fields, "exits": static_exits,
            "digitExits": "digits" in properties, "waits": bool(getattr(node_type, "collects_input", False)),
        })
    return out


def _texts(request) -> dict:
    t = request.localizer.translate
    texts = {
        "unsaved": _("Unsaved changes"), "saved": _("All changes saved"), "saving": _("Saving…"),
        "save": _("Save"), "start": _("Start"), "hangUp": _("(hang up)"), "key": _("Key ${digit}", mapping={"digit": "{digit}"}),
        "keys": _("Keys: ${keys}", mapping={"keys": "{keys}"}),
        "stepName": _("Step name (letters, digits, - and _)"), "setStart": _("Start calls here"), "isStart": _("Calls start here."),
        "delete": _("Delete this step"), "exits": _("Where the call goes next"), "noExits": _("The call ends after this step."),
        "flowName": _("Flow name"), "flowHint": _("Select a step in the diagram to edit it, or add one from the palette."),
        "problems": _("The flow has problems; nothing was saved."), "promptText": _("Type the text"), "promptLibrary": _("From the prompt library"),
        "promptNone": _("Nothing"), "choosePrompt": _("Choose a prompt"), "play": _("Play"), "playFailed": _("The audio cannot be played."),
        "noPrompts": _("The prompt library is empty: add prompts on the prompts page."), "leave": _("Leave without saving?"),
        "numbersHint": _("One number per line, e.g. 03-1234-5678"), "digitsHint": _("Keys separated by commas, e.g. 1, 2, 3"),
        "confirmDelete": _("Delete this step? Exits that lead to it will hang up."), "failed": _("The flow could not be saved. Try again."),
        "none": "—", "jump": _("Go to step"), "fit": _("Fit to screen"), "carrierVoice": _("Spoken by the carrier's voice."),
        "stepProblems": _("Problems of this step"), "emptyPrompt": _("(nothing to say yet)"),
    }
    return {k: t(v) for k, v in texts.items()}


def _problems_json(request, problems) -> list[dict]:
    out = []
    for problem in problems:
        match = _PATH.match(problem.path)
        out.append({
            "index": int(match.group(1)) if match else None,
            "part": match.group(2) if match else None,
            "field": match.group(3) if match else problem.path,
            "message": translate(request.localizer, problem.message) if match else problem_text(request.localizer, problem),
        })
    return out


@view_config(route_name="ivr.flow", renderer=TEMPLATES + "flow_editor.jinja2", permission="manage", request_method="GET")
def editor_page(request):
    flow = get_or_404(request, Flow, request.matchdict["id"])
    node_types = request.registry.ecti.ivr_node_types
    checker = ReferenceChecker(request.registry, request.db)
    from .views import TEST_CALL_KEY

    t = request.localizer.translate
    data = {
        "flow": _shown(flow.document(), node_types),
        "types": _types(request, checker),
        "exitLabels": {exit: t(label) for exit, label in forms.EXIT_LABELS.items()},
        "edgeLabels": {"holiday": t(_("Holidays"))},  # short on the diagram; the panel explains
        "prompts": _prompts(request),
        "nodeId": NODE_ID.pattern,
        "urls": {
            "save": request.route_url("ivr.flow_document", id=flow.id),
            "listen": request.route_url("admin.prompts_listen"),
            "checkNumber": request.route_url("ivr.flow_check_number", id=flow.id),
        },
        "carrier": request.tenant.carrier,
        "texts": _texts(request),
    }
    return {
        "flow": flow, "data": data, "numbers": [format_domestic(n) for n in flow_numbers(request.db, flow)],
        "can_test_call": TEST_CALL_KEY in request.registry, "node_types": data["types"],
    }


@view_config(route_name="ivr.flow_document", renderer="json", permission="manage", request_method="POST")
def editor_save(request):
    """Save the whole flow the editor posts (JSON), or answer ``saved: false`` with every
    problem; nothing is saved unless all of it passes."""
    flow = get_or_404(request, Flow, request.matchdict["id"])
    try:
        body = request.json_body
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("nodes"), list):
        request.response.status_int = 400
        return {"message": request.localizer.translate(_("The flow could not be saved. Try again.")), "problems": []}
    node_types = request.registry.ecti.ivr_node_types
    callers = flow_numbers(request.db, flow)
    doc, problems = forms.read_document(body, node_types, callers)
    refused = {p.path for p in problems}  # a refused number is left out: no second message for it
    problems += [p for p in flow_problems(request.db, request.registry, doc, flow, caller_ids=callers) if p.path not in refused]
    if problems:  # an answer, not an HTTP error: the editor shows it (the JSON API answers 422)
        return {"saved": False, "message": request.localizer.translate(_("The flow has problems; nothing was saved.")), "problems": _problems_json(request, problems)}
    save_flow(request.db, request.registry, doc, flow)
    message = request.localizer.translate(_("The flow ${name} was saved.", mapping={"name": flow.name}))
    return {"saved": True, "message": message, "flow": _shown(flow.document(), node_types), "problems": []}


@view_config(route_name="ivr.flow_check_number", renderer="json", permission="manage", request_method="POST")
def editor_check_number(request):
    """May this flow call the number typed (``{"number": "0570-…"}``)? The softphone's dialing
    rules from the flow's numbers, checked while the admin types; saving checks again."""
    flow = get_or_404(request, Flow, request.matchdict["id"])
    try:
        number = str((request.json_body or {}).get("number", ""))[:64]
    except (ValueError, AttributeError):
        number = ""
    e164, message = outbound_refusal(flow_numbers(request.db, flow), number)
    if message is not None:
        return {"allowed": False, "display": None, "message": request.localizer.translate(message)}
    return {"allowed": True, "display": _shown_number(e164), "message": None}
