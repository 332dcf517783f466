"""Checking a flow before it is saved: a flow that passes cannot send a caller nowhere.

Every edge points at a node, every node is reachable from the start, no loop runs without a
node that waits for the caller (a menu), settings match their node type's JSON Schema, menu
digits are unique, and the schedules, voicemail boxes, queues and prompts named exist. Each
:class:`Problem` names the node and says what is wrong; :func:`problem_text` puts it in words.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from jsonschema import Draft202012Validator
from pyramid.i18n import TranslationString

from ..i18n import _
from ..prompts import prompt_ref_problem
from ..telephony.numbering import NumberError, check_outbound, format_domestic

NODE_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
#: The caller ID a flow that answers no number yet is checked with: a 050 number, whose dialing
#: rules are the strictest of the numbers the carrier issues (F-NUM-4: no free dial either).
UNASSIGNED_CALLER_ID = "+815012345678"
#: Registry key: kind → :class:`ReferenceKind` (``config.add_ivr_reference``).
REFERENCES_KEY = "ecti.ivr.references"


@dataclass(frozen=True)
class ReferenceKind:
    """Something node settings refer to by id (``"x-ecti-ref": kind``): schedules, voicemail
    boxes, and queues once the ACD registers them. ``choices(session)`` → ``{id: name}``."""

    kind: str
    label: Any
    choices: Callable[[Any], dict[int, str]]


def add_ivr_reference(config, kind: str, label, choices: Callable) -> None:
    """Config directive: settings with ``"x-ecti-ref": kind`` must name one of ``choices``."""
    choices = config.maybe_dotted(choices)

    def register():
        config.registry.setdefault(REFERENCES_KEY, {})[kind] = ReferenceKind(kind, label, choices)

    config.action(("ecti.ivr.reference", kind), register)


class ReferenceChecker:
    """Answers "does this schedule / box / queue / prompt exist" for one tenant's session."""

    def __init__(self, registry, session, caller_ids=None):
        self.kinds: dict[str, ReferenceKind] = registry.get(REFERENCES_KEY, {})
        self.session = session
        self._choices: dict[str, dict[int, str]] = {}
        #: The caller IDs a forward of this flow calls from: the numbers that answer with it
        #: (none: see :func:`outbound_refusal`).
        self.caller_ids: list[str] = list(caller_ids or ())

    def choices(self, kind: str) -> dict[int, str] | None:
        """``{id: name}`` of ``kind``, or None when nothing provides that kind (yet)."""
        if kind not in self.kinds:
            return None
        if kind not in self._choices:
            self._choices[kind] = self.kinds[kind].choices(self.session)
        return self._choices[kind]

    def exists(self, kind: str, value) -> bool:
        choices = self.choices(kind)
        if choices is None:  # e.g. queues before the ACD is installed: any positive id
            return isinstance(value, int) and value > 0
        return value in choices

    def label(self, kind: str):
        """How people call ``kind`` ("schedule", "voicemail box", …)."""
        known = self.kinds.get(kind)
        return known.label if known else kind

    def prompt_problem(self, ref):
        return prompt_ref_problem(self.session, ref)


def outbound_refusal(caller_ids, text: str):
    """``(e164, None)`` when the softphone's dialing rules (:func:`check_outbound`) allow calling
    ``text`` from every one of ``caller_ids``, else ``(None, message)`` with the softphone's message.
    ``text`` may be typed (``03-1234-5678``) or stored E.164; an E.164 is shown as people write it.
    No caller ID (a flow that answers no number yet): the 050 rules, the strictest."""
    shown = str(text or "").strip()
    if shown.startswith("+"):
        try:
            shown = format_domestic(shown)
        except NumberError:
            pass
    e164 = None
    for caller_id in list(caller_ids or ()) or [UNASSIGNED_CALLER_ID]:
        try:
            e164 = check_outbound(caller_id, shown)
        except NumberError as err:
            return None, err.message
    return e164, None


@dataclass(frozen=True)
class Problem:
    """What is wrong, where: ``path`` in the flow document (``nodes[2].next.1``), the node id."""

    path: str
    message: TranslationString
    node: str | None = None


def translate(localizer, message) -> str:
    """Translate a message whose mapping may hold translation strings too."""
    if isinstance(message, TranslationString) and message.mapping:
        mapping = {k: translate(localizer, v) for k, v in message.mapping.items()}
        message = TranslationString(message, mapping=mapping)
    return localizer.translate(message) if isinstance(message, TranslationString) else str(message)


def problem_text(localizer, problem: Problem) -> str:
    if problem.node:
        return translate(localizer, _("Node ${node}: ${problem}", mapping={"node": problem.node, "problem": problem.message}))
    return translate(localizer, problem.message)


