"""The IVR's sections of tenant configuration files (see :mod:`ecti.tenant_config`).

In the file, node settings that refer to schedules, voicemail boxes or queues (``x-ecti-ref``)
hold the referenced object's *name*, and prompt references (``x-ecti-prompt``) name the library
prompt (``{"prompt": "name"}`` instead of ``{"prompt_id": 12}``), so a file moves between
installations; the database keeps ids. A reference kind that nothing provides stays an id.
"""
from __future__ import annotations

import copy
from datetime import date

from sqlalchemy import func, select

from ..i18n import _
from ..prompts.config_section import FILE_PROMPT_REF_SCHEMA, PromptNames
from .models import Closure, Flow, Schedule, VoicemailBox, flow_by_name
from .schedules import WEEKDAYS, WEEKLY_SCHEMA
from .services import add_closure, create_box, flow_problems, save_flow, save_schedule, schedule_problems
from .validation import ReferenceChecker

_NAME = {"type": "string", "minLength": 1, "maxLength": 100}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}

SCHEDULES_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"name": _NAME, "weekly": WEEKLY_SCHEMA, "calendars": {"type": "array", "items": {"type": "string"}}},
        "required": ["name", "weekly"],
        "additionalProperties": False,
    },
}
CLOSURES_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"name": _NAME, "start": _DATE, "end": _DATE},
        "required": ["name", "start", "end"],
        "additionalProperties": False,
    },
}
BOXES_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "name": _NAME,
            "greeting": {"type": ["string", "null"], "maxLength": 500},
            "max_length": {"type": "integer", "minimum": 5, "maximum": 600},
            # users of the company, by e-mail (the users section comes first)
            "recipient_users": {"type": "array", "items": {"type": "string", "maxLength": 254}},
            "recipient_emails": {"type": "array", "items": {"type": "string", "maxLength": 254}},
            "attach_audio": {"type": "boolean"},
        },
        "required": ["name"],
        "additionalProperties": False,
    },
}


def _ref_fields(node_type) -> dict[str, str]:
    properties = getattr(node_type, "settings_schema", {}).get("properties", {})
    return {name: schema["x-ecti-ref"] for name, schema in properties.items() if schema.get("x-ecti-ref")}


def _prompt_fields(node_type) -> list[str]:
    properties = getattr(node_type, "settings_schema", {}).get("properties", {})
    return [name for name, schema in properties.items() if schema.get("x-ecti-prompt")]


def file_settings_schema(node_type) -> dict:
    """A node type's settings schema as files see it: references by name (or id)."""
    schema = copy.deepcopy(node_type.settings_schema)
    for name, kind in _ref_fields(node_type).items():
        schema["properties"][name] = {"type": ["string", "integer"], "x-ecti-ref": kind}
    for name in _prompt_fields(node_type):
        schema["properties"][name] = copy.deepcopy(FILE_PROMPT_REF_SCHEMA)
    return schema


def flows_schema(registry) -> dict:
    node_types = registry.ecti.ivr_node_types
    node = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "type": {"type": "string"},
            "settings": {"type": "object"},
            "next": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
        },
        "required": ["id", "type", "settings"],
        "additionalProperties": False,
        "allOf": [
            {"if": {"properties": {"type": {"const": name}}, "required": ["type"]}, "then": {"properties": {"settings": file_settings_schema(t)}}}
            for name, t in sorted(node_types.items())
        ],
    }
    return {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"name": _NAME, "start": {"type": "string"}, "nodes": {"type": "array", "items": node, "minItems": 1}},
            "required": ["name", "start", "nodes"],
            "additionalProperties": False,
        },
    }


def export_schedules(ctx) -> list:
    return [{"name": s.name, "weekly": s.weekly, "calendars": s.calendars} for s in ctx.session.scalars(select(Schedule).order_by(Schedule.name))]


def apply_schedules(ctx, value) -> None:
    for i, item in enumerate(value):
        path = f"$.schedules[{i}]"
        if ctx.broken(path):
            continue
        existing = ctx.session.scalar(select(Schedule).where(Schedule.name == item["name"].strip()))
        calendars = item.get("calendars", [])
        problems = schedule_problems(ctx.session, ctx.registry, item["name"], item["weekly"], calendars, existing)
        for field, message in problems:
            ctx.error(f"{path}.weekly.{field}" if field in WEEKDAYS else f"{path}.{field}", message)
        if not problems:
            save_schedule(ctx.session, ctx.registry, name=item["name"], weekly=item["weekly"], calendars=calendars, schedule=existing)


def export_closures(ctx) -> list:
    closures = ctx.session.scalars(select(Closure).order_by(Closure.start_date, Closure.name))
    return [{"name": c.name, "start": c.start_date.isoformat(), "end": c.end_date.isoformat()} for c in closures]


def apply_closures(ctx, value) -> None:
    for i, item in enumerate(value):
        path = f"$.closures[{i}]"
        if ctx.broken(path):
            continue
        try:
            start, end = date.fromisoformat(item["start"]), date.fromisoformat(item["end"])
        except ValueError:
            ctx.error(path, _("Enter dates as YYYY-MM-DD."))
            continue
        if end < start:
            ctx.error(f"{path}.end", _("The closure ends before it starts."))
            continue
        same = select(Closure).where(Closure.name == item["name"].strip(), Closure.start_date == start, Closure.end_date == end)
        if ctx.session.scalar(same) is None:
            add_closure(ctx.session, name=item["name"], start=start, end=end)


