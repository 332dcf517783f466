"""Pytest fixtures for ECTI and its plugins (``pytest_plugins = ["ecti.testing"]``).

Plugin authors get the same fixtures the core's tests use:

* ``database_url`` — every test that touches the database runs twice, on SQLite and on
  PostgreSQL (``ECTI_TEST_DATABASE_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``;
  a throw-away database is created next to it). Migrations run once per backend, so every run
  exercises them. Without PostgreSQL the PostgreSQL half is skipped, except under ``CI=true``
  where it fails.
* ``db`` — a session across all tenants for arranging data; commit with ``db.commit()``.
  Every table is emptied after each test.
* ``app`` — the WSGI application on that database with every installed plugin (built once per
  set of settings, reset between tests); ``webtest`` — a WebTest ``TestApp`` for it;
  ``make_app(*plugins)`` — an application with exactly the core and the given plugins;
  ``make_tenant`` / ``make_user`` — create data; ``login`` — sign a TestApp in.
* ``api`` — like ``webtest`` for ``/api/v1/``, but every response is checked against the
  OpenAPI document (status documented, body matching its schema).
* ``live_server`` (the app over real HTTP), ``page`` (a Chromium tab, Debian's browser),
  ``run_queued_jobs(registry)`` (what a job worker would do). ``ecti_twilio.testing`` adds
  ``telephony`` (ECTI wired to the Twilio simulator) and ``ecti.acd.testing`` an ACD driver.

Passwords are hashed with argon2's cheapest parameters in the test process.
Documented for integrators in ``docs/plugins.md`` (Testing a plugin).
"""
from __future__ import annotations

import collections
import contextlib
import logging
import os
import secrets
import tempfile
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEST_ENCRYPTION_KEY = "3u-7rsDwGOVvQ2Tx4GW4kKZ4BcBdJXq3zqvOb4mBq9M="


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def run_queued_jobs(registry) -> int:
    """Do what ``ecti jobs worker`` does: run the jobs queued so far (after commit), in order;
    returns how many ran. Tests call it where a worker process would be running."""
    huey = registry["ecti.huey"]
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
    return ran


def base_settings(url: str) -> dict:
    """Application settings for tests on the database at ``url``."""
    return {
        "sqlalchemy.url": url,
        "ecti.secret_key": "test-secret-" + "x" * 32,
        "ecti.encryption_keys": TEST_ENCRYPTION_KEY,
        "ecti.environment": "test",
        "ecti.public_url": "http://localhost",
        "ecti.media_dir": os.path.join(tempfile.gettempdir(), f"ecti-test-media-{os.getpid()}"),
        "pyramid.default_locale_name": "ja",
        # Jobs are kept, never run by a worker: tests call the work itself.
        "ecti.jobs.backend": "memory",
        # After-commit carrier requests in the request thread, so a test sees the phone ring
        # when its request returns (tests/acd/test_carrier_pool.py covers the pool).
        "ecti.carrier.threads": "0",
    }


def _create_pg_database(admin_url: str) -> str:
    from sqlalchemy import create_engine, text

    name = f"ecti_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path="/" + name))


def _drop_pg_database(admin_url: str, url: str) -> None:
    from sqlalchemy import create_engine, text

    name = urlsplit(url).path.lstrip("/")
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """A migrated, empty database on each backend."""
    from . import migrate
    from .db import make_engine

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'ecti.sqlite'}"
        migrate.upgrade(url)
        yield url
        return
    admin_url = os.environ.get("ECTI_TEST_DATABASE_URL", DEFAULT_PG_URL)
    try:
        url = _create_pg_database(admin_url)
    except Exception as exc:  # any connection failure: no PostgreSQL here
        message = f"PostgreSQL not reachable at {admin_url}: {exc}"
        if _in_ci():
            pytest.fail(message + " (CI=true: PostgreSQL is required)", pytrace=False)
        pytest.skip(message)
    try:
        engine = make_engine({"sqlalchemy.url": url})
        with engine.begin() as conn:
            migrate.upgrade(connection=conn)
        engine.dispose()
        yield url
    finally:
        _drop_pg_database(admin_url, url)


@pytest.fixture(scope="session")
def engine(database_url):
    from .db import make_engine

    eng = make_engine({"sqlalchemy.url": database_url, "sqlalchemy.pool_size": 10} if database_url.startswith("postgresql") else {"sqlalchemy.url": database_url})
    yield eng
    eng.dispose()