_TYPE_NAMES = {
    "string": _("text"),
    "integer": _("a whole number"),
    "number": _("a number"),
    "boolean": _("true or false"),
    "object": _("an object"),
    "array": _("a list"),
    "null": _("null"),
}


def _setting_label(name: str):
    """A setting by the label the flow editor gives it (a plugin's own settings: their name)."""
    from .forms import FIELD_LABELS

    return FIELD_LABELS.get(name, name)


def _choice_label(value):
    from .forms import CHOICE_LABELS

    return CHOICE_LABELS.get(value, str(value)) if isinstance(value, str) else str(value)


def schema_error_message(error) -> TranslationString:
    """A jsonschema ``ValidationError`` in words people read (Japanese first); settings and
    choices are named by their labels, not by their codes."""
    v, expected, instance = error.validator, error.validator_value, error.instance
    if v == "required":
        missing = [name for name in expected if isinstance(instance, dict) and name not in instance]
        if len(missing) == 1:
            return _("“${name}” is required.", mapping={"name": _setting_label(missing[0])})
        return _("${name} is required.", mapping={"name": ", ".join(missing)})
    if v == "type":
        types = expected if isinstance(expected, list) else [expected]
        shown = _TYPE_NAMES.get(types[0], types[0]) if len(types) == 1 else " / ".join(types)
        return _("Enter ${expected}.", mapping={"expected": shown})
    if v in ("enum", "const"):
        values = expected if v == "enum" else [expected]
        if len(values) == 1:
            return _("Choose ${expected}.", mapping={"expected": _choice_label(values[0])})
        return _("Choose one of: ${expected}.", mapping={"expected": ", ".join(map(str, values))})
    if v == "minimum":
        return _("Enter a number of at least ${ge}.", mapping={"ge": expected})
    if v == "maximum":
        return _("Enter a number of at most ${le}.", mapping={"le": expected})
    if v == "minLength":
        return _("Enter at least ${min_length} characters.", mapping={"min_length": expected})
    if v == "maxLength":
        return _("Enter at most ${max_length} characters.", mapping={"max_length": expected})
    if v == "minItems":
        return _("List at least ${n} items.", mapping={"n": expected})
    if v == "maxItems":
        return _("List at most ${n} items.", mapping={"n": expected})
    if v == "pattern":
        return _("${value} does not have the expected format.", mapping={"value": instance})
    if v == "additionalProperties":
        extra = sorted(set(instance) - set(error.schema.get("properties", {}))) if isinstance(instance, dict) else []
        return _("${name} is not accepted here.", mapping={"name": ", ".join(extra)})
    return _("This value is not valid: ${error}", mapping={"error": error.message})


