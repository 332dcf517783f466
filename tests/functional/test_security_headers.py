"""Every response carries the security headers; only the pages made to be framed may be framed."""
import re
from pathlib import Path

import pytest
from pyramid.interfaces import IRoutesMapper

ROOT = Path(__file__).resolve().parents[2]
#: Pages shown inside a CRM's iframe (their own per-company frame-ancestors list).
FRAMED = {"softphone", "softphone.check", "login", "salesforce.standby"}


def _path(pattern: str) -> str:
    path = re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: "1" if m.group(2) and "d" in m.group(2) else "x", pattern)
    path = re.sub(r"\*\w+$", "x", path)
    return path if path.startswith("/") else "/" + path


def get_routes(app):
    return [(route.name, _path(route.pattern)) for route in app.registry.getUtility(IRoutesMapper).get_routes()]


def directives(response) -> dict:
    header = response.headers["Content-Security-Policy"]
    return {part.strip().split(" ", 1)[0]: part.strip().split(" ", 1)[1] for part in header.split(";")}


def check(name, response):
    assert response.status_int < 500, f"{name}: {response.status}"
    policy = directives(response)
    assert policy["script-src"].split()[0] == "'self'" and "unsafe" not in policy["script-src"], name
    assert policy["style-src"] == "'self'", name
    assert policy["object-src"] == "'none'", name
    assert response.headers["X-Content-Type-Options"] == "nosniff", name
    assert response.headers["Referrer-Policy"] == "same-origin", name
    assert "Strict-Transport-Security" not in response.headers, name  # http://localhost
    if name in FRAMED and response.status_int == 200:
        assert policy["frame-ancestors"].split()[0] == "'self'", name
    elif name not in FRAMED:
        assert policy["frame-ancestors"] == "'none'", name
        assert response.headers["X-Frame-Options"] == "DENY", name


@pytest.mark.parametrize("role", ["admin", "operator", None])
def test_every_get_route_sends_the_security_headers(app, webtest, make_tenant, make_user, login, role):
    if role == "admin":
        login(webtest, make_user(make_tenant(), role="admin"))
    elif role == "operator":
        login(webtest, make_user(None, role="operator"))
    routes = get_routes(app)
    assert len(routes) > 60
    for name, path in routes:
        if name == "logout" or name.startswith("sim."):
            continue
        check(name, webtest.get(path, expect_errors=True))
    # Error pages and static files too.
    check("not found", webtest.get("/no/such/page", expect_errors=True))
    check("static", webtest.get("/static/console.css"))


def test_hsts_when_the_public_url_is_https(app_settings, engine, clean_database):
    import webtest as wt

    from ecti.config import configure

    app = configure({**app_settings, "ecti.public_url": "https://ecti.example.jp"}, engine=engine).make_wsgi_app()
    response = wt.TestApp(app).get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_push_server_at_another_address_may_be_connected_to(app_settings, engine, clean_database):
    """Development runs the push server on its own port: its EventSource must not be blocked."""
    import webtest as wt

    from ecti.config import configure

    settings = {**app_settings, "ecti.push.url": "http://127.0.0.1:6544/push/events"}
    response = wt.TestApp(configure(settings, engine=engine).make_wsgi_app()).get("/login")
    assert "http://127.0.0.1:6544" in directives(response)["connect-src"].split()


def _templates():
    for base in ("ecti", "plugins"):
        yield from (p for p in (ROOT / base).rglob("*.jinja2") if "node_modules" not in p.parts)


def test_no_template_has_inline_script_style_or_event_handlers():
    """The policy refuses them: a page that relied on one would silently break."""
    problems = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script\b([^>]*)>", text):
            attrs = match.group(1)
            if "src=" not in attrs and "application/json" not in attrs:
                problems.append(f"{path.relative_to(ROOT)}: inline <script>")
        if re.search(r"<style\b", text):
            problems.append(f"{path.relative_to(ROOT)}: <style>")
        if re.search(r"\sstyle\s*=", text):
            problems.append(f"{path.relative_to(ROOT)}: style attribute")
        if re.search(r"\son[a-z]+\s*=\s*[\"']", text):
            problems.append(f"{path.relative_to(ROOT)}: on… handler")
    assert not problems, "\n".join(problems)
