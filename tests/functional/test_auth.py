"""Signing in and out, lockout, sessions and CSRF, as a person in a browser meets them."""

import pytest
from sqlalchemy import select

from ecti.tenancy.models import User


@pytest.fixture
def admin(make_tenant, make_user):
    return make_user(make_tenant(), role="admin", email="admin@acme.example")


def submit_login(webtest, email, password):
    form = webtest.get("/login").forms["login"]
    form["email"] = email
    form["password"] = password
    return form.submit(expect_errors=True)


def test_sign_in_shows_the_console_in_japanese(webtest, admin):
    response = submit_login(webtest, "ADMIN@acme.example ", admin.password)
    assert response.status_int == 303
    home = response.follow()
    assert "ようこそ" in home.text
    assert "株式会社アクメ" in home.text
    assert "ユーザー" in home.text  # the admin's navigation


def test_a_password_hashed_with_older_parameters_signs_in_and_is_hashed_anew(webtest, admin, db):
    """After an argon2 parameter change (or a user made by another process with other ones),
    the next sign-in re-hashes the password with today's (it used to fail: no tenant scope)."""
    from argon2 import PasswordHasher

    older = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(admin.password)
    db.get(User, admin.id).password_hash = older
    db.commit()
    response = submit_login(webtest, admin.email, admin.password)
    assert response.status_int == 303
    db.expire_all()
    rehashed = db.get(User, admin.id).password_hash
    assert rehashed != older and "m=1024" not in rehashed


def test_wrong_password_is_refused_with_a_message(webtest, admin):
    response = submit_login(webtest, admin.email, "wrong password!")
    assert response.status_int == 400
    assert "メールアドレスまたはパスワードが違います" in response.text
    assert webtest.get("/admin/users").status_int == 302  # still signed out


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(webtest, admin):
    wrong_password = submit_login(webtest, admin.email, "wrong password!")
    unknown = submit_login(webtest, "nobody@acme.example", "wrong password!")
    assert unknown.status_int == wrong_password.status_int
    assert "メールアドレスまたはパスワードが違います" in unknown.text


def test_sign_out_ends_the_session(webtest, admin, login):
    login(webtest, admin)
    assert webtest.get("/admin/users").status_int == 200
    token = webtest.get("/api/v1/me").json["csrf_token"]
    webtest.post("/logout", {"csrf_token": token}, status=303)
    assert webtest.get("/admin/users").status_int == 302


def _session_cookie(testapp) -> str:
    return testapp.cookies["ecti_session"]


def _browser_with(app, cookie):
    import webtest as wt

    other = wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    other.set_cookie("ecti_session", cookie)
    return other


def test_a_copy_of_the_cookie_is_worthless_after_sign_out(app, webtest, admin, login):
    token = login(webtest, admin)
    copied = _session_cookie(webtest)  # e.g. left behind on a shared PC
    thief = _browser_with(app, copied)
    assert thief.get("/api/v1/me").status_int == 200
    webtest.post("/logout", {"csrf_token": token}, status=303)
    assert thief.get("/api/v1/me", expect_errors=True).status_int == 401
    page = thief.get("/admin/users")
    assert page.status_int == 302 and "/login" in page.location
    # The refreshed cookie the app hands back names nobody either.
    assert thief.get("/api/v1/me", expect_errors=True).status_int == 401


def test_sign_out_ends_only_this_browser(app, webtest, admin, login):
    import webtest as wt

    laptop = wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    login(laptop, admin)
    token = login(webtest, admin)
    webtest.post("/logout", {"csrf_token": token}, status=303)
    assert laptop.get("/api/v1/me").status_int == 200


def test_sign_out_everywhere_ends_every_session_of_the_user(app, webtest, admin, login):
    import webtest as wt

    laptop = wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    login(laptop, admin)
    login(webtest, admin)
    page = webtest.get("/account/sessions")
    assert "ログイン中の端末" in page.text
    assert len(page.html.select("#sessions tbody tr")) == 2
    assert "この端末" in page.text
    response = page.forms["sign-out-everywhere"].submit()
    assert response.status_int == 303 and response.location.endswith("/login")
    assert laptop.get("/api/v1/me", expect_errors=True).status_int == 401
    assert webtest.get("/api/v1/me", expect_errors=True).status_int == 401


