"""The demo's SQLite under concurrent softphones (issue 18): opening the phone while others
write never answers "database is locked"; reads never write; the error answer never fails."""
import sqlite3
import threading
import time

import pytest
import webtest as wt
from sqlalchemy import event, select

from ecti.acd.models import Agent
from ecti.config import configure


@pytest.fixture
def sqlite_app(app_settings, database_url, clean_database):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's single writer; PostgreSQL has row locks")
    config = configure(dict(app_settings, **{"ecti.sqlite_busy_timeout_ms": "2000"}))
    yield config.registry["ecti.engine"], config.make_wsgi_app()
    config.registry["ecti.engine"].dispose()


def test_opening_the_phone_reads_without_writing(sqlite_app, db, make_tenant, make_user, login):
    engine, app = sqlite_app
    agent = make_user(make_tenant(), role="agent")  # never used the phone: no agent row yet
    testapp = wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    login(testapp, agent)
    writes = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        if statement.split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", watch)
    try:
        me = testapp.get("/api/v1/acd/me").json
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert (me["presence"], me["status"], me["status_label"]) == ("offline", "offline", "オフライン")
    assert writes == []
    assert db.scalar(select(Agent).where(Agent.user_id == agent.id)) is None


def test_concurrent_phones_and_a_busy_writer_never_get_an_error(sqlite_app, database_url, make_tenant, make_user, login):
    engine, app = sqlite_app
    tenant = make_tenant()
    agents = [make_user(tenant, role="agent") for _ in range(6)]
    clients = []
    for agent in agents:
        testapp = wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
        clients.append((testapp, login(testapp, agent)))
    failures, done = [], threading.Event()

    def phone(testapp, token):
        # What the page does: poll, change presence, read the log — as fast as it can.
        for i in range(12):
            for method, url, body in (("GET", "/api/v1/acd/me", None),
                                      ("PUT", "/api/v1/acd/me/presence", {"presence": "available" if i % 2 else "away"}),
                                      ("GET", "/api/v1/softphone/log", None), ("GET", "/api/v1/acd/waiting", None)):
                if method == "GET":
                    response = testapp.get(url, expect_errors=True)
                else:
                    response = testapp.put_json(url, body, headers={"X-CSRF-Token": token}, expect_errors=True)
                if response.status_int != 200:
                    failures.append((url, response.status, response.text[:200]))

    def worker():
        # Another process (the job worker) takes the write lock again and again.
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None, timeout=5)
        while not done.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE acd_agents SET updated_at = updated_at")
            time.sleep(0.02)
            conn.execute("COMMIT")
            time.sleep(0.005)
        conn.close()

    background = threading.Thread(target=worker)
    background.start()
    threads = [threading.Thread(target=phone, args=client) for client in clients]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        done.set()
        background.join()
    assert failures == []