def export_boxes(ctx) -> list:
    from ..tenancy.models import User

    emails = dict(ctx.session.execute(select(User.id, User.email)).all())
    return [
        {
            "name": b.name, "greeting": (b.greeting or {}).get("text"), "max_length": b.max_length,
            "recipient_users": sorted(emails[u] for u in b.recipient_user_ids or [] if u in emails),
            "recipient_emails": list(b.recipient_emails or []), "attach_audio": bool(b.attach_audio),
        }
        for b in ctx.session.scalars(select(VoicemailBox).order_by(VoicemailBox.name))
    ]


def apply_boxes(ctx, value) -> None:
    """Boxes by name; their settings (greeting, length, recipients, attachment) when given. The
    queue and the owner agent are set in the console (they name rows of other sections)."""
    from ..tenancy.models import User

    for i, item in enumerate(value):
        path = f"$.voicemail_boxes[{i}]"
        if ctx.broken(path):
            continue
        box = ctx.session.scalar(select(VoicemailBox).where(VoicemailBox.name == item["name"].strip()))
        if box is None:
            box = create_box(ctx.session, item["name"])
        if "greeting" in item:
            box.greeting = {"text": item["greeting"]} if item["greeting"] else None
        if "max_length" in item:
            box.max_length = item["max_length"]
        if "recipient_users" in item:
            ids = []
            for j, email in enumerate(item["recipient_users"]):
                found = ctx.session.scalar(select(User.id).where(func.lower(User.email) == email.strip().lower()))
                if found is None:
                    ctx.error(f"{path}.recipient_users[{j}]", _("There is no user with the e-mail address ${email}.", mapping={"email": email}))
                else:
                    ids.append(found)
            box.recipient_user_ids = sorted(set(ids))
        if "recipient_emails" in item:
            box.recipient_emails = [e.strip() for e in item["recipient_emails"] if e.strip()]
        if "attach_audio" in item:
            box.attach_audio = item["attach_audio"]


def export_flows(ctx) -> list:
    checker = ReferenceChecker(ctx.registry, ctx.session)
    prompts = PromptNames(ctx.session)
    node_types = ctx.registry.ecti.ivr_node_types
    flows = []
    for flow in ctx.session.scalars(select(Flow).order_by(Flow.name)):
        nodes = []
        for node in flow.nodes:
            settings = dict(node.get("settings") or {})
            for name, kind in _ref_fields(node_types.get(node["type"])).items():
                choices = checker.choices(kind)
                if name in settings and choices is not None:
                    settings[name] = choices.get(settings[name], settings[name])
            for name in _prompt_fields(node_types.get(node["type"])):
                if name in settings:
                    settings[name] = prompts.to_file(settings[name])
            nodes.append({"id": node["id"], "type": node["type"], "settings": settings, "next": node.get("next") or {}})
        flows.append({"name": flow.name, "start": flow.start, "nodes": nodes})
    return flows


def apply_flows(ctx, value) -> None:
    checker = ReferenceChecker(ctx.registry, ctx.session)
    prompts = PromptNames(ctx.session)
    node_types = ctx.registry.ecti.ivr_node_types
    for i, item in enumerate(value):
        path = f"$.flows[{i}]"
        if ctx.broken(f"{path}.name") or ctx.broken(f"{path}.start") or not isinstance(item.get("nodes"), list):
            continue
        nodes, resolved = [], True
        for j, node in enumerate(item["nodes"]):
            if not isinstance(node, dict):
                resolved = False
                continue
            settings = dict(node.get("settings") or {}) if isinstance(node.get("settings"), dict) else {}
            for name, kind in _ref_fields(node_types.get(node.get("type"))).items():
                if name in settings and not ctx.broken(f"{path}.nodes[{j}].settings.{name}"):
                    found = _resolve(checker, kind, settings[name])
                    if found is None:
                        resolved = False
                        ctx.error(f"{path}.nodes[{j}].settings.{name}", _("There is no ${kind} named ${name}.", mapping={"kind": checker.label(kind), "name": settings[name]}))
                    else:
                        settings[name] = found
            for name in _prompt_fields(node_types.get(node.get("type"))):
                if name in settings and not ctx.broken(f"{path}.nodes[{j}].settings.{name}"):
                    ok, settings[name] = prompts.from_file(ctx, f"{path}.nodes[{j}].settings.{name}", settings[name])
                    resolved = resolved and ok
            nodes.append({**node, "settings": settings})
        doc = {"name": item["name"], "start": item["start"], "nodes": nodes}
        existing = flow_by_name(ctx.session, item["name"].strip())
        problems = flow_problems(ctx.session, ctx.registry, doc, existing, check_settings=False)
        for problem in problems:
            message = _("Node ${node}: ${problem}", mapping={"node": problem.node, "problem": problem.message}) if problem.node else problem.message
            ctx.error(f"{path}.{problem.path}", message)
        if resolved and not problems and not ctx.broken(path):
            save_flow(ctx.session, ctx.registry, doc, existing)


def _resolve(checker, kind: str, value) -> int | None:
    choices = checker.choices(kind)
    if choices is None:  # nothing provides this kind yet: ids stay ids
        return value if isinstance(value, int) and value > 0 else None
    by_name = {name: id_ for id_, name in choices.items()}
    return by_name.get(value)


def includeme(config):
    config.add_tenant_config_section("schedules", order=20, schema=SCHEDULES_SCHEMA, export=export_schedules, apply=apply_schedules)
    config.add_tenant_config_section("closures", order=30, schema=CLOSURES_SCHEMA, export=export_closures, apply=apply_closures)
    config.add_tenant_config_section("voicemail_boxes", order=40, schema=BOXES_SCHEMA, export=export_boxes, apply=apply_boxes)
    config.add_tenant_config_section("flows", order=60, schema=flows_schema, export=export_flows, apply=apply_flows)