def test_an_admin_signs_a_user_out_everywhere_and_it_is_audited(app, webtest, admin, make_user, login, db):
    import webtest as wt

    from ecti.audit.models import AuditEntry

    agent = make_user(admin.tenant, role="agent", email="agent@acme.example")
    phone = wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    login(phone, agent)
    login(webtest, admin)
    users = webtest.get("/admin/users")
    row = next(tr for tr in users.html.select("tbody tr") if "agent@acme.example" in tr.text)
    assert row.select("td")[4].text.strip() == "1"  # one open session
    form = next(f for f in users.forms.values() if f.action.endswith(f"/admin/users/{agent.id}/sessions"))
    done = form.submit().follow()
    assert "agent@acme.example をすべての端末からログアウトさせました" in done.text
    assert phone.get("/api/v1/me", expect_errors=True).status_int == 401
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "user.sessions_ended"))
    assert entry.target_id == agent.id and entry.details["count"] == 1


def test_the_api_signs_a_user_out_everywhere_only_within_the_company(app, api, admin, make_tenant, make_user, login):
    import webtest as wt

    agent = make_user(admin.tenant, role="agent")
    stranger = make_user(make_tenant(slug="other", name="他社"), role="agent")
    phone = wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    login(phone, agent)
    token = login(api.testapp, admin)
    ended = api.delete(f"/api/v1/users/{agent.id}/sessions", headers={"X-CSRF-Token": token})
    assert ended.status_int == 200 and ended.json == {"ended": 1}
    assert phone.get("/api/v1/me", expect_errors=True).status_int == 401
    assert api.delete(f"/api/v1/users/{stranger.id}/sessions", headers={"X-CSRF-Token": token}).status_int == 404


def test_a_new_password_ends_the_users_sessions(app, webtest, admin, login, db):
    from ecti.tenancy.services import set_password

    login(webtest, admin)
    set_password(db.get(User, admin.id), "a fresh passphrase 42")
    db.commit()
    assert webtest.get("/api/v1/me", expect_errors=True).status_int == 401


def test_deactivating_a_user_signs_them_out_everywhere(webtest, make_user, admin, login, db):
    from ecti.tenancy.services import set_user_active

    agent = make_user(admin.tenant, role="agent")
    login(webtest, agent)
    assert webtest.get("/api/v1/me").status_int == 200
    set_user_active(db, db.get(User, agent.id), False)
    db.commit()
    assert webtest.get("/api/v1/me", expect_errors=True).status_int == 401
    assert submit_login(webtest, agent.email, agent.password).status_int == 400


def test_a_form_post_without_the_csrf_token_is_refused_and_changes_nothing(webtest, admin, login, db):
    login(webtest, admin)
    response = webtest.post(
        "/admin/users", {"email": "new@acme.example", "display_name": "新人", "role": "agent"}, expect_errors=True
    )
    assert response.status_int == 403
    assert "セキュリティ確認" in response.text
    assert db.scalar(select(User).where(User.email == "new@acme.example")) is None


def test_a_json_request_without_the_csrf_header_is_refused(webtest, admin, login, db):
    login(webtest, admin)
    body = {"email": "new@acme.example", "display_name": "新人", "role": "agent", "password": "long enough pw"}
    refused = webtest.post_json("/api/v1/users", body, expect_errors=True)
    assert refused.status_int == 403
    assert refused.json["error"]["code"] == "csrf_failed"
    assert db.scalar(select(User).where(User.email == "new@acme.example")) is None


def test_sign_in_does_not_redirect_to_another_site(webtest, admin):
    form = webtest.get("/login?next=//evil.example/x").forms["login"]
    form["email"] = admin.email
    form["password"] = admin.password
    response = form.submit()
    assert response.location.startswith("http://localhost/")
    assert "evil" not in response.location