def _empty_tables(engine) -> None:
    """Empty every table and start its ids at 1 again. On PostgreSQL only the tables that have
    rows or a used id sequence are truncated (one query finds them): truncating all of them took
    ~80 ms a test."""
    from sqlalchemy import text

    from .models import Base

    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name != "postgresql":
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
            return
        with_rows = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables)
        dirty = set(conn.execute(text(with_rows)).scalars())
        used = conn.execute(text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL")).scalars()
        for sequence in used:
            table = sequence.removesuffix("_id_seq")
            if table in tables:
                dirty.add(table)
            else:
                conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
        if dirty:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables if t in dirty) + " RESTART IDENTITY CASCADE"))


@pytest.fixture
def clean_database(engine):
    """Empty every table after the test (tests may commit, and live servers do)."""
    yield
    _empty_tables(engine)


@pytest.fixture
def db(engine, clean_database):
    """A session across all tenants, for arranging and inspecting data."""
    from .db import all_tenants, make_session_factory

    session = make_session_factory(engine)()
    with all_tenants(session):
        yield session
    session.rollback()
    session.close()


@pytest.fixture
def app_settings(database_url):
    return base_settings(database_url)


class _CachedApp:
    """An application built once for a set of settings and reused by the tests that ask for the
    same ones (building it took 0.3–0.5 s, a third of a typical test). What a test may change in
    its registry — entries, settings, handler tables — and the jobs it queued are put back after
    the test, so each test still starts from the app as ``configure`` made it."""

    def __init__(self, settings: dict, engine):
        from .config import configure

        self.wsgi = configure(dict(settings), engine=engine).make_wsgi_app()
        registry = self.wsgi.registry
        self.entries = dict(registry)
        self.settings = dict(registry.settings)
        self.tables = {key: dict(value) for key, value in self.entries.items() if type(value) is dict}

    def reset(self) -> None:
        registry = self.wsgi.registry
        for key in set(registry) - set(self.entries):
            del registry[key]
        registry.update(self.entries)
        for key, table in self.tables.items():
            self.entries[key].clear()
            self.entries[key].update(table)
        registry.settings.clear()
        registry.settings.update(self.settings)
        huey = registry.get("ecti.huey")
        if huey is not None:
            huey.flush()


_APPS: "collections.OrderedDict[tuple, _CachedApp]" = collections.OrderedDict()
_APPS_KEPT = 8


@pytest.fixture
def app(app_settings, engine, clean_database):
    """The WSGI application for ``app_settings`` on the test database (built once for the same
    settings and reset between tests: see :class:`_CachedApp`)."""
    key = (id(engine), tuple(sorted((name, repr(value)) for name, value in app_settings.items())))
    cached = _APPS.pop(key, None) or _CachedApp(app_settings, engine)
    _APPS[key] = cached
    while len(_APPS) > _APPS_KEPT:
        _APPS.popitem(last=False)
    try:
        yield cached.wsgi
    finally:
        cached.reset()


@pytest.fixture
def make_app(app_settings, engine, clean_database):
    """``make_app(*plugins, settings=None, entry_points=False)``: a new application with exactly
    the core and ``plugins`` (modules or objects with ``ecti_*`` hook implementations) — no
    installed plugin unless ``entry_points`` — on the test database; ``settings`` are added to
    ``app_settings``. Returns a :class:`webtest.TestApp` whose ``.app.registry`` is the app's."""
    import webtest as wt

    from .config import configure
    from .plugins import get_plugin_manager

    def make(*plugins, settings: dict | None = None, entry_points: bool = False):
        pm = get_plugin_manager(load_entrypoints=entry_points, plugins=plugins)
        config = configure({**app_settings, **(settings or {})}, plugin_manager=pm, engine=engine)
        return wt.TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost"})

    return make


@pytest.fixture
def webtest(app):
    import webtest as wt

    return wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})


@pytest.fixture
def make_tenant(db):
    from .tenancy.services import create_tenant

    def make(slug: str = "acme", name: str = "株式会社アクメ", **kw):
        tenant = create_tenant(db, slug=slug, name=name, **kw)
        db.commit()
        return tenant

    return make


@pytest.fixture
def make_user(db):
    from .tenancy.models import Role
    from .tenancy.services import create_user

    def make(tenant, role: str = "admin", email: str | None = None, password: str = "correct horse battery", name: str = "テスト 太郎"):
        user = create_user(
            db,
            tenant=tenant,
            email=email or f"{role}-{secrets.token_hex(3)}@example.jp",
            display_name=name,
            role=Role(role),
            password=password,
        )
        db.commit()
        user.password = password  # for login(); not a column
        return user

    return make


