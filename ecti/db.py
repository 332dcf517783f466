"""Engine, sessions and the tenant scope.

``request.db`` is a SQLAlchemy session joined to the request's transaction (pyramid_tm +
zope.sqlalchemy): it commits when the view returns normally and rolls back on an exception.

Tenant isolation is enforced by the session, not by each view: every ORM query that touches a
:class:`TenantScoped` model gets ``WHERE tenant_id = :current`` added automatically, and a query
on such a model in a session that has no tenant scope raises :class:`TenantScopeError` instead
of silently reading every tenant's rows. Only code that works across tenants on purpose (the
operator console, the CLI, webhooks before the tenant is known) opens the scope with
:func:`all_tenants`.
"""
from __future__ import annotations

import collections
import contextlib
import threading
from typing import Any

import zope.sqlalchemy
from sqlalchemy import ForeignKey, engine_from_config, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, sessionmaker, with_loader_criteria

from .audit.tracking import REQUEST_KEY as AUDIT_REQUEST_KEY
from .audit.tracking import track_sessions

#: ``session.info`` key holding the current tenant id, or :data:`ALL_TENANTS`.
SCOPE_KEY = "ecti.tenant_scope"
ALL_TENANTS = object()


class TenantScopeError(RuntimeError):
    """A tenant-owned table was queried without choosing a tenant first."""


class TenantScoped:
    """Mixin for every table that belongs to one tenant."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False)


def set_tenant_scope(session: Session, tenant_id: int | None) -> None:
    """Scope every later query of ``session`` to one tenant (None: no scope, queries fail)."""
    if tenant_id is None:
        session.info.pop(SCOPE_KEY, None)
    else:
        session.info[SCOPE_KEY] = tenant_id


@contextlib.contextmanager
def all_tenants(session: Session):
    """Query across tenants inside the block (operator views, CLI, webhook tenant lookup)."""
    previous = session.info.get(SCOPE_KEY)
    session.info[SCOPE_KEY] = ALL_TENANTS
    try:
        yield session
    finally:
        if previous is None:
            session.info.pop(SCOPE_KEY, None)
        else:
            session.info[SCOPE_KEY] = previous


def _touches_tenant_data(orm_execute_state) -> bool:
    return any(issubclass(m.class_, TenantScoped) for m in orm_execute_state.all_mappers)


def _scope_to_tenant(orm_execute_state) -> None:
    if not (orm_execute_state.is_select or orm_execute_state.is_update or orm_execute_state.is_delete):
        return
    if orm_execute_state.is_column_load:
        return  # refreshing attributes of an object that was already loaded under the scope
    scope = orm_execute_state.session.info.get(SCOPE_KEY)
    if scope is ALL_TENANTS:
        return
    if scope is None:
        if _touches_tenant_data(orm_execute_state):
            raise TenantScopeError("query on tenant data without a tenant scope")
        return
    orm_execute_state.statement = orm_execute_state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == scope, include_aliases=True)
    )


def _before_flush(session: Session, flush_context, instances) -> None:
    """New tenant-owned rows take the session's tenant; rows of another tenant are refused."""
    scope = session.info.get(SCOPE_KEY)
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantScoped) or scope is ALL_TENANTS:
            continue
        if scope is None:
            raise TenantScopeError(f"writing {type(obj).__name__} without a tenant scope")
        if obj.tenant_id is None and obj in session.new:
            obj.tenant_id = scope
        elif obj.tenant_id != scope:
            raise TenantScopeError(f"writing {type(obj).__name__} of another tenant")


class EctiSession(Session):
    """The session class whose queries are scoped to a tenant."""


event.listen(EctiSession, "do_orm_execute", _scope_to_tenant)
event.listen(EctiSession, "before_flush", _before_flush)


# Every change of an audited row (ecti.audit.tracking) gets its audit entry at commit.
track_sessions(EctiSession)


def _sqlite_pragmas(dbapi_connection, connection_record, busy_ms: int = 10000):
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so that
    # SAVEPOINT works and transactions are BEGIN IMMEDIATE (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL syncs at checkpoints instead of every commit: the database stays
    # consistent, and only the last transactions can be lost on a power cut (not on a crash).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: Execution option asking SQLite for ``BEGIN IMMEDIATE`` (see :func:`writing`).
IMMEDIATE = "ecti_sqlite_immediate"


def _sqlite_begin(conn, writers: "_WriterQueue | None" = None):
    # A deferred transaction that reads and then writes fails at once with "database is
    # locked" when another writer got in between (busy_timeout cannot help there). Sessions
    # that mean to write take the write lock up front instead, and so wait their turn. Readers
    # stay deferred: with WAL they never block a writer.
    immediate = conn.get_execution_options().get(IMMEDIATE, False)
    if immediate and writers is not None:
        writers.enter(conn)
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
    except Exception:
        if writers is not None:
            writers.leave(conn.info)
        raise


class _FairLock:
    """A lock handed to waiters in the order they came (``threading.Lock`` wakes an arbitrary
    one, and a busy thread can take it again and again while another waits)."""

    def __init__(self):
        self._mutex = threading.Lock()
        self._waiters: collections.deque = collections.deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=timeout):
            return True  # handed over by release()
        with self._mutex:
            if turn in self._waiters:
                self._waiters.remove(turn)
                return False
        return True  # handed over just as the wait ran out

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # the next waiter holds it now
            else:
                self._held = False


