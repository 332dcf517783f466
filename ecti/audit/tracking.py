"""Every configuration change in the audit log, with its before and after, from one place.

Why a session hook rather than a call in each view: configuration changes come from the
console, the JSON API, the CLI, configuration-file imports and plugins, and a call forgotten in
one of those paths would leave a hole in a log that promises "who changed what". So a model
declares once that it is audited (:class:`Audited`, set as its ``__audit__`` or with
:func:`audit_model`), and the session does the rest:

* at the first flush of a transaction that writes such a row (or one of its child rows, e.g. a
  queue's members), the row *as stored so far* is read back from the database: the "before";
* when the transaction commits, the row is read again: the "after"; one :class:`AuditEntry`
  per changed row is added to the same transaction, with the changed fields, the actor (the
  signed-in user, "CLI", or the system) and secrets masked.

A rolled-back transaction therefore leaves no entry, and a save that changes nothing leaves
none either. Changes that are not rows of one model (a contacts import, a configuration file)
are recorded explicitly with :func:`record_change`.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable

from sqlalchemy import inspect, select

from ..models.meta import utcnow

#: Stands for a secret's value in ``before``/``after``; the secret itself is never stored.
MASK = "********"
#: Field names that are masked even when a spec forgot to declare them secret.
SECRET_NAME = re.compile(r"password|secret|token|api_key(?!_sid)|private", re.IGNORECASE)
#: Columns that say when or by what a row was written, not what it configures.
BOOKKEEPING = frozenset({"id", "tenant_id", "created_at", "updated_at", "synced_at"})

PENDING_KEY = "ecti.audit.pending"
#: ``session.info`` keys: the request (actor = its user), or an actor name such as ``"cli"``.
REQUEST_KEY = "ecti.audit.request"
ACTOR_KEY = "ecti.audit.actor"
#: ``session.info`` key: where the changes come from (``"config_file"`` during an import).
VIA_KEY = "ecti.audit.via"


@dataclass(frozen=True)
class Children:
    """Rows of another table that are part of the audited row (a queue's members).

    ``fk`` is the child's column pointing at the parent; ``fields`` the child columns kept (in
    order); ``refs`` like :attr:`Audited.refs`. The children appear as one field ``name``: a
    list of dicts, sorted.
    """

    name: str
    model: type
    fk: str
    fields: tuple[str, ...]
    refs: dict[str, tuple[type, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Audited:
    """How one model's rows appear in the audit log.

    ``kind`` is the stable code of the entries (``queue`` gives ``queue.create``,
    ``queue.update``, ``queue.delete``); ``label`` names it for people; ``labels`` name its
    fields (fields without a label are shown by their column name, so give one to each);
    ``choices`` label stored values (enum codes); ``exclude`` lists columns that change while the system works (a round-robin cursor) and must
    not make an entry; ``secrets`` are masked; ``refs`` turn a foreign key (or a JSON list of
    ids) into the referenced row's name (``{"flow_id": (Flow, "name")}``); ``title`` is the
    column that names a row in the summary; ``archived`` a column whose setting means the row
    was deleted (kept for history).
    """

    kind: str
    label: Any
    labels: dict[str, Any] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    refs: dict[str, tuple[type, str]] = field(default_factory=dict)
    children: tuple[Children, ...] = ()
    title: str | None = "name"
    archived: str | None = None
    #: Names the parts of an item of a list of steps (``"settings.prompt"``, ``"next.1"``): a
    #: function from the part's path to its label (a flow's steps).
    parts: Any = None
    #: Labels of a field's stored values (``{"strategy": {"longest_idle": _("Longest idle")}}``),
    #: or the name of a plugin registry whose items have a ``label`` (``"holiday_calendars"``).
    choices: dict[str, dict[str, Any] | str] = field(default_factory=dict)


#: kind → spec, for every audited model (plugins' too, once their models are imported).
KINDS: dict[str, Audited] = {}
#: Extra kinds recorded only through :func:`record_change` (no model), kind → (label, labels).
EXPLICIT_KINDS: dict[str, Audited] = {}


def audit_model(model: type, spec: Audited) -> type:
    """Declare that changes of ``model`` rows are audited (same as ``__audit__ = spec``)."""
    model.__audit__ = spec
    KINDS[spec.kind] = spec
    _PARENTS.clear()
    return model


def audit_kind(spec: Audited) -> Audited:
    """Declare a kind that is only recorded with :func:`record_change` (its labels)."""
    EXPLICIT_KINDS[spec.kind] = spec
    return spec


def all_kinds() -> dict[str, Audited]:
    """Every declared kind: the core's, and those of every model mapped so far (plugins')."""
    from ..models.meta import Base

    from . import kinds  # noqa: F401  (the core's declarations)

    for mapper in Base.registry.mappers:
        _spec_of(mapper.class_)
    return {**EXPLICIT_KINDS, **KINDS}


def spec_for_kind(kind: str) -> Audited | None:
    return KINDS.get(kind) or EXPLICIT_KINDS.get(kind) or all_kinds().get(kind)


#: child model → [(parent model, Children)]; rebuilt when a model is declared.
_PARENTS: dict[type, list[tuple[type, Children]]] = {}


def _parents() -> dict[type, list[tuple[type, Children]]]:
    if not _PARENTS:
        for spec in KINDS.values():
            for model in _models_with(spec):
                for child in spec.children:
                    _PARENTS.setdefault(child.model, []).append((model, child))
    return _PARENTS


def _models_with(spec: Audited) -> Iterable[type]:
    from ..models.meta import Base

    return [m.class_ for m in Base.registry.mappers if m.class_.__dict__.get("__audit__") is spec]


def _spec_of(cls: type) -> Audited | None:
    spec = cls.__dict__.get("__audit__")
    if spec is not None and spec.kind not in KINDS:
        KINDS[spec.kind] = spec  # declared as a class attribute
        _PARENTS.clear()
    return spec


# --- reading a row as the database holds it ---------------------------------------------------

def plain(value: Any) -> Any:
    """``value`` as JSON can hold it (enums by value, times in ISO 8601)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _resolve(conn, ref: tuple[type, str], value: Any) -> Any:
    """The referenced row's name instead of its id (a list of names for a list of ids)."""
    model, column = ref
    table = model.__table__
    ids = value if isinstance(value, list) else [value]
    ids = [i for i in ids if isinstance(i, int) or (isinstance(i, str) and i.isdigit())]
    if not ids:
        return value
    names = dict(conn.execute(select(table.c.id, table.c[column]).where(table.c.id.in_([int(i) for i in ids]))).all())
    if isinstance(value, list):
        return [names.get(int(i), i) for i in ids]
    return names.get(int(value), value)