@pytest.fixture
def login():
    """``login(testapp, user)`` signs the TestApp in and returns its CSRF token."""

    def do_login(testapp, user, password: str | None = None):
        form = testapp.get("/login").forms["login"]
        form["email"] = user.email
        form["password"] = password or user.password
        response = form.submit()
        assert response.status_int == 303, response.text
        return testapp.get("/api/v1/me").json["csrf_token"]

    return do_login


class OpenAPIChecker:
    """Checks responses against the application's own OpenAPI document."""

    def __init__(self, document: dict):
        """``document`` with its references made absolute (see :func:`_with_base`)."""
        import re

        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource

        self.document = document
        resource = Resource.from_contents({**document, "$schema": "https://json-schema.org/draft/2020-12/schema"})
        self._registry = Registry().with_resource("urn:ecti-openapi", resource)
        self._validator_cls = Draft202012Validator
        self._paths = [
            (re.compile("^" + re.sub(r"\\\{\w+\\\}", r"[^/]+", re.escape(path)) + "$"), path)
            # Literal paths before templated ones: /prompts/providers is not /prompts/{id}.
            for path in sorted(document["paths"], key=lambda p: p.count("{"))
        ]
        self.seen: set[tuple[str, str, str]] = set()

    def operation(self, method: str, path: str):
        for pattern, template in self._paths:
            if pattern.match(path):
                op = self.document["paths"][template].get(method.lower())
                if op is not None:
                    return template, op
        return None, None

    def check(self, method: str, path: str, status: int, body, query: str = "") -> None:
        template, op = self.operation(method, path)
        assert op is not None, f"{method} {path} is not in the OpenAPI document"
        declared = {p["name"] for p in op.get("parameters", ()) if p["in"] == "query"}
        if declared and query:
            from urllib.parse import parse_qsl

            sent = {name for name, _value in parse_qsl(query, keep_blank_values=True)}
            assert sent <= declared, f"{method} {template}: query parameters {sorted(sent - declared)} are not in the document"
        response = op["responses"].get(str(status))
        assert response is not None, f"{method} {template} answered {status}, which is not documented"
        self.seen.add((method.upper(), template, str(status)))
        API_SEEN.add((method.upper(), template))
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return
        validator = self._validator_cls(schema, registry=self._registry)
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        assert not errors, f"{method} {template} {status}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors)


class CheckedTestApp:
    """A WebTest TestApp whose /api/v1/ responses are validated against the OpenAPI document."""

    def __init__(self, testapp, checker: OpenAPIChecker):
        self.testapp = testapp
        self.checker = checker

    def __getattr__(self, name):
        return getattr(self.testapp, name)

    def _do(self, method: str, path: str, **kw):
        kw.setdefault("expect_errors", True)
        call = getattr(self.testapp, method.lower() + ("_json" if "json" in kw else ""))
        if "json" in kw:
            response = call(path, kw.pop("json"), **kw)
        else:
            response = call(path, **kw)
        body = response.json if response.content_type == "application/json" and response.body else None
        self.checker.check(method, path.split("?")[0], response.status_int, body, query=path.partition("?")[2])
        return response

    def get(self, path, **kw):
        return self._do("GET", path, **kw)

    def post(self, path, **kw):
        return self._do("POST", path, **kw)

    def patch(self, path, **kw):
        return self._do("PATCH", path, **kw)

    def put(self, path, **kw):
        return self._do("PUT", path, **kw)

    def delete(self, path, **kw):
        return self._do("DELETE", path, **kw)


#: (method, path template) of every API operation any test exercised, and all documented ones.
API_SEEN: set[tuple[str, str]] = set()
API_DOCUMENTED: set[tuple[str, str]] = set()


@pytest.fixture
def api(webtest):
    """A TestApp for the JSON API that checks each response against the OpenAPI document.

    Every operation it exercises is noted in :data:`API_SEEN` (the core's own suite fails a whole
    run in which a documented operation was never exercised: its ``conftest.py``).
    """
    document = webtest.get("/api/v1/openapi.json").json
    checker = OpenAPIChecker(_with_base(document))
    API_DOCUMENTED.update((m.upper(), p) for p, ops in document["paths"].items() for m in ops)
    return CheckedTestApp(webtest, checker)


def pytest_configure(config):
    """Passwords hashed with argon2's cheapest parameters in the test process (see
    :func:`ecti.tenancy.security.use_password_hasher`): full cost is ~0.2 s a user."""
    from argon2 import PasswordHasher, profiles

    from .tenancy.security import use_password_hasher

    use_password_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))


def _with_base(document: dict) -> dict:
    """Rewrite local refs so they resolve against the registered document URI."""
    import json

    text = json.dumps(document).replace('"#/components/schemas/', '"urn:ecti-openapi#/components/schemas/')
    return json.loads(text)


