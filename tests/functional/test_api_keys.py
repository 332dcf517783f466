"""API keys (issue 23): Bearer authentication without CSRF, scopes, revocation, expiry, rate
limits, secrets never readable back, tenant isolation, the console page and the CLI."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select


@pytest.fixture
def company(db, make_tenant, make_user):
    from ecti.acd.models import Queue

    tenant = make_tenant()
    admin = make_user(tenant, role="admin", email="admin@acme.example")
    db.add(Queue(tenant_id=tenant.id, name="サポート", overflow={}, hold_audio={}))
    db.commit()
    return tenant, admin


def new_key(db, user, scopes, **kw):
    from ecti.apikeys.services import create_key

    key, secret = create_key(db, user=user, name=kw.pop("name", "BI"), scopes=scopes, **kw)
    db.commit()
    return key, {"Authorization": f"Bearer {secret}"}


def test_a_reports_key_reads_reports_and_is_refused_a_write_without_needing_csrf(api, db, company):
    tenant, admin = company
    _key, headers = new_key(db, admin, ["reports:read"])
    report = api.get("/api/v1/reports/queues?from=2026-05-01&to=2026-05-31", headers=headers)
    assert report.status_int == 200, report.text
    assert [q["name"] for q in report.json["queues"]] == ["サポート"]
    # A write it has no scope for: 403 with the reason, not a CSRF failure.
    refused = api.post("/api/v1/acd/queues", json={"name": "営業"}, headers=headers)
    assert refused.status_int == 403
    assert refused.json["error"]["code"] == "insufficient_scope"
    assert "config:write" in refused.json["error"]["message"]
    # Another area it has no scope for, and an operation of a person's own phone.
    assert api.get("/api/v1/users", headers=headers).json["error"]["code"] == "insufficient_scope"
    assert api.get("/api/v1/acd/me", headers=headers).json["error"]["code"] == "not_available_with_api_key"
    assert api.get("/api/v1/me", headers=headers).json["email"] == admin.email


def test_a_config_write_key_writes_without_a_csrf_token_and_is_audited(api, db, company):
    from ecti.acd.models import Queue
    from ecti.audit.models import AuditEntry

    tenant, admin = company
    _key, headers = new_key(db, admin, ["config:read", "config:write"])
    created = api.post("/api/v1/acd/queues", json={"name": "営業"}, headers=headers)
    assert created.status_int == 201, created.text
    db.rollback()  # (a new transaction: SQLite readers keep their snapshot)
    assert db.scalar(select(Queue).where(Queue.name == "営業")).tenant_id == tenant.id
    actions = {(e.action, e.actor_id) for e in db.scalars(select(AuditEntry).where(AuditEntry.tenant_id == tenant.id))}
    assert ("queue.create", admin.id) in actions  # the key acts as the admin who made it


def test_revoked_expired_and_unknown_keys_are_401(api, db, company):
    from ecti.apikeys.models import ApiKey
    from ecti.models.meta import utcnow

    _tenant, admin = company
    key, headers = new_key(db, admin, ["reports:read"])
    assert api.get("/api/v1/me", headers=headers).status_int == 200
    db.get(ApiKey, key.id).revoked_at = utcnow()
    db.commit()
    revoked = api.get("/api/v1/me", headers=headers)
    assert revoked.status_int == 401 and revoked.json["error"]["code"] == "api_key_revoked"
    assert revoked.headers["WWW-Authenticate"].startswith("Bearer")
    expiring, headers = new_key(db, admin, ["reports:read"], expires_at=utcnow() + timedelta(minutes=5))
    assert api.get("/api/v1/me", headers=headers).status_int == 200
    db.get(ApiKey, expiring.id).expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    expired = api.get("/api/v1/reports/queues?from=2026-05-01&to=2026-05-31", headers=headers)
    assert expired.status_int == 401 and expired.json["error"]["code"] == "api_key_expired"
    unknown = api.get("/api/v1/me", headers={"Authorization": "Bearer ecti_live_nothing"})
    assert unknown.status_int == 401 and unknown.json["error"]["code"] == "api_key_unknown"
    # A write with a bad key is 401 too (not a CSRF failure).
    assert api.post("/api/v1/acd/queues", json={"name": "x"}, headers={"Authorization": "Bearer nope"}).status_int == 401


def test_a_key_stops_working_when_its_administrator_is_deactivated(api, db, company):
    _tenant, admin = company
    _key, headers = new_key(db, admin, ["reports:read"])
    admin.is_active = False
    db.commit()
    assert api.get("/api/v1/me", headers=headers).status_int == 401


def test_the_secret_is_stored_hashed_and_never_shown_again(webtest, login, db, company):
    from ecti.apikeys.models import ApiKey

    _tenant, admin = company
    csrf = login(webtest, admin)
    page = webtest.get("/admin/api-keys")
    form = page.forms["create-api-key"]
    form["name"] = "BIツール"
    form.get("scope", index=1).checked = True  # reports:read
    created = form.submit()
    assert created.status_int == 200
    secret = created.html.select_one("#api-key-secret").text.strip()
    assert secret.startswith("ecti_live_") and len(secret) > 40
    assert created.headers["Cache-Control"] == "no-store"
    key = db.scalar(select(ApiKey))
    assert key.scopes == ["reports:read"] and key.secret_hash != secret and secret not in key.secret_hash
    assert secret.startswith(key.prefix) and len(key.prefix) == len("ecti_live_") + 8
    listing = webtest.get("/admin/api-keys")
    assert secret not in listing.text and key.prefix in listing.text
    # The key works, then is revoked from the page.
    assert webtest.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_int == 200
    webtest.post(f"/admin/api-keys/{key.id}/revoke", {"csrf_token": csrf}, status=303)
    assert webtest.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}, expect_errors=True).status_int == 401
    # Both are in the audit log, as the admin's, without the secret or its hash.
    from ecti.audit.models import AuditEntry

    db.rollback()  # (a new transaction: SQLite readers keep their snapshot)
    entries = db.scalars(select(AuditEntry).where(AuditEntry.action.like("api_key.%")).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_id) for e in entries] == [("api_key.create", admin.id), ("api_key.update", admin.id)]
    assert key.secret_hash not in str([e.details for e in entries])


def test_bad_input_on_the_page_is_a_clear_error_and_nothing_is_saved(webtest, login, db, company):
    from ecti.apikeys.models import ApiKey

    _tenant, admin = company
    csrf = login(webtest, admin)
    answer = webtest.post("/admin/api-keys", {"csrf_token": csrf, "name": "x", "expires_days": "30"}, status=422)
    assert "スコープを1つ以上選んでください" in answer.text
    answer = webtest.post("/admin/api-keys", {"csrf_token": csrf, "name": "x", "scope": "operator:write"}, status=422)
    assert "operator:write" in answer.text
    answer = webtest.post("/admin/api-keys", {"csrf_token": csrf, "name": "x", "scope": "reports:read", "expires_days": "7"}, status=422)
    assert db.scalar(select(ApiKey)) is None


def test_a_key_is_rate_limited_with_429_and_retry_after(app_settings, engine, clean_database, db, company):
    import webtest as wt

    from ecti.config import configure

    _tenant, admin = company
    app = configure({**app_settings, "ecti.api_keys.burst": "3", "ecti.api_keys.rate": "0.1"}, engine=engine).make_wsgi_app()
    client = wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    _key, headers = new_key(db, admin, ["reports:read"])
    statuses = [client.get("/api/v1/me", headers=headers, expect_errors=True) for _ in range(4)]
    assert [r.status_int for r in statuses] == [200, 200, 200, 429]
    limited = statuses[-1]
    assert limited.json["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 10
    # Another key has its own bucket.
    _other, other_headers = new_key(db, admin, ["reports:read"], name="other")
    assert client.get("/api/v1/me", headers=other_headers).status_int == 200


def test_the_bucket_refills_with_time(engine, db, company):
    from ecti.apikeys.services import consume
    from ecti.models.meta import utcnow

    _tenant, admin = company
    key, _headers = new_key(db, admin, ["reports:read"])
    now = utcnow()
    assert [consume(engine, key.id, rate=1, burst=2, now=now) for _ in range(3)] == [0, 0, 1]
    assert consume(engine, key.id, rate=1, burst=2, now=now + timedelta(seconds=1)) == 0
    db.rollback()  # (a new transaction: SQLite readers keep their snapshot)
    from ecti.apikeys.models import ApiKey

    assert db.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key.id)) is not None


def test_a_key_never_sees_another_companys_data(api, db, make_tenant, make_user, company):
    from ecti.acd.models import Queue

    _tenant, admin = company
    other = make_tenant(slug="beta", name="ベータ株式会社")
    other_admin = make_user(other, role="admin", email="admin@beta.example")
    db.add(Queue(tenant_id=other.id, name="ベータの窓口", overflow={}, hold_audio={}))
    db.commit()
    other_queue = db.scalar(select(Queue).where(Queue.tenant_id == other.id))
    _key, headers = new_key(db, admin, ["config:read", "reports:read"])
    names = [q["name"] for q in api.get("/api/v1/acd/queues", headers=headers).json["queues"]]
    assert names == ["サポート"]
    assert api.get(f"/api/v1/acd/queues/{other_queue.id}", headers=headers).status_int == 404
    report = api.get("/api/v1/reports/queues?from=2026-05-01&to=2026-05-31", headers=headers).json
    assert "ベータの窓口" not in [q["name"] for q in report["queues"]]
    # The other company's admin does not see or revoke this company's keys.
    from ecti.apikeys.services import get_key, list_keys

    assert list_keys(db, other.id) == [] and get_key(db, other.id, _key.id) is None
    assert other_admin.tenant_id == other.id


def test_operator_keys_use_the_operator_api_only(api, db, make_user, company):
    from ecti.errors import UserError

    _tenant, admin = company
    operator = make_user(None, role="operator", email="op@ecti.example")
    _key, headers = new_key(db, operator, ["operator:read"])
    tenants = api.get("/api/v1/operator/tenants", headers=headers)
    assert tenants.status_int == 200 and [t["slug"] for t in tenants.json["tenants"]] == ["acme"]
    assert api.get("/api/v1/reports/queues?from=2026-05-01&to=2026-05-31", headers=headers).status_int == 403
    with pytest.raises(UserError):
        new_key(db, admin, ["operator:read"])
    db.rollback()


def test_the_operator_manages_operator_keys_on_their_page(app, webtest, login, db, make_user, company):
    import webtest as wt

    from ecti.apikeys.models import ApiKey

    operator = make_user(None, role="operator", email="op@ecti.example")
    csrf = login(webtest, operator)
    page = webtest.get("/operator/api-keys")
    assert "operator:write" in page.text and "reports:read" not in page.text
    created = webtest.post("/operator/api-keys", {"csrf_token": csrf, "name": "監視", "scope": "operator:read"})
    secret = created.html.select_one("#api-key-secret").text.strip()
    key = db.scalar(select(ApiKey))
    assert key.tenant_id is None and key.scopes == ["operator:read"]
    assert webtest.get("/api/v1/operator/tenants", headers={"Authorization": f"Bearer {secret}"}).status_int == 200
    # A company's admin neither sees nor revokes the operator's keys.
    admin_browser = wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    admin_csrf = login(admin_browser, company[1])
    assert key.prefix not in admin_browser.get("/admin/api-keys").text
    admin_browser.post(f"/admin/api-keys/{key.id}/revoke", {"csrf_token": admin_csrf}, status=404)
    admin_browser.post(f"/operator/api-keys/{key.id}/revoke", {"csrf_token": admin_csrf}, status=403)
    webtest.post(f"/operator/api-keys/{key.id}/revoke", {"csrf_token": csrf}, status=303)
    assert webtest.get("/api/v1/operator/tenants", headers={"Authorization": f"Bearer {secret}"}, expect_errors=True).status_int == 401


def test_the_document_declares_the_bearer_scheme_and_each_operations_scope(webtest):
    document = webtest.get("/api/v1/openapi.json").json
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    report = document["paths"]["/api/v1/reports/queues"]["get"]
    assert {"apiKey": ["reports:read"]} in report["security"] and "429" in report["responses"]
    assert {"apiKey": ["config:write"]} in document["paths"]["/api/v1/acd/queues"]["post"]["security"]
    assert all("apiKey" not in s for s in document["paths"]["/api/v1/acd/me"]["get"]["security"])


def test_the_cli_creates_lists_and_revokes_keys(database_url, db, company, tmp_path):
    from click.testing import CliRunner

    from ecti.apikeys.models import ApiKey
    from ecti.cli import cli

    _tenant, admin = company
    ini = tmp_path / "test.ini"
    ini.write_text(f"[app:main]\nuse = egg:ecti\nsqlalchemy.url = {database_url}\necti.secret_key = {'x' * 40}\n"
                   f"ecti.environment = test\necti.encryption_keys = 3u-7rsDwGOVvQ2Tx4GW4kKZ4BcBdJXq3zqvOb4mBq9M=\n"
                   f"ecti.media_dir = {tmp_path / 'media'}\necti.jobs.backend = memory\n")
    runner = CliRunner()
    created = runner.invoke(cli, ["-c", str(ini), "apikey", "create", "--user", admin.email, "--name", "CRM",
                                  "--scope", "calls:read", "--expires-days", "30"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("ecti_live_")
    listed = runner.invoke(cli, ["-c", str(ini), "apikey", "list", "--tenant", "acme"])
    assert "CRM" in listed.output and secret not in listed.output and "active" in listed.output
    key = db.scalar(select(ApiKey))
    revoked = runner.invoke(cli, ["-c", str(ini), "apikey", "revoke", "--tenant", "acme", str(key.id)])
    assert revoked.exit_code == 0, revoked.output
    db.rollback()  # (a new transaction: SQLite readers keep their snapshot)
    assert db.get(ApiKey, key.id).revoked_at is not None
    bad = runner.invoke(cli, ["-c", str(ini), "apikey", "create", "--user", admin.email, "--name", "x", "--scope", "nope:read"])
    assert bad.exit_code != 0 and "nope:read" in bad.output