def _row_dict(conn, row, columns: Iterable[str], refs: dict) -> dict[str, Any]:
    result = {}
    for name in columns:
        value = row[name]
        if name in refs and value is not None:
            value = _resolve(conn, refs[name], value)
        result[name] = plain(value)
    return result


def snapshot(conn, model: type, spec: Audited, row_id: int) -> dict[str, Any] | None:
    """The row ``row_id`` of ``model`` (with its children) as stored, or None if there is none."""
    table = model.__table__
    row = conn.execute(select(table).where(table.c.id == row_id)).mappings().first()
    if row is None:
        return None
    columns = [c.name for c in table.columns if c.name not in BOOKKEEPING and c.name not in spec.exclude]
    result = _row_dict(conn, row, columns, spec.refs)
    result["tenant_id"] = row.get("tenant_id")
    for child in spec.children:
        child_table = child.model.__table__
        rows = conn.execute(select(child_table).where(child_table.c[child.fk] == row_id)).mappings().all()
        items = [_row_dict(conn, r, child.fields, child.refs) for r in rows]
        result[child.name] = sorted(items, key=lambda item: [str(item.get(f)) for f in child.fields])
    return result


# --- the session hooks ------------------------------------------------------------------------

def _subjects(session) -> set[tuple[type, Any]]:
    """(audited model, the row object or its id) of every audited row the coming flush writes,
    directly or through a child row (a queue member names its queue by id)."""
    found: set[tuple[type, Any]] = set()
    parents = _parents()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        cls = type(obj)
        spec = _spec_of(cls)
        if spec is not None:
            if obj in session.dirty and not _really_changed(obj, spec):
                continue
            found.add((cls, obj))
            continue
        for parent_model, child in parents.get(cls, ()):
            parent_id = getattr(obj, child.fk, None)
            if parent_id is None:
                parent = next((getattr(obj, rel.key) for rel in inspect(cls).relationships if rel.mapper.class_ is parent_model), None)
                parent_id = parent.id if parent is not None and parent.id is not None else None
                if parent_id is None and parent is not None:
                    found.add((parent_model, parent))
                    continue
            if parent_id is None:
                state = inspect(obj)
                parent_id = state.committed_state.get(child.fk)
            if parent_id is not None:
                found.add((parent_model, parent_id))
    return found


