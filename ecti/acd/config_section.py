"""The ACD's section of tenant configuration files: ``queues`` (see :mod:`ecti.tenant_config`).

Everything a queue refers to is written by name: members by the user's e-mail (with level and
order), the overflow target by queue, voicemail box or flow name (a flow's node by its id in
``node``), the hold audio as a prompt reference naming the library prompt. The section applies
before ``flows`` (whose queue nodes name queues); overflows into another queue or a flow are
set once every section has applied (``ctx.later``), so queues and flows may refer to each other.
Archived (deleted) queues are not exported.
"""
from __future__ import annotations

from sqlalchemy import select

from ..errors import UserError
from ..i18n import _
from ..ivr.models import Flow, VoicemailBox, flow_by_name
from ..prompts.config_section import FILE_PROMPT_REF_SCHEMA, PromptNames
from ..tenancy.models import find_user_by_email
from .queues import LIMITS, WALLBOARD_FIELDS, MemberSetting, QueueSettings, live_queues, queue_by_name, save_queue, set_members

_INT = {"type": "integer"}
_OPTIONAL_INT = {"type": ["integer", "null"]}

QUEUES_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
            "strategy": {"type": "string", "minLength": 1},
            **{key: (_OPTIONAL_INT if key in ("max_wait_seconds", "max_length") else _INT) for key in LIMITS},
            **{key: _INT for key in WALLBOARD_FIELDS},
            "overflow": {
                "type": "object",
                "properties": {
                    "kind": {"enum": ["hangup", "voicemail", "queue", "flow", "number"]},
                    "target": {"type": ["string", "null"], "maxLength": 100},
                    "node": {"type": "string", "maxLength": 40},
                },
                "required": ["kind"],
                "additionalProperties": False,
            },
            "join_when_empty": {"type": "boolean"},
            "leave_when_empty": {"type": "boolean"},
            "hold_audio": FILE_PROMPT_REF_SCHEMA,
            "announce_position": {"type": "boolean"},
            "announce_wait": {"type": "boolean"},
            "callback_enabled": {"type": "boolean"},
            "callback_key": {"enum": list("0123456789*#")},
            "members": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "email": {"type": "string", "minLength": 3, "maxLength": 254},
                        "level": {"type": "integer", "minimum": 1, "maximum": 9},
                        "position": {"type": "integer", "minimum": 0},
                    },
                    "required": ["email"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["name"],
        "additionalProperties": False,
    },
}

_OPTIONS = ("strategy", *LIMITS, "join_when_empty", "leave_when_empty", "announce_position", "announce_wait", "callback_enabled", "callback_key",
            *WALLBOARD_FIELDS)


def _overflow_to_file(session, overflow: dict) -> dict:
    kind = (overflow or {}).get("kind") or "hangup"
    target = str((overflow or {}).get("target") or "")
    if kind == "hangup":
        return {"kind": "hangup"}
    if kind == "queue":
        names = {str(q.id): q.name for q in session.scalars(live_queues())}
        return {"kind": "queue", "target": names.get(target, target)}
    if kind == "voicemail":
        boxes = {str(b.id): b.name for b in session.scalars(select(VoicemailBox))}
        return {"kind": "voicemail", "target": boxes.get(target, target) or None}
    if kind == "flow":
        flow_id, _sep, node = target.partition(":")
        flows = {str(f.id): f.name for f in session.scalars(select(Flow))}
        out = {"kind": "flow", "target": flows.get(flow_id, flow_id)}
        return {**out, "node": node} if node else out
    return {"kind": kind, "target": target}


def export_queues(ctx) -> list:
    prompts = PromptNames(ctx.session)
    out = []
    for queue in ctx.session.scalars(live_queues()):
        item = {"name": queue.name}
        item.update({key: getattr(queue, key) for key in _OPTIONS})
        item["overflow"] = _overflow_to_file(ctx.session, queue.overflow)
        item["hold_audio"] = prompts.to_file(queue.hold_audio or {})
        item["members"] = [{"email": m.user.email, "level": m.level, "position": m.position} for m in queue.members]
        out.append(item)
    return out


