"""A web request that meets a busy database is run again (pyramid_retry), not answered with an
error: the softphone's polling and presence changes keep working while the job worker or
another request holds SQLite's write lock for a moment."""
import sqlite3

import pytest
import webtest as wt
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from ecti.acd.models import Agent, Presence
from ecti.config import configure
from ecti.db import is_transient


@pytest.fixture
def short_wait_app(app_settings, database_url, clean_database):
    """The application on its own engine whose SQLite lock wait is short (100 ms)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's file lock; PostgreSQL's deadlocks are retried by zope.sqlalchemy (sqlstate 40P01/40001)")
    config = configure(dict(app_settings, **{"ecti.sqlite_busy_timeout_ms": "100"}))
    yield config.registry["ecti.engine"], config.make_wsgi_app()
    config.registry["ecti.engine"].dispose()


def test_a_request_that_meets_a_locked_database_is_retried(short_wait_app, database_url, db, make_tenant, make_user, login):
    engine, app = short_wait_app
    agent = make_user(make_tenant(), role="agent")
    testapp = wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    token = login(testapp, agent)

    # Another process (the job worker, say) holds the write lock...
    blocker = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    failures = []

    @event.listens_for(engine, "handle_error")
    def release_after_first_failure(context):
        # ...until the request's first attempt gave up waiting for it.
        failures.append(str(context.original_exception))
        blocker.rollback()

    try:
        response = testapp.put_json("/api/v1/acd/me/presence", {"presence": "available"}, headers={"X-CSRF-Token": token})
    finally:
        event.remove(engine, "handle_error", release_after_first_failure)
        blocker.close()

    assert failures == ["database is locked"]  # the first attempt met the lock
    assert response.status_int == 200 and response.json["presence"] == "available"  # the retry went through
    assert db.scalar(select(Agent.presence).where(Agent.user_id == agent.id)) is Presence.available


def test_a_lock_that_stays_is_tried_retry_attempts_times_then_answered_503(short_wait_app, database_url, make_tenant, make_user, login):
    engine, app = short_wait_app
    agent = make_user(make_tenant(), role="agent")
    testapp = wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    token = login(testapp, agent)
    attempts = []

    def count(context):
        attempts.append(context)

    event.listen(engine, "handle_error", count)
    blocker = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        response = testapp.put_json("/api/v1/acd/me/presence", {"presence": "available"}, headers={"X-CSRF-Token": token},
                                    expect_errors=True)
    finally:
        blocker.rollback()
        blocker.close()
        event.remove(engine, "handle_error", count)
    assert len(attempts) == 3  # retry.attempts, then a clear answer (the error page itself must not fail)
    assert response.status_int == 503 and response.headers["Retry-After"] == "1"
    assert response.json["error"]["code"] == "database_busy"
    assert "データベースが混み合っています" in response.json["error"]["message"]


def test_only_lock_and_conflict_errors_count_as_transient():
    assert is_transient(sqlite3.OperationalError("database is locked"))
    assert not is_transient(sqlite3.OperationalError("no such table: calls"))
    assert not is_transient(sqlite3.IntegrityError("UNIQUE constraint failed: users.email"))
    import psycopg

    assert is_transient(psycopg.errors.DeadlockDetected())
    assert is_transient(psycopg.errors.SerializationFailure())
    assert not is_transient(psycopg.errors.UniqueViolation())


def test_sqlite_writers_of_one_process_take_turns_in_arrival_order():
    """The in-process queue for SQLite's write lock (ecti.db): first come, first served; a
    waiter whose wait runs out leaves the queue and goes on to SQLite's own busy handling."""
    import threading
    import time

    from ecti.db import _FairLock

    lock = _FairLock()
    assert lock.acquire(timeout=1)
    order, started = [], []

    def writer(name):
        started.append(name)
        assert lock.acquire(timeout=5)
        order.append(name)
        lock.release()

    threads = []
    for name in ("first", "second", "third"):
        threads.append(threading.Thread(target=writer, args=(name,)))
        threads[-1].start()
        while name not in started:
            time.sleep(0.001)
        time.sleep(0.02)  # queued behind the previous one
    assert lock.acquire(timeout=0.05) is False  # gives up; not left in the queue
    lock.release()
    for t in threads:
        t.join(timeout=5)
    assert order == ["first", "second", "third"]
    assert lock.acquire(timeout=0.1) is True
