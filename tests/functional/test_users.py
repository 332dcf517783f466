"""Tenant admins manage their users in the console and through the API."""
from sqlalchemy import select

from ecti.tenancy.models import AccountEvent, AccountEventKind, User


def test_admin_adds_an_agent_who_can_then_sign_in(webtest, login, make_tenant, make_user, db):
    admin = make_user(make_tenant(), role="admin")
    login(webtest, admin)
    page = webtest.get("/admin/users")
    form = page.forms["add-user"]
    form["display_name"] = "応対 三郎"
    form["email"] = "saburo@acme.example"
    form["role"] = "agent"
    created = form.submit()
    assert "saburo@acme.example" in created.text
    password = created.html.select_one("code.secret").text
    assert len(password) >= 10
    other = webtest.__class__(webtest.app, extra_environ={"HTTP_HOST": "localhost"})
    signin = other.get("/login").forms["login"]
    signin["email"], signin["password"] = "saburo@acme.example", password
    assert signin.submit().status_int == 303
    user = db.scalar(select(User).where(User.email == "saburo@acme.example"))
    assert user.tenant_id == admin.tenant_id
    kinds = [e.kind for e in db.scalars(select(AccountEvent).where(AccountEvent.user_id == user.id))]
    assert kinds == [AccountEventKind.activated]


def test_a_duplicate_email_is_refused_with_a_message_and_nothing_saved(webtest, login, make_tenant, make_user, db):
    admin = make_user(make_tenant(), role="admin", email="boss@acme.example")
    login(webtest, admin)
    form = webtest.get("/admin/users").forms["add-user"]
    form["display_name"] = "重複"
    form["email"] = "BOSS@acme.example"
    form["role"] = "agent"
    response = form.submit(expect_errors=True)
    assert response.status_int == 422
    assert "既に使われています" in response.text
    assert db.scalar(select(User).where(User.display_name == "重複")) is None


def test_deactivate_and_reactivate_are_recorded_for_billing(webtest, login, make_tenant, make_user, db):
    admin = make_user(make_tenant(), role="admin")
    agent = make_user(admin.tenant, role="agent")
    token = login(webtest, admin)
    webtest.post(f"/admin/users/{agent.id}/active", {"csrf_token": token, "active": "0"}, status=303)
    webtest.post(f"/admin/users/{agent.id}/active", {"csrf_token": token, "active": "1"}, status=303)
    kinds = [e.kind.value for e in db.scalars(select(AccountEvent).where(AccountEvent.user_id == agent.id).order_by(AccountEvent.id))]
    assert kinds == ["activated", "deactivated", "activated"]


def test_api_creates_lists_and_updates_users(api, login, make_tenant, make_user):
    admin = make_user(make_tenant(), role="admin", email="admin@acme.example")
    headers = {"X-CSRF-Token": login(api.testapp, admin)}
    created = api.post(
        "/api/v1/users",
        json={"email": "agent@acme.example", "display_name": "応対 花子", "role": "agent", "password": "long enough pw"},
        headers=headers,
    )
    assert created.status_int == 201
    user_id = created.json["id"]
    assert api.get(f"/api/v1/users/{user_id}").json["role"] == "agent"
    updated = api.patch(f"/api/v1/users/{user_id}", json={"role": "supervisor", "locale": "en"}, headers=headers)
    assert updated.json["role"] == "supervisor" and updated.json["locale"] == "en"
    emails = [u["email"] for u in api.get("/api/v1/users").json["users"]]
    assert emails == ["admin@acme.example", "agent@acme.example"]


def test_an_admin_cannot_deactivate_themselves(api, login, make_tenant, make_user):
    admin = make_user(make_tenant(), role="admin")
    headers = {"X-CSRF-Token": login(api.testapp, admin)}
    response = api.patch(f"/api/v1/users/{admin.id}", json={"is_active": False}, headers=headers)
    assert response.status_int == 422
    assert response.json["error"]["code"] == "cannot_deactivate_self"


def test_operator_creates_a_tenant_with_its_first_admin(webtest, login, make_user, db):
    operator = make_user(None, role="operator", email="op@ecti.example")
    login(webtest, operator)
    form = webtest.get("/operator/tenants").forms["add-tenant"]
    form["slug"] = "gamma"
    form["name"] = "ガンマ商事"
    form["admin_email"] = "first@gamma.example"
    form["admin_name"] = "初代 管理者"
    page = form.submit()
    password = page.html.select_one("code.secret").text
    assert "gamma" in page.text
    signin = webtest.__class__(webtest.app, extra_environ={"HTTP_HOST": "localhost"})
    f = signin.get("/login").forms["login"]
    f["email"], f["password"] = "first@gamma.example", password
    home = f.submit().follow()
    assert "ガンマ商事" in home.text


def test_tenant_creation_that_fails_on_the_admin_leaves_no_tenant(webtest, login, make_tenant, make_user, db):
    from ecti.tenancy.models import Tenant

    taken = make_user(make_tenant(slug="acme"), role="admin", email="taken@acme.example")
    operator = make_user(None, role="operator", email="op@ecti.example")
    login(webtest, operator)
    form = webtest.get("/operator/tenants").forms["add-tenant"]
    form["slug"] = "delta"
    form["name"] = "デルタ"
    form["admin_email"] = taken.email
    response = form.submit(expect_errors=True)
    assert response.status_int == 422
    assert "既に使われています" in response.text
    assert db.scalar(select(Tenant).where(Tenant.slug == "delta")) is None


def test_operators_do_not_see_tenant_admin_pages(webtest, login, make_user):
    operator = make_user(None, role="operator")
    login(webtest, operator)
    assert webtest.get("/admin/users", expect_errors=True).status_int == 403