class _WriterQueue:
    """SQLite admits one writer at a time. The threads of one process wait for it here, in
    order, and the next one goes the moment the previous transaction ends — instead of each sleeping in
    SQLite's busy handler, which polls in growing steps (up to 100 ms) and lets late comers
    overtake: with 20 concurrent webhooks that turned 1–2 ms transactions into p99 latencies
    of a second. Writers in *other* processes still meet in SQLite's busy handler. A thread
    that waits longer than the busy timeout goes on to SQLite, which then decides as before.
    """

    KEY = "ecti.sqlite_writer"

    def __init__(self, timeout_s: float):
        self.lock = _FairLock()
        self.timeout_s = timeout_s

    def enter(self, conn) -> None:
        if not conn.info.get(self.KEY) and self.lock.acquire(timeout=self.timeout_s):
            conn.info[self.KEY] = True

    def leave(self, info) -> None:
        if info.pop(self.KEY, False):
            self.lock.release()

    def listen(self, engine: Engine) -> None:
        event.listen(engine, "commit", lambda conn: self.leave(conn.info))
        event.listen(engine, "rollback", lambda conn: self.leave(conn.info))
        # Whatever happens to the transaction, a connection going back to the pool (or being
        # thrown away) frees its turn.
        event.listen(engine.pool, "checkin", lambda dbapi_connection, record: self.leave(record.info) if record is not None else None)
        event.listen(engine.pool, "invalidate", lambda dbapi_connection, record, exc: self.leave(record.info))


def writing(engine: Engine) -> Engine:
    """The engine for sessions that will write (on SQLite: ``BEGIN IMMEDIATE``)."""
    return engine.execution_options(**{IMMEDIATE: True})


#: SQLSTATEs of PostgreSQL errors after which the whole transaction may simply run again:
#: serialization failure and deadlock detected.
_TRANSIENT_SQLSTATES = ("40001", "40P01")
#: SQLite's words for "another connection holds the lock" (after ``busy_timeout`` ran out).
_TRANSIENT_SQLITE = ("database is locked", "database table is locked", "database is busy")


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (a DBAPI error) says "try the transaction again": SQLite's lock wait ran
    out, or PostgreSQL aborted the transaction for a deadlock or a serialization conflict."""
    sqlstate = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    if sqlstate in _TRANSIENT_SQLSTATES:
        return True
    return type(exc).__module__.startswith("sqlite3") and any(words in str(exc) for words in _TRANSIENT_SQLITE)


def _mark_transient(context) -> None:
    # pyramid_retry runs a web request again (``retry.attempts``, from a fresh transaction)
    # when its error provides IRetryableError: a polling softphone meeting a busy database gets
    # its answer a moment later instead of an error page.
    if context.original_exception is not None and is_transient(context.original_exception):
        from pyramid_retry import mark_error_retryable

        mark_error_retryable(context.sqlalchemy_exception or context.original_exception)


def make_engine(settings: dict[str, Any], prefix: str = "sqlalchemy.") -> Engine:
    engine = engine_from_config(settings, prefix, future=True)
    if engine.dialect.name == "sqlite":
        busy_ms = int(settings.get("ecti.sqlite_busy_timeout_ms", 10000))
        event.listen(engine, "connect", lambda dbapi_connection, record: _sqlite_pragmas(dbapi_connection, record, busy_ms))
        writers = _WriterQueue(busy_ms / 1000)
        writers.listen(engine)
        event.listen(engine, "begin", lambda conn: _sqlite_begin(conn, writers))
    event.listen(engine, "handle_error", _mark_transient)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, class_=EctiSession, expire_on_commit=False)


def tm_session(session_factory: sessionmaker, transaction_manager, *, write: bool = True) -> Session:
    """A session whose commit/rollback follows the transaction manager."""
    session = session_factory(bind=writing(session_factory.kw["bind"])) if write else session_factory()
    zope.sqlalchemy.register(session, transaction_manager=transaction_manager)
    return session


def includeme(config):
    settings = config.get_settings()
    settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"
    # pyramid_tm would read the signed-in user (a query) before the exception views can answer
    # an error, so a database that stays locked would end in the server's bare 500.
    settings.setdefault("tm.annotate_user", False)
    config.include("pyramid_tm")
    config.include("pyramid_retry")
    engine = config.registry.get("ecti.engine") or make_engine(settings)
    config.registry["ecti.engine"] = engine
    config.registry["ecti.session_factory"] = make_session_factory(engine)

    def db(request):
        # State-changing requests take SQLite's write lock up front (PostgreSQL ignores this);
        # GET and HEAD stay deferred, so a long reader never blocks writers.
        session = tm_session(request.registry["ecti.session_factory"], request.tm, write=request.method not in ("GET", "HEAD"))
        session.info[AUDIT_REQUEST_KEY] = request  # the audit log's actor is the request's user
        return session

    config.add_request_method(db, "db", reify=True)


def insert_first_wins(session: Session, model, values: dict[str, Any], unique: tuple[str, ...]):
    """Insert a row unless one with the same ``unique`` columns exists; returns ``(row,
    created)``. The first writer wins on both databases (``INSERT … ON CONFLICT DO NOTHING``):
    two requests racing with the same key (a carrier's retry, its fallback URL) both get the
    one row, where a plain INSERT would fail one of them with a unique violation. On
    PostgreSQL a racing insert waits for the first transaction, then reads its row."""
    from sqlalchemy import select

    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=list(unique)).returning(model)
    row = session.scalar(statement)
    if row is not None:
        return row, True
    query = select(model).filter_by(**{name: values[name] for name in unique}).execution_options(populate_existing=True)
    return session.scalar(query), False

