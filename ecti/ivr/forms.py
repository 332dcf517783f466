"""The flow editor's form: node settings shown as fields generated from each node type's JSON
Schema, and read back into a flow document. Works for plugins' node types too."""
from __future__ import annotations

from typing import Any

from ..i18n import _
from .validation import Problem, outbound_refusal

#: Labels of well-known settings and exits (a plugin's own show their names).
FIELD_LABELS = {
    "prompt": _("Text read to the caller"),
    "digits": _("Keys the caller may press (e.g. 1, 2, 3)"),
    "invalid_prompt": _("Said after a wrong key"),
    "no_input_prompt": _("Said when no key is pressed"),
    "retries": _("Times the menu is repeated before the fallback"),
    "timeout": _("Seconds to wait"),
    "schedule": _("Business hours"),
    "queue": _("Queue"),
    "destinations": _("External numbers (comma-separated, e.g. 03-1234-5678)"),
    "caller_id": _("Caller ID shown to the external number"),
    "when_in_use": _("When the external number is already on a call from this flow"),
    "in_use_prompt": _("Said before disconnecting"),
    "box": _("Voicemail box"),
    "greeting": _("Greeting"),
    "max_length": _("Longest message (seconds)"),
}
EXIT_LABELS = {
    "next": _("Then"),
    "open": _("In business hours"),
    "closed": _("Outside business hours"),
    "holiday": _("On holidays (empty: as outside hours)"),
    "fallback": _("Fallback"),
    "no_answer": _("No answer, busy or refused"),
}
CHOICE_LABELS = {
    "caller": _("The caller's number"),
    "number": _("The number the caller dialled"),
    "disconnect": _("Disconnect the second caller"),
    "no_answer": _("Treat as no answer"),
}


def exit_label(exit: str):
    return EXIT_LABELS.get(exit) or _("Key ${digit}", mapping={"digit": exit})


def fields(node_type, settings: dict, checker) -> list[dict]:
    """The form fields of a node's settings: ``{"name", "label", "widget", "value", ...}``."""
    out = []
    properties = node_type.settings_schema.get("properties", {}) if node_type else {}
    required = set(node_type.settings_schema.get("required", [])) if node_type else set()
    for name, schema in properties.items():
        value = settings.get(name)
        field: dict[str, Any] = {"name": name, "label": FIELD_LABELS.get(name, name), "required": name in required}
        if schema.get("x-ecti-prompt"):
            field.update(widget="prompt", value=(value or {}).get("text", ""), prompt_id=(value or {}).get("prompt_id"))
        elif schema.get("x-ecti-ref"):
            choices = checker.choices(schema["x-ecti-ref"])
            field.update(widget="select" if choices is not None else "integer", value=value, choices=sorted((choices or {}).items(), key=lambda c: c[1]))
        elif "enum" in schema:
            field.update(widget="select", value=value, choices=[(v, CHOICE_LABELS.get(v, v)) for v in schema["enum"]])
        elif schema.get("type") == "integer":
            field.update(widget="integer", value=value, min=schema.get("minimum"), max=schema.get("maximum"))
        elif schema.get("type") == "boolean":
            field.update(widget="checkbox", value=bool(value))
        elif schema.get("type") == "array":
            field.update(widget="list", value=", ".join(map(str, value or [])))
        else:
            field.update(widget="text", value=value if value is not None else "")
        out.append(field)
    return out


def read_settings(node_type, form, prefix: str, path: str, node_id: str, caller_ids=()) -> tuple[dict, list[Problem]]:
    """Read the fields of one node back into settings; empty fields are left out (defaults)."""
    settings: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, schema in node_type.settings_schema.get("properties", {}).items():
        key = f"{prefix}.settings.{name}"
        raw = form.get(key, "").strip()
        if schema.get("x-ecti-prompt"):
            chosen = form.get(key + ".prompt_id", "").strip()
            if chosen.isdigit():  # a library prompt; the text is spoken should it be deleted
                settings[name] = {"prompt_id": int(chosen), **({"text": raw} if raw else {})}
            elif raw:
                settings[name] = {"text": raw}
        elif schema.get("type") == "boolean":
            settings[name] = key in form
        elif not raw:
            continue
        elif schema.get("type") == "array":
            items = [part.strip() for part in raw.replace("、", ",").split(",") if part.strip()]
            if schema.get("x-ecti-phone"):
                items, bad = typed_numbers(items, caller_ids)
                problems.extend(Problem(f"{path}.settings.{name}", message, node_id) for message in bad)
            settings[name] = items
        elif schema.get("type") == "integer" or (schema.get("x-ecti-ref") and raw.lstrip("-").isdigit()):
            settings[name] = int(raw) if raw.lstrip("-").isdigit() else raw
        else:
            settings[name] = raw
    return settings, problems


def typed_numbers(items: list, caller_ids) -> tuple[list[str], list]:
    """Numbers as people type them (``03-1234-5678``) → E.164, checked with the softphone's
    dialing rules from ``caller_ids``; the refused ones are left out, their messages returned."""
    numbers, bad = [], []
    for item in items:
        e164, message = outbound_refusal(caller_ids, str(item))
        if message is None:
            numbers.append(e164)
        else:
            bad.append(message)
    return numbers, bad


def read_document(body: dict, node_types, caller_ids) -> tuple[dict, list[Problem]]:
    """The visual editor's document (numbers as typed) → a flow document, and the numbers refused."""
    problems: list[Problem] = []
    nodes = []
    for i, node in enumerate(body.get("nodes") or []):
        if not isinstance(node, dict):
            continue
        node = {"id": node.get("id"), "type": node.get("type"), "settings": dict(node.get("settings") or {}), "next": dict(node.get("next") or {})}
        node_type = node_types.get(node["type"])
        for name, schema in (node_type.settings_schema.get("properties", {}) if node_type else {}).items():
            value = node["settings"].get(name)
            if schema.get("x-ecti-phone") and isinstance(value, list):
                node["settings"][name], bad = typed_numbers([v for v in value if str(v).strip()], caller_ids)
                problems.extend(Problem(f"nodes[{i}].settings.{name}", message, node["id"]) for message in bad)
        nodes.append(node)
    return {"name": body.get("name", ""), "start": body.get("start", ""), "nodes": nodes}, problems


def read_flow(form, node_types, caller_ids=()) -> tuple[dict, list[Problem]]:
    """The flow document the editor's form describes (nodes added and removed), and the
    problems found while reading it (numbers that are not numbers)."""
    nodes, problems = [], []
    count = int(form.get("node_count", "0") or 0)
    for i in range(count):
        prefix = f"nodes-{i}"
        if f"{prefix}.delete" in form or f"{prefix}.type" not in form:
            continue
        node_type = node_types.get(form[f"{prefix}.type"])
        node_id = form.get(f"{prefix}.id", "").strip()
        path = f"nodes[{len(nodes)}]"
        settings, found = read_settings(node_type, form, prefix, path, node_id, caller_ids) if node_type else ({}, [])
        problems.extend(found)
        next_ = {key[len(prefix) + 6:]: value for key, value in form.items() if key.startswith(f"{prefix}.next.") and value}
        nodes.append({"id": node_id, "type": form[f"{prefix}.type"], "settings": settings, "next": next_})
    new_type, new_id = form.get("new.type", ""), form.get("new.id", "").strip()
    if new_type and new_id:
        nodes.append({"id": new_id, "type": new_type, "settings": {}, "next": {}})
    elif new_id and not new_type:
        problems.append(Problem("nodes", _("Choose the type of the new node.")))
    return {"name": form.get("name", ""), "start": form.get("start", ""), "nodes": nodes}, problems