def test_sign_in_returns_to_the_page_asked_for(webtest, admin):
    redirect = webtest.get("/admin/users")
    assert redirect.status_int == 302 and "/login" in redirect.location
    form = redirect.follow().forms["login"]
    form["email"] = admin.email
    form["password"] = admin.password
    assert form.submit().location.endswith("/admin/users")


def test_session_cookie_is_http_only_and_same_site(webtest, admin):
    response = submit_login(webtest, admin.email, admin.password)
    cookie = [v for k, v in response.headerlist if k == "Set-Cookie" and v.startswith("ecti_session=")][-1]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_an_agent_cannot_open_admin_pages(webtest, admin, make_user, login):
    agent = make_user(admin.tenant, role="agent")
    login(webtest, agent)
    response = webtest.get("/admin/users", expect_errors=True)
    assert response.status_int == 403
    assert "権限" in response.text


def test_users_of_a_suspended_tenant_cannot_sign_in(webtest, admin, db):
    from ecti.tenancy.models import Tenant, TenantStatus

    db.get(Tenant, admin.tenant_id).status = TenantStatus.suspended
    db.commit()
    response = submit_login(webtest, admin.email, admin.password)
    assert response.status_int == 403
    assert "停止" in response.text


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(api, webtest, admin, make_user, login, db):
    token = login(api.testapp, admin)
    headers = {"X-CSRF-Token": token}
    refused = api.patch(f"/api/v1/users/{admin.id}", json={"role": "agent"}, headers=headers)
    assert refused.status_int == 422
    assert refused.json["error"]["code"] == "last_admin"
    assert "唯一の有効な管理者" in refused.json["error"]["message"]
    assert db.get(User, admin.id).role.value == "admin"
    # With a second administrator, the first may step down; the second is then the last one.
    second = make_user(admin.tenant, role="admin", email="second@acme.example")
    assert api.patch(f"/api/v1/users/{admin.id}", json={"role": "supervisor"}, headers=headers).status_int == 200
    assert api.patch(f"/api/v1/users/{second.id}", json={"is_active": False}, headers=headers).status_int == 403  # no longer admin
    api.testapp.reset()
    token = login(api.testapp, second)
    last = api.patch(f"/api/v1/users/{second.id}", json={"role": "agent"}, headers={"X-CSRF-Token": token})
    assert last.status_int == 422 and last.json["error"]["code"] == "last_admin"
    db.expire_all()
    assert db.get(User, second.id).is_active and db.get(User, second.id).role.value == "admin"


def test_the_operator_reissuing_a_password_reactivates_a_deactivated_admin(webtest, admin, make_user, login, db):
    from ecti.operator.services import reissue_password
    from ecti.tenancy.services import set_user_active

    user = db.get(User, admin.id)
    set_user_active(db, user, False)  # e.g. data from before the last-admin protection
    password = reissue_password(user)
    db.commit()
    assert user.is_active
    response = submit_login(webtest, admin.email, password)
    assert response.status_int == 303


def test_an_address_of_another_company_is_refused_without_saying_it_exists(api, admin, make_tenant, make_user, login):
    make_user(make_tenant(slug="other", name="他社"), role="agent", email="taken@other.example")
    make_user(admin.tenant, role="agent", email="mine@acme.example")
    headers = {"X-CSRF-Token": login(api.testapp, admin)}
    body = {"display_name": "新人", "role": "agent", "password": "a fresh passphrase 42"}
    ours = api.post("/api/v1/users", json={**body, "email": "mine@acme.example"}, headers=headers)
    assert ours.status_int == 409 and ours.json["error"]["code"] == "email_taken"
    theirs = api.post("/api/v1/users", json={**body, "email": "taken@other.example"}, headers=headers)
    assert theirs.status_int == 409 and theirs.json["error"]["code"] == "email_unavailable"
    assert "使えません" in theirs.json["error"]["message"] and "使われて" not in theirs.json["error"]["message"]