def _really_changed(obj, spec: Audited) -> bool:
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        if attr.key in BOOKKEEPING or attr.key in spec.exclude:
            continue
        if state.attrs[attr.key].history.has_changes():
            return True
    return False


def note_changes(session) -> None:
    """``before_flush``: remember the stored state of every audited row about to change."""
    from . import kinds  # noqa: F401  (the core's declarations, imported once)

    subjects = _subjects(session)
    if not subjects:
        return
    pending: dict = session.info.setdefault(PENDING_KEY, {})
    conn = None
    for model, ident in subjects:
        if isinstance(ident, int):
            key = (model, ident)
            obj = None
        else:
            obj = ident
            key = (model, obj.id) if obj.id is not None else (model, id(obj))
        if key in pending or (obj is not None and any(item["obj"] is obj for item in pending.values())):
            continue
        if obj is None and any(item["obj"] is not None and item["model"] is model and item["obj"].id == ident for item in pending.values()):
            continue
        via = session.info.get(VIA_KEY)
        if obj is not None and obj in session.new:
            pending[key] = {"model": model, "obj": obj, "before": None, "via": via}
            continue
        conn = conn or session.connection()
        row_id = key[1]
        pending[key] = {"model": model, "obj": obj, "before": snapshot(conn, model, _spec_of(model), row_id), "via": via}


def write_changes(session) -> None:
    """``before_commit``: compare with the stored state and add one entry per changed row."""
    if session.in_nested_transaction():
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # commit flushes only after this hook: note what the last flush changes
    pending = session.info.pop(PENDING_KEY, None)
    if not pending:
        return
    from ..db import all_tenants

    # Entries name their company themselves; the CLI commits after leaving its all-tenant scope.
    with all_tenants(session):
        _write(session, pending)


def _write(session, pending: dict) -> None:
    conn = session.connection()
    actor, actor_name = _actor(session)
    for (model, _key), item in pending.items():
        spec = _spec_of(model)
        obj = item["obj"]
        row_id = obj.id if obj is not None else _key
        if row_id is None:
            continue
        after = snapshot(conn, model, spec, row_id)
        before = item["before"]
        if before == after:
            continue
        tenant_id = (after or before or {}).pop("tenant_id", None)
        for state in (before, after):
            if state is not None:
                state.pop("tenant_id", None)
        if before == after:
            continue
        op = "create" if before is None else "delete" if after is None else "update"
        if spec.archived and op == "update" and before.get(spec.archived) is None and after.get(spec.archived) is not None:
            op = "delete"
        session.add(_entry(spec, op, tenant_id, row_id, model.__name__, before, after, actor, actor_name, item["via"]))
    session.flush()


def forget_changes(session, transaction) -> None:
    """``after_transaction_end``: a finished (or rolled back) transaction's notes go away."""
    if transaction.parent is None:
        session.info.pop(PENDING_KEY, None)


