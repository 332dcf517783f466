"""A schema-driven fuzz run (schemathesis) over every operation of the OpenAPI document, as an
admin, a supervisor and an agent (issue 19): no answer may be a 5xx, and every answer must be
what the document says (status code, content type, body schema).

Bounded in time: a few generated requests per operation and role (``EXAMPLES``), on SQLite
only (the database makes no difference to what the document promises; the bad-input cases
that did depend on PostgreSQL — integers no column holds — have their own tests on both).
Safe operations run first and the ones that delete last, so the signed-in user stays usable.
"""
from __future__ import annotations

from urllib.parse import urljoin

import pytest
import requests
from hypothesis import HealthCheck, given, settings

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

EXAMPLES = 4
ORDER = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def company(db, make_tenant, make_user):
    """A company with something behind most ids: a number, a queue with a member, a prompt."""
    from ecti.acd.models import Queue, QueueMember
    from ecti.telephony.models import PhoneNumber

    tenant = make_tenant()
    users = {role: make_user(tenant, role=role, email=f"{role}@acme.example") for role in ("admin", "supervisor", "agent")}
    db.add(PhoneNumber(tenant_id=tenant.id, e164="+815011112222", label="代表"))
    queue = Queue(tenant_id=tenant.id, name="サポート", overflow={}, hold_audio={})
    db.add(queue)
    db.flush()
    db.add(QueueMember(tenant_id=tenant.id, queue_id=queue.id, user_id=users["agent"].id, level=1, position=1))
    db.commit()
    return users


def signed_in(user, base_url) -> tuple[requests.Session, dict]:
    """Sign in at the live server as a browser does; the session's cookie and CSRF token."""
    from bs4 import BeautifulSoup

    session = requests.Session()
    page = BeautifulSoup(session.get(base_url + "/login").text, "html.parser")
    form = page.select_one("form#login") or page.select_one("form")
    fields = {i["name"]: i.get("value", "") for i in form.select("input[name]")}
    fields.update(email=user.email, password=user.password)
    answer = session.post(urljoin(base_url + "/login", form.get("action") or ""), data=fields, allow_redirects=False)
    assert answer.status_code == 303, answer.text[:500]
    return session, {"X-CSRF-Token": session.get(base_url + "/api/v1/me").json()["csrf_token"]}


@pytest.fixture
def app_settings(database_url):
    from ecti.testing import base_settings

    # The run makes hundreds of requests at once with one API key: no rate limit in the way.
    return {**base_settings(database_url), "ecti.api_keys.burst": "1000000"}


def with_full_scope_key(admin) -> tuple[requests.Session, dict]:
    """A session without cookies and a key with every company scope, acting as ``admin``."""
    from ecti.apikeys.scopes import TENANT_SCOPES
    from ecti.apikeys.services import create_key
    from sqlalchemy.orm import object_session

    db = object_session(admin)
    _key, secret = create_key(db, user=admin, name="fuzz", scopes=list(TENANT_SCOPES))
    db.commit()
    return requests.Session(), {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize("role", ["admin", "supervisor", "agent", "api_key"])
def test_every_documented_operation_answers_as_documented_and_never_5xx(role, database_url, live_server, webtest, company):
    if not database_url.startswith("sqlite"):
        pytest.skip("the fuzz run is bounded to SQLite (see the module's docstring)")
    document = webtest.get("/api/v1/openapi.json").json
    schema = schemathesis.openapi.from_dict(document)
    if role == "api_key":
        session, headers = with_full_scope_key(company["admin"])
    else:
        session, headers = signed_in(company[role], live_server)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50
    failures, statuses = [], []
    for operation in sorted(operations, key=lambda op: (ORDER.get(op.method.upper(), 1), op.path)):

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            # the signed-in session's cookie, not one generated for the document's security scheme
            case.cookies = {**(case.cookies or {}), **session.cookies.get_dict()}
            response = case.call(base_url=live_server, session=session, headers=headers)
            statuses.append(response.status_code)
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, not just the first
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    assert not failures, "\n\n".join(failures)
    assert len(statuses) >= len(operations) and any(200 <= status < 300 for status in statuses)