def _overflow_from_file(ctx, path: str, overflow: dict) -> dict | None:
    """The database form of a file's overflow, or None after reporting the unknown name."""
    kind, target = overflow.get("kind", "hangup"), (overflow.get("target") or "").strip()
    if kind == "queue":
        other = queue_by_name(ctx.session, target)
        if other is None:
            ctx.error(f"{path}.target", _("There is no queue named ${name}.", mapping={"name": target}))
            return None
        return {"kind": "queue", "target": str(other.id)}
    if kind == "flow":
        flow = flow_by_name(ctx.session, target)
        if flow is None:
            ctx.error(f"{path}.target", _("There is no flow named ${name}.", mapping={"name": target}))
            return None
        node = overflow.get("node")
        if node and node not in {n.get("id") for n in flow.nodes}:
            ctx.error(f"{path}.node", _("The flow ${flow} has no node ${node}.", mapping={"flow": flow.name, "node": node}))
            return None
        return {"kind": "flow", "target": f"{flow.id}:{node}" if node else str(flow.id)}
    if kind == "voicemail" and target:
        box = ctx.session.scalar(select(VoicemailBox).where(VoicemailBox.name == target))
        if box is None:
            ctx.error(f"{path}.target", _("There is no voicemail box named ${name}.", mapping={"name": target}))
            return None
        return {"kind": "voicemail", "target": str(box.id)}
    return {"kind": kind, "target": target}


def apply_queues(ctx, value: list) -> None:
    request = ctx.request()
    prompts = PromptNames(ctx.session)
    for i, item in enumerate(value):
        path = f"$.queues[{i}]"
        if ctx.broken(path):
            continue
        existing = queue_by_name(ctx.session, item["name"].strip())
        settings = QueueSettings(name=item["name"])
        for key in _OPTIONS:
            # What the file leaves out keeps the queue's current value (a new queue: the default).
            if key in item:
                setattr(settings, key, item[key])
            elif existing is not None:
                setattr(settings, key, getattr(existing, key))
        if existing is not None:
            # The callback hours are a schedule id, not in the file: the queue keeps its own.
            settings.callback_schedule_id = existing.callback_schedule_id
        ok, hold = prompts.from_file(ctx, f"{path}.hold_audio", item.get("hold_audio") or {})
        settings.hold_audio = hold or {}
        overflow = item.get("overflow") or {"kind": "hangup"}
        members = _members(ctx, path, item.get("members", []))
        if not ok or members is None:
            continue
        # Another queue or a flow may come later in the file: set that overflow at the end.
        forward = overflow.get("kind") in ("queue", "flow")
        settings.overflow = {"kind": "hangup"} if forward else _overflow_from_file(ctx, f"{path}.overflow", overflow)
        if settings.overflow is None:
            continue
        try:
            with ctx.session.begin_nested():
                queue = save_queue(request, settings, queue=existing)
                set_members(request, queue, members)
        except UserError as err:
            ctx.error(_error_path(path, err.field), err.message)
            continue
        if forward:
            ctx.later(lambda queue=queue, settings=settings, overflow=overflow, path=path: _set_overflow(ctx, request, queue, settings, overflow, path))


def _set_overflow(ctx, request, queue, settings: QueueSettings, overflow: dict, path: str) -> None:
    resolved = _overflow_from_file(ctx, f"{path}.overflow", overflow)
    if resolved is None:
        return
    settings.overflow = resolved
    try:
        with ctx.session.begin_nested():
            save_queue(request, settings, queue=queue)
    except UserError as err:
        ctx.error(f"{path}.overflow", err.message)


def _members(ctx, path: str, items: list) -> list[MemberSetting] | None:
    members, ok = [], True
    for j, member in enumerate(items):
        user = find_user_by_email(ctx.session, member["email"])
        if user is None or user.tenant_id != ctx.tenant.id:
            ctx.error(f"{path}.members[{j}].email", _("There is no user with the e-mail address ${email}.", mapping={"email": member["email"]}))
            ok = False
            continue
        members.append(MemberSetting(user.id, member.get("level", 1), member.get("position")))
    return members if ok else None


def _error_path(path: str, field: str | None) -> str:
    if not field:
        return path
    if field.startswith("members."):
        _m, index, _rest = field.split(".", 2)
        return f"{path}.members[{index}].email"
    return f"{path}.{field}"


def includeme(config):
    config.add_tenant_config_section("queues", order=50, schema=QUEUES_SCHEMA, export=export_queues, apply=apply_queues)