def json_path(parts) -> str:
    """``["nodes", 2, "next", "1"]`` → ``nodes[2].next.1``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def schema_problems(schema: dict, value, prefix: str = "", node: str | None = None) -> list[Problem]:
    problems = []
    for error in sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(map(str, e.path))):
        path = json_path(list(error.path))
        problems.append(Problem(f"{prefix}.{path}" if prefix and path else prefix or path, schema_error_message(error), node))
    return problems


def validate_flow(doc: dict, node_types: dict, checker: ReferenceChecker, *, check_settings: bool = True) -> list[Problem]:
    """Every problem of the flow document ``doc`` (``{"name", "start", "nodes"}``); [] if none.

    ``check_settings=False`` skips the settings' JSON Schema (a caller that already checked the
    whole document against a schema including them, like the tenant configuration import).
    """
    problems: list[Problem] = []
    if not str(doc.get("name") or "").strip():
        problems.append(Problem("name", _("Give the flow a name.")))
    nodes = doc.get("nodes") or []
    if not nodes:
        return problems + [Problem("nodes", _("Add at least one node."))]
    index: dict[str, int] = {}
    for i, node in enumerate(nodes):
        node_id = node.get("id")
        if not isinstance(node_id, str) or not NODE_ID.match(node_id):
            problems.append(Problem(f"nodes[{i}].id", _("The node id ${id} must be 1–40 letters, digits, - or _.", mapping={"id": node_id})))
        elif node_id in index:
            problems.append(Problem(f"nodes[{i}].id", _("The id is used by two nodes."), node_id))
        else:
            index[node_id] = i
    if doc.get("start") not in index:
        problems.append(Problem("start", _("The start node ${start} does not exist.", mapping={"start": doc.get("start")})))

    edges: dict[str, list[str]] = {node_id: [] for node_id in index}
    for i, node in enumerate(nodes):
        problems.extend(_node_problems(node, f"nodes[{i}]", index, edges, node_types, checker, check_settings))
    problems.extend(_graph_problems(doc.get("start"), nodes, index, edges, node_types))
    return problems


def _node_problems(node, path, index, edges, node_types, checker, check_settings) -> list[Problem]:
    node_id = node.get("id") if isinstance(node.get("id"), str) else None
    problems = []
    node_type = node_types.get(node.get("type"))
    if node_type is None:
        problems.append(
            Problem(f"{path}.type", _("Unknown node type ${type} (installed: ${types}).", mapping={"type": node.get("type"), "types": ", ".join(sorted(node_types))}), node_id)
        )
    settings = node.get("settings") or {}
    settings_ok = False
    if node_type is not None:
        found = schema_problems(node_type.settings_schema, settings, f"{path}.settings", node_id)
        settings_ok = not found
        if check_settings:
            problems.extend(found)
    if settings_ok:
        problems.extend(_settings_problems(node_type, settings, path, node_id, checker))
    exits = list(node_type.exits(settings)) if settings_ok else None
    next_ = node.get("next") or {}
    for exit, target in next_.items():
        if exits is not None and exit not in exits:
            problems.append(Problem(f"{path}.next.{exit}", _("There is no exit ${exit} (exits: ${exits}).", mapping={"exit": exit, "exits": ", ".join(exits) or "-"}), node_id))
        elif not target:
            continue
        elif target not in index:
            problems.append(Problem(f"{path}.next.{exit}", _("The exit ${exit} leads to ${target}, which does not exist.", mapping={"exit": exit, "target": target}), node_id))
        elif node_id in edges:
            edges[node_id].append(target)
    if settings_ok and hasattr(node_type, "required_exits"):
        for exit in node_type.required_exits(settings):
            if not next_.get(exit):
                problems.append(Problem(f"{path}.next.{exit}", _("Choose where ${exit} leads.", mapping={"exit": exit}), node_id))
    return problems


def _settings_problems(node_type, settings, path, node_id, checker) -> list[Problem]:
    problems = []
    if hasattr(node_type, "check"):
        problems.extend(Problem(f"{path}.settings", message, node_id) for message in node_type.check(settings, checker))
    for name, schema in node_type.settings_schema.get("properties", {}).items():
        if name not in settings:
            continue
        if schema.get("x-ecti-ref") and not checker.exists(schema["x-ecti-ref"], settings[name]):
            problems.append(
                Problem(f"{path}.settings.{name}", _("There is no ${kind} with the id ${id}.", mapping={"kind": checker.label(schema["x-ecti-ref"]), "id": settings[name]}), node_id)
            )
        if schema.get("x-ecti-prompt"):
            message = checker.prompt_problem(settings[name])
            if message is not None:
                problems.append(Problem(f"{path}.settings.{name}", message, node_id))
    return problems + phone_problems(node_type, settings, path, node_id, checker.caller_ids)


def phone_problems(node_type, settings: dict, path: str, node_id, caller_ids) -> list[Problem]:
    """The numbers a node calls (settings marked ``"x-ecti-phone"``) that the softphone's dialing
    rules refuse from ``caller_ids``, each with the softphone's message."""
    problems = []
    for name, schema in node_type.settings_schema.get("properties", {}).items():
        if not schema.get("x-ecti-phone") or name not in settings:
            continue
        values = settings[name] if isinstance(settings[name], list) else [settings[name]]
        for value in values:
            message = outbound_refusal(caller_ids, value)[1]
            if message is not None:
                problems.append(Problem(f"{path}.settings.{name}", message, node_id))
    return problems


def flow_phone_problems(doc: dict, node_types: dict, caller_ids) -> list[Problem]:
    """:func:`phone_problems` of every node of a saved flow (when a number is assigned to it)."""
    problems = []
    for i, node in enumerate(doc.get("nodes") or []):
        node_type = node_types.get(node.get("type"))
        if node_type is not None:
            problems.extend(phone_problems(node_type, node.get("settings") or {}, f"nodes[{i}]", node.get("id"), caller_ids))
    return problems


def _graph_problems(start, nodes, index, edges, node_types) -> list[Problem]:
    problems = []
    if start in index:
        seen, todo = {start}, [start]
        while todo:
            for target in edges[todo.pop()]:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        for node_id, i in index.items():
            if node_id not in seen:
                problems.append(Problem(f"nodes[{i}]", _("No path from the start reaches this node."), node_id))
    for component in _cycles(edges):
        if not any(getattr(node_types.get(nodes[index[n]].get("type")), "collects_input", False) for n in component):
            first = min(component, key=index.get)
            problems.append(
                Problem(f"nodes[{index[first]}]", _("The nodes ${nodes} form a loop without a menu: a caller would never leave it.", mapping={"nodes": " → ".join(sorted(component, key=index.get))}), first)
            )
    return problems


def _cycles(edges: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components that contain a cycle (Tarjan's algorithm)."""
    counter, stack, on_stack, low, order, found = [0], [], set(), {}, {}, []

    def visit(node):
        order[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in order:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], order[target])
        if low[node] == order[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                found.append(component)

    for node in edges:
        if node not in order:
            visit(node)
    return found