@contextlib.contextmanager
def serve_in_thread(app):
    """Serve a WSGI app with waitress on 127.0.0.1 (a free port); yields the base URL."""
    import threading

    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=8, clear_untrusted_proxy_headers=True)
    thread = threading.Thread(target=server.run, name="ecti-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # The request threads first: closing the server first closes the trigger a still-running
        # request thread writes to when it finishes (waitress then logs a traceback).
        # (a ceiling: it returns as soon as they have finished, on a busy machine too)
        server.task_dispatcher.shutdown(timeout=60)
        server.close()
        thread.join(timeout=10)


class _RequestTracebacks(logging.Handler):
    """Collects what the app logs about an unhandled exception from a request: the API's
    "internal error" (a 500 in the error shape) and waitress's "Exception while serving"."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.found: list[str] = []

    def emit(self, record):
        message = record.getMessage()
        # (not waitress's own "Exception when servicing": a live server closed under a keep-alive connection)
        if record.exc_info and (message.startswith("Exception while serving") or message.startswith("internal error on")):
            self.found.append(self.format(record))


@pytest.fixture(autouse=True)
def no_request_tracebacks(request):
    """Every test fails when a request it made ended in an unhandled exception (a 500), even
    one the test did not look at: the suite's server log has no traceback from a request.
    Mark a test ``allow_request_errors`` when that is what it is about."""
    handler = _RequestTracebacks()
    loggers = [logging.getLogger("waitress"), logging.getLogger("ecti.api.views")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)
    if handler.found and request.node.get_closest_marker("allow_request_errors") is None:
        pytest.fail("the app logged an unhandled exception from a request:\n" + "\n".join(handler.found), pytrace=False)


def _serve_process(settings: dict, ready) -> None:
    """A separate app process (the target of :func:`serve_in_processes`)."""
    from waitress.server import create_server

    from .config import configure

    app = configure(settings).make_wsgi_app()
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    ready.put(server.effective_port)
    server.run()


@contextlib.contextmanager
def serve_in_processes(settings: dict, count: int = 2):
    """Serve the application from ``count`` separate processes (as production runs several
    workers); yields their base URLs. The processes are started fresh (spawn), not forked
    from the test process and its open database connections."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    processes = [context.Process(target=_serve_process, args=(settings, ready), daemon=True) for _ in range(count)]
    for process in processes:
        process.start()
    try:
        ports = [ready.get(timeout=120) for _ in processes]
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=10)


@pytest.fixture
def live_server(app):
    """The application served over real HTTP (for browser tests and carrier simulators)."""
    with serve_in_thread(app) as url:
        yield url


def wait_until(condition, *, page=None, ceiling: float = 60.0, what: str = "the simulator never saw it") -> None:
    """Wait until ``condition()`` is true: what a browser page did reaches the simulator or the
    database asynchronously. ``ceiling`` only bounds a wait that would never end (a failing
    test); a passing test waits just as long as the event takes, on a busy machine too. Give
    ``page`` when the condition is fed by the page's event handlers (Playwright runs them only
    while it waits)."""
    import time

    deadline = time.monotonic() + ceiling
    while not condition():
        assert time.monotonic() < deadline, what
        if page is not None:
            page.wait_for_timeout(50)
        else:
            time.sleep(0.05)


CHROMIUM = "/usr/bin/chromium"


def switch_to_english(page) -> None:
    """Choose English as a user does: on console pages the switch is in the account menu."""
    menu = page.locator("summary.ecti-menu__trigger")
    if menu.count():
        menu.click()
    page.get_by_role("button", name="English").first.click()
    page.wait_for_load_state()


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (never a browser downloaded by Playwright)."""
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing: `make test` installs Debian's chromium"
        if _in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, request):
    """A fresh browser tab (its own cookies) in Japanese, under the pages' content security policy.

    A test marked ``bypass_csp`` gets a tab where the policy is not enforced: Playwright's
    ``wait_for_function`` compiles its predicate with ``eval``, which the policy forbids. The pages'
    own scripts are checked under the policy by ``tests/browser/test_security_browser.py``.
    """
    bypass = request.node.get_closest_marker("bypass_csp") is not None
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1200, "height": 800}, bypass_csp=bypass)
    tab = context.new_page()
    # Ceilings, not budgets: every wait ends on its event. On a machine busy with a second suite
    # a cold page load took over 10 s, so they are Playwright's own defaults, navigation twice that.
    tab.set_default_timeout(30_000)
    tab.set_default_navigation_timeout(60_000)
    yield tab
    context.close()