def _actor(session):
    """(the signed-in user or None, an actor name such as ``"cli"`` or None)."""
    request = session.info.get(REQUEST_KEY)
    if request is not None:
        with session.no_autoflush:
            return request.identity, None
    return None, session.info.get(ACTOR_KEY)


def _masked(spec: Audited | None, before, after) -> tuple[Any, Any, list[str]]:
    secrets = set(spec.secrets if spec else ())
    changed = []
    for name in set(before or {}) | set(after or {}):
        if name in secrets or SECRET_NAME.search(name):
            old, new = (before or {}).get(name), (after or {}).get(name)
            if old != new and before is not None and after is not None:
                changed.append(name)
            if before is not None and old not in (None, ""):
                before[name] = MASK
            if after is not None and new not in (None, ""):
                after[name] = MASK
    return before, after, sorted(changed)


def _entry(spec, op, tenant_id, target_id, target_type, before, after, actor, actor_name, via=None):
    from .models import AuditEntry

    title = None
    if spec is not None and spec.title:
        title = (after or before or {}).get(spec.title)
    before, after, secrets_changed = _masked(spec, before, after)
    details: dict[str, Any] = {"kind": spec.kind if spec else None, "title": title, "before": before, "after": after}
    if secrets_changed:
        details["secrets_changed"] = secrets_changed
    if actor_name:
        details["actor"] = actor_name
    if via:
        details["via"] = via
    return AuditEntry(
        tenant_id=tenant_id,
        actor_id=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else None,
        action=f"{spec.kind}.{op}",
        target_type=target_type,
        target_id=target_id,
        details=plain(details),
        at=utcnow(),
    )


OPS = frozenset({"create", "update", "delete", "import"})


def record_change(
    request_or_session,
    kind: str,
    *,
    op: str = "update",
    target=None,
    title: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
    tenant_id: int | None = None,
):
    """Write one audit entry for a change that is not a row of an audited model.

    ``request_or_session`` is the Pyramid request (the actor is its user) or a session (the
    actor is whatever the session says: "CLI", or the system). ``kind`` names a kind declared
    with :func:`audit_kind` or :func:`audit_model`; ``op`` is ``create``, ``update``,
    ``delete`` or ``import``; ``before``/``after`` are plain dicts (secrets are masked here).
    The entry joins the current transaction.
    """
    if op not in OPS:
        raise ValueError(f"unknown audit operation {op!r}: one of {sorted(OPS)}")
    spec = spec_for_kind(kind)
    if spec is None:
        raise ValueError(f"unknown audit kind {kind!r}: declare it with ecti.audit.audit_kind()")
    session = getattr(request_or_session, "db", request_or_session)
    if request_or_session is not session:
        actor, actor_name = request_or_session.identity, None
    else:
        actor, actor_name = _actor(session)
    if tenant_id is None:
        tenant_id = getattr(target, "tenant_id", None)
    if tenant_id is None and actor is not None:
        tenant_id = actor.tenant_id
    if tenant_id is None and request_or_session is not session and getattr(request_or_session, "tenant", None) is not None:
        tenant_id = request_or_session.tenant.id
    if target is not None and getattr(target, "id", None) is None:
        session.flush()
    entry = _entry(
        spec, op, tenant_id, getattr(target, "id", None), type(target).__name__ if target is not None else None,
        plain(dict(before)) if before is not None else None, plain(dict(after)) if after is not None else None,
        actor, actor_name, session.info.get(VIA_KEY),
    )
    if title is not None:
        entry.details = {**entry.details, "title": title}
    from ..db import all_tenants

    session.add(entry)
    with all_tenants(session):  # the entry names its company; the caller's scope may be another's
        session.flush([entry])
    return entry


def track_sessions(session_class: type) -> None:
    """Install the hooks on a session class (done once for :class:`ecti.db.EctiSession`)."""
    from sqlalchemy import event

    event.listen(session_class, "before_flush", lambda session, context, instances: note_changes(session))
    event.listen(session_class, "before_commit", write_changes)
    event.listen(session_class, "after_transaction_end", forget_changes)
