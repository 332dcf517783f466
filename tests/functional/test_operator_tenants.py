"""The operator hosts companies: creates them with carrier credentials, watches their health,
suspends and resumes them."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from ecti import hookimpl
from ecti.audit.models import AuditEntry
from ecti.calls.models import Call, CallStatus, Direction
from ecti.errors import UserError
from ecti.i18n import _
from ecti.models.meta import utcnow
from ecti.operator.models import WebhookError
from ecti.operator.services import record_webhook_error
from ecti.telephony.models import PhoneNumber
from ecti.tenancy.models import Tenant, TenantStatus, User

GOOD_ACCOUNT = "AC" + "1" * 32
GOOD_SECRET = "the-right-auth-token"


class FakeCarrier:
    """A test double for a carrier (it stands in for the Twilio plugin, which talks to Twilio).

    It accepts exactly GOOD_ACCOUNT / GOOD_SECRET, refuses other secrets the way Twilio's
    plugin does, and fails like a broken plugin for the account ``AC-crash``.
    """

    name = "fakecarrier"
    label = "Fake carrier (test double)"

    def __init__(self):
        self.checked = []

    def check_credentials(self, *, registry, account_id, secret):
        self.checked.append((account_id, secret))
        if account_id == "AC-crash":
            raise ConnectionResetError("the carrier hung up")
        if (account_id, secret) != (GOOD_ACCOUNT, GOOD_SECRET) and not account_id.startswith("ACother"):
            raise UserError(
                "carrier_refused_credentials",
                _("Twilio refused the Account SID or the Auth Token. Copy both again from the Twilio console."),
                field="secret",
                status=422,
            )


class FakeCarrierPlugin:
    name = "fake-carrier-plugin"

    def __init__(self):
        self.carrier = FakeCarrier()

    @hookimpl
    def ecti_carriers(self):
        return [self.carrier]


@pytest.fixture
def carrier_plugin():
    return FakeCarrierPlugin()


@pytest.fixture
def app(app_settings, engine, clean_database, carrier_plugin):
    """The application with only the fake carrier installed (no entry-point plugins)."""
    from ecti.config import configure
    from ecti.plugins import get_plugin_manager

    pm = get_plugin_manager(load_entrypoints=False, plugins=[carrier_plugin])
    return configure(dict(app_settings), plugin_manager=pm, engine=engine).make_wsgi_app()


@pytest.fixture
def operator(make_user):
    return make_user(None, role="operator", email="op@ecti.example")


def new_browser(webtest):
    return webtest.__class__(webtest.app, extra_environ={"HTTP_HOST": "localhost"})


def sign_in(testapp, email, password):
    page = testapp.get("/login")
    form = next(f for key, f in page.forms.items() if isinstance(key, int) and "password" in f.fields)
    form["email"], form["password"] = email, password
    return form.submit(expect_errors=True)


def fill_tenant_form(page, **values):
    form = page.forms["add-tenant"]
    defaults = {"slug": "gamma", "name": "ガンマ商事", "admin_email": "first@gamma.example", "admin_name": "初代 管理者"}
    for key, value in {**defaults, **values}.items():
        form[key] = value
    return form


# --- creating a company ----------------------------------------------------------------------

def test_operator_creates_a_company_with_checked_credentials_and_its_admin_signs_in(webtest, login, operator, db, carrier_plugin):
    login(webtest, operator)
    form = fill_tenant_form(
        webtest.get("/operator/tenants"), carrier_account_id=GOOD_ACCOUNT, carrier_secret=GOOD_SECRET, start_date="2026-04-10"
    )
    page = form.submit()
    assert page.status_int == 200
    password = page.html.select_one("code.secret").text
    assert "ワンタイムパスワード" in page.text and "first@gamma.example" in page.text
    assert carrier_plugin.carrier.checked == [(GOOD_ACCOUNT, GOOD_SECRET)]

    tenant = db.scalar(select(Tenant).where(Tenant.slug == "gamma"))
    assert tenant.carrier == "fakecarrier" and tenant.carrier_account_id == GOOD_ACCOUNT
    assert str(tenant.start_date) == "2026-04-10"
    # Stored encrypted, and decrypts to what was entered.
    assert GOOD_SECRET not in tenant.carrier_secret_encrypted
    from ecti.crypto import SecretBox
    from ecti.testing import TEST_ENCRYPTION_KEY

    assert tenant.carrier_secret(SecretBox(TEST_ENCRYPTION_KEY)) == GOOD_SECRET
    # The secret is never shown back.
    assert GOOD_SECRET not in page.text
    db.commit()  # end the test's read transaction before the application writes

    admin_browser = new_browser(webtest)
    assert sign_in(admin_browser, "first@gamma.example", password).status_int == 303
    assert "ガンマ商事" in admin_browser.get("/").text

    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "tenant.create"))
    assert entry.tenant_id == tenant.id and entry.actor_email == "op@ecti.example"
    assert entry.details["account_id"] == GOOD_ACCOUNT
    assert GOOD_SECRET not in str(entry.details)


def test_credentials_the_carrier_refuses_are_not_saved_and_the_reason_is_shown(webtest, login, operator, db):
    login(webtest, operator)
    form = fill_tenant_form(webtest.get("/operator/tenants"), carrier_account_id=GOOD_ACCOUNT, carrier_secret="a wrong token")
    response = form.submit(expect_errors=True)
    assert response.status_int == 422
    assert "Twilio が Account SID または Auth Token を受け付けませんでした" in response.text
    # What was typed stays in the form (except the secret), nothing is half-saved.
    again = response.forms["add-tenant"]
    assert again["slug"].value == "gamma" and again["carrier_account_id"].value == GOOD_ACCOUNT
    assert again["carrier_secret"].value == ""
    assert db.scalar(select(func.count(Tenant.id))) == 0
    assert db.scalar(select(User).where(User.email == "first@gamma.example")) is None


def test_a_carrier_that_fails_unexpectedly_gives_a_message_not_a_server_error(webtest, login, operator, db):
    login(webtest, operator)
    form = fill_tenant_form(webtest.get("/operator/tenants"), carrier_account_id="AC-crash", carrier_secret="x")
    response = form.submit(expect_errors=True)
    assert response.status_int == 422
    assert "認証情報を確認できませんでした" in response.text and "何も保存していません" in response.text
    assert db.scalar(select(func.count(Tenant.id))) == 0


def test_half_of_the_credentials_is_refused_before_asking_the_carrier(webtest, login, operator, db, carrier_plugin):
    login(webtest, operator)
    form = fill_tenant_form(webtest.get("/operator/tenants"), carrier_account_id=GOOD_ACCOUNT)
    response = form.submit(expect_errors=True)
    assert response.status_int == 422
    assert "アカウント ID とシークレットを両方入力してください" in response.text
    assert carrier_plugin.carrier.checked == []
    assert db.scalar(select(func.count(Tenant.id))) == 0


def test_a_carrier_account_used_by_another_company_is_refused(webtest, login, operator, make_tenant, db, carrier_plugin):
    from ecti.crypto import SecretBox
    from ecti.testing import TEST_ENCRYPTION_KEY

    acme = make_tenant(slug="acme", name="株式会社アクメ")
    acme.set_carrier_credentials(SecretBox(TEST_ENCRYPTION_KEY), GOOD_ACCOUNT, GOOD_SECRET)
    db.commit()
    login(webtest, operator)
    form = fill_tenant_form(webtest.get("/operator/tenants"), carrier_account_id=GOOD_ACCOUNT, carrier_secret=GOOD_SECRET)
    response = form.submit(expect_errors=True)
    assert response.status_int == 422
    assert f"{GOOD_ACCOUNT} は既に 株式会社アクメ で使われています" in response.text
    assert carrier_plugin.carrier.checked == []  # found out by reading, before the network
    assert db.scalar(select(Tenant).where(Tenant.slug == "gamma")) is None


def test_a_taken_short_name_is_reported_before_the_carrier_is_asked(webtest, login, operator, make_tenant, carrier_plugin):
    make_tenant(slug="gamma")
    login(webtest, operator)
    form = fill_tenant_form(webtest.get("/operator/tenants"), carrier_account_id=GOOD_ACCOUNT, carrier_secret=GOOD_SECRET)
    response = form.submit(expect_errors=True)
    assert response.status_int == 422
    assert "略称 gamma は既に使われています" in response.text
    assert carrier_plugin.carrier.checked == []


def test_a_bad_start_date_is_a_clear_error(webtest, login, operator, db):
    login(webtest, operator)
    response = fill_tenant_form(webtest.get("/operator/tenants"), start_date="2026/04/10").submit(expect_errors=True)
    assert response.status_int == 422
    assert "YYYY-MM-DD" in response.text
    # A date billing could not compute with (far in the future) is refused too.
    response = fill_tenant_form(response, start_date="9999-12-31").submit(expect_errors=True)
    assert response.status_int == 422
    assert "利用開始日は 2000-01-01 から" in response.text
    assert db.scalar(select(func.count(Tenant.id))) == 0


# --- health ----------------------------------------------------------------------------------

def test_the_tenant_list_shows_each_companys_health(webtest, login, operator, make_tenant, make_user, db):
    acme = make_tenant(slug="acme", name="株式会社アクメ")
    quiet = make_tenant(slug="quiet", name="静か株式会社")
    make_user(acme, role="admin")
    make_user(acme, role="agent")
    db.add_all([PhoneNumber(tenant_id=acme.id, e164="+815011112222"), PhoneNumber(tenant_id=acme.id, e164="+815011113333")])
    # 2026-05-20 01:02 UTC is 10:02 in Tokyo, the companies' time zone.
    db.add(Call(tenant_id=acme.id, carrier_call_id="CA1", direction=Direction.inbound, from_number="+81312345678",
                to_number="+815011112222", status=CallStatus.completed, started_at=datetime(2026, 5, 20, 1, 2, tzinfo=timezone.utc)))
    # Two recent webhook errors count; one of 8 days ago is outside the 7-day window.
    record_webhook_error(db, acme.id, "signature_invalid", "X-Twilio-Signature did not match")
    record_webhook_error(db, acme.id, "unknown_number", "+815099990000")
    record_webhook_error(db, acme.id, "signature_invalid", "old", at=utcnow() - timedelta(days=8))
    record_webhook_error(db, None, "unknown_account", "AC-nobody")  # not attributable: no company's count
    db.commit()

    login(webtest, operator)
    page = webtest.get("/operator/tenants")
    acme_row = page.html.select_one('tr[data-slug="acme"]')
    assert acme_row.select_one(".accounts").text.strip() == "2"
    assert acme_row.select_one(".numbers").text.strip() == "2"
    assert acme_row.select_one(".last-call").text.strip() == "2026/05/20（水）10:02"
    assert acme_row.select_one(".webhook-errors").text.strip() == "2"
    quiet_row = page.html.select_one('tr[data-slug="quiet"]')
    assert quiet_row.select_one(".numbers").text.strip() == "なし"
    assert quiet_row.select_one(".last-call").text.strip() == "通話なし"
    assert quiet_row.select_one(".webhook-errors").text.strip() == "0"
    assert "認証情報なし" in quiet_row.select_one(".carrier").text
    assert page.html.select_one("#unattributed-errors").text == "どの企業のものか特定できなかった Webhook エラー（直近 7 日）: 1 件"

    detail = webtest.get(f"/operator/tenants/{acme.id}")
    assert "X-Twilio-Signature did not match" in detail.text
    assert "050-1111-2222" in detail.text  # numbers in the domestic format, as on every page


def test_record_webhook_error_works_without_a_tenant_scope_and_cuts_long_details(engine, make_tenant):
    from ecti.db import make_session_factory

    acme = make_tenant()
    session = make_session_factory(engine)()  # like a webhook before the tenant is known
    record_webhook_error(session, acme.id, "handler_error", "x" * 5000)
    session.commit()
    session.close()
    check = make_session_factory(engine)()
    from ecti.db import all_tenants

    with all_tenants(check):
        error = check.scalar(select(WebhookError))
    assert error.tenant_id == acme.id and len(error.detail) == 2000 and error.at is not None
    check.close()


def test_an_unknown_company_page_is_404(webtest, login, operator):
    login(webtest, operator)
    assert webtest.get("/operator/tenants/999999", expect_errors=True).status_int == 404


def test_a_tenant_admin_cannot_open_operator_pages(webtest, login, make_tenant, make_user):
    admin = make_user(make_tenant(), role="admin")
    token = login(webtest, admin)
    for path in ("/operator/tenants", f"/operator/tenants/{admin.tenant_id}", "/operator/billing", "/operator/audit"):
        assert webtest.get(path, expect_errors=True).status_int == 403, path
    refused = webtest.post(f"/operator/tenants/{admin.tenant_id}/suspend", {"csrf_token": token, "reason": "x"}, expect_errors=True)
    assert refused.status_int == 403


# --- suspension ------------------------------------------------------------------------------

def test_suspending_stops_sign_in_and_open_sessions_and_deletes_nothing(webtest, login, operator, make_tenant, make_user, db):
    acme = make_tenant(slug="acme", name="株式会社アクメ")
    admin = make_user(acme, role="admin", email="boss@acme.example")
    agent = make_user(acme, role="agent")
    db.add(PhoneNumber(tenant_id=acme.id, e164="+815011112222"))
    db.commit()
    agent_login = (agent.email, agent.password)
    admin_browser = new_browser(webtest)
    login(admin_browser, admin)
    assert admin_browser.get("/admin/users").status_int == 200

    token = login(webtest, operator)
    # A reason is required.
    missing = webtest.post(f"/operator/tenants/{acme.id}/suspend", {"csrf_token": token, "reason": " "}, expect_errors=True)
    assert missing.status_int == 422 and "停止の理由を入力してください" in missing.text
    db.expire_all()
    assert db.get(Tenant, acme.id).is_active
    db.commit()

    page = webtest.get(f"/operator/tenants/{acme.id}")
    form = page.forms["suspend"]
    form["reason"] = "2 か月分の未払い"
    detail = form.submit().follow()
    assert "株式会社アクメ の利用を停止しました" in detail.text
    assert "2 か月分の未払い" in detail.text  # the reason, next to the status
    assert detail.html.select_one("#status .status").text.startswith("停止中")

    # The signed-in admin is out, and nobody of the company can sign in.
    assert admin_browser.get("/admin/users").status_int == 302
    refused = sign_in(new_browser(webtest), *agent_login)
    assert refused.status_int == 403 and "停止" in refused.text
    # Nothing deleted.
    db.expire_all()
    assert db.scalar(select(func.count(User.id)).where(User.tenant_id == acme.id)) == 2
    assert db.scalar(select(func.count(PhoneNumber.id)).where(PhoneNumber.tenant_id == acme.id)) == 1
    assert all(u.is_active for u in db.scalars(select(User).where(User.tenant_id == acme.id)))
    db.commit()

    resumed = detail.forms["resume"].submit().follow()
    assert "株式会社アクメ の利用を再開しました" in resumed.text
    assert sign_in(new_browser(webtest), *agent_login).status_int == 303

    actions = [(e.action, e.details.get("reason")) for e in db.scalars(
        select(AuditEntry).where(AuditEntry.tenant_id == acme.id, AuditEntry.action.startswith("tenant.")).order_by(AuditEntry.id))]
    assert actions == [("tenant.suspend", "2 か月分の未払い"), ("tenant.resume", None)]


def test_suspending_twice_changes_nothing_more(webtest, login, operator, make_tenant, db):
    acme = make_tenant()
    token = login(webtest, operator)
    for _ in range(2):
        webtest.post(f"/operator/tenants/{acme.id}/suspend", {"csrf_token": token, "reason": "点検"}, status=303)
    assert db.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "tenant.suspend")) == 1


# --- credentials and admin password on the company page --------------------------------------

def test_operator_replaces_the_carrier_credentials_after_the_carrier_accepts_them(webtest, login, operator, make_tenant, db, carrier_plugin):
    acme = make_tenant()
    db.get(Tenant, acme.id).carrier = "fakecarrier"
    db.commit()
    login(webtest, operator)
    page = webtest.get(f"/operator/tenants/{acme.id}")
    form = page.forms["carrier-credentials"]
    form["carrier_account_id"], form["carrier_secret"] = GOOD_ACCOUNT, "wrong"
    refused = form.submit(expect_errors=True)
    assert refused.status_int == 422 and "受け付けませんでした" in refused.text
    db.expire_all()
    assert db.get(Tenant, acme.id).carrier_account_id is None
    db.commit()

    form = refused.forms["carrier-credentials"]
    form["carrier_secret"] = GOOD_SECRET
    saved = form.submit().follow()
    assert "保存しました" in saved.text and GOOD_ACCOUNT in saved.text
    db.expire_all()
    assert db.get(Tenant, acme.id).carrier_account_id == GOOD_ACCOUNT
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "tenant.carrier_credentials"))
    assert entry.details["account_id"] == GOOD_ACCOUNT and GOOD_SECRET not in str(entry.details)


def test_operator_issues_a_new_one_time_password_for_a_company_admin(webtest, login, operator, make_tenant, make_user, db):
    acme = make_tenant()
    admin = make_user(acme, role="admin", email="boss@acme.example")
    agent = make_user(acme, role="agent")
    token = login(webtest, operator)
    page = webtest.get(f"/operator/tenants/{acme.id}")
    issued = page.forms[[k for k in page.forms if isinstance(k, int) and "password" in page.forms[k].action][0]].submit()
    password = issued.html.select_one("code.secret").text
    assert sign_in(new_browser(webtest), admin.email, admin.password).status_int == 400  # the old one is gone
    assert sign_in(new_browser(webtest), admin.email, password).status_int == 303
    # Only administrators of that company: not an agent, not another company's user.
    assert webtest.post(f"/operator/tenants/{acme.id}/admins/{agent.id}/password", {"csrf_token": token}, expect_errors=True).status_int == 404
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "tenant.admin_password")).details == {"email": "boss@acme.example"}


# --- JSON API --------------------------------------------------------------------------------

def test_operator_api_lists_creates_suspends_and_resumes(api, login, operator, make_tenant, make_user, db):
    acme = make_tenant(slug="acme", name="株式会社アクメ")
    make_user(acme, role="admin")
    db.add(PhoneNumber(tenant_id=acme.id, e164="+815011112222"))
    db.commit()
    headers = {"X-CSRF-Token": login(api.testapp, operator)}

    listed = api.get("/api/v1/operator/tenants").json["tenants"]
    assert [(t["slug"], t["status"], t["health"]["phone_numbers"], t["health"]["active_accounts"]) for t in listed] == [("acme", "active", 1, 1)]

    body = {"slug": "delta", "name": "デルタ", "admin_email": "first@delta.example", "carrier": "fakecarrier",
            "carrier_account_id": GOOD_ACCOUNT, "carrier_secret": GOOD_SECRET, "start_date": "2026-04-10"}
    refused = api.post("/api/v1/operator/tenants", json={**body, "carrier_secret": "wrong"}, headers=headers)
    assert refused.status_int == 422 and refused.json["error"]["code"] == "carrier_refused_credentials"
    crashed = api.post("/api/v1/operator/tenants", json={**body, "carrier_account_id": "AC-crash"}, headers=headers)
    assert crashed.status_int == 502 and crashed.json["error"]["code"] == "carrier_check_failed"
    taken = api.post("/api/v1/operator/tenants", json={**body, "slug": "acme"}, headers=headers)
    assert taken.status_int == 409 and taken.json["error"]["code"] == "slug_taken"
    created = api.post("/api/v1/operator/tenants", json=body, headers=headers)
    assert created.status_int == 201
    assert created.json["tenant"]["health"]["carrier_configured"] is True
    assert len(created.json["one_time_password"]) >= 10
    delta_id = created.json["tenant"]["id"]

    no_reason = api.post(f"/api/v1/operator/tenants/{delta_id}/suspend", json={}, headers=headers)
    assert no_reason.status_int == 422
    suspended = api.post(f"/api/v1/operator/tenants/{delta_id}/suspend", json={"reason": "契約終了"}, headers=headers)
    assert suspended.json["status"] == "suspended"
    detail = api.get(f"/api/v1/operator/tenants/{delta_id}").json
    assert detail["suspension_reason"] == "契約終了"
    assert [a["email"] for a in detail["admins"]] == ["first@delta.example"]
    assert api.post(f"/api/v1/operator/tenants/{delta_id}/resume", headers=headers).json["status"] == "active"
    assert api.get("/api/v1/operator/tenants/999999").status_int == 404
    assert api.post("/api/v1/operator/tenants/999999/resume", headers=headers).status_int == 404
    assert db.scalar(select(Tenant).where(Tenant.slug == "delta")).status is TenantStatus.active


def test_operator_api_is_refused_to_a_tenant_admin(api, login, make_tenant, make_user):
    admin = make_user(make_tenant(), role="admin")
    headers = {"X-CSRF-Token": login(api.testapp, admin)}
    assert api.get("/api/v1/operator/tenants").status_int == 403
    assert api.post(f"/api/v1/operator/tenants/{admin.tenant_id}/suspend", json={"reason": "x"}, headers=headers).status_int == 403


def test_operator_pages_in_english(webtest, login, operator, make_tenant, db):
    from datetime import date

    acme = make_tenant(slug="acme", name="Acme Inc.", start_date=date(2026, 3, 17))
    db.get(User, operator.id).locale = "en"
    db.commit()
    login(webtest, operator)
    listing = webtest.get("/operator/tenants")
    assert "Webhook errors (last 7 days)" in listing.text and "no calls yet" in listing.text
    detail = webtest.get(f"/operator/tenants/{acme.id}")
    assert "Suspending stops the company" in detail.text and "Prices not set" in detail.text
    billing = webtest.get("/operator/billing?month=2026-05")
    assert billing.html.select_one('tr[data-slug="acme"] .status').text.strip() == "Whole month"
    assert "Audit log" in webtest.get("/operator/audit").text
