"""Signing in and out, lockout, sessions and CSRF, as a person in a browser meets them."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from ecti.models.meta import utcnow
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


def test_repeated_failures_lock_the_account_even_for_the_right_password(webtest, admin, db):
    for _ in range(4):
        assert submit_login(webtest, admin.email, "wrong password!").status_int == 400
    fifth = submit_login(webtest, admin.email, "wrong password!")
    assert fifth.status_int == 403
    assert "ログインの失敗が続いたため" in fifth.text
    locked = submit_login(webtest, admin.email, admin.password)
    assert locked.status_int == 403
    # After the lock has passed, the right password works and the counter is reset.
    user = db.get(User, admin.id)
    db.refresh(user)
    assert user.failed_logins == 5
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.commit()
    assert submit_login(webtest, admin.email, admin.password).status_int == 303
    db.refresh(user)
    assert user.failed_logins == 0


def test_each_failure_after_the_lock_doubles_it(db, admin):
    from ecti.tenancy.security import LoginRefused, authenticate

    user = db.get(User, admin.id)
    now = utcnow()
    locks = []
    for _ in range(7):
        try:
            authenticate(db, admin.email, "wrong password!", now=now)
        except LoginRefused as refused:
            if refused.until:
                locks.append(refused.until - now)
        user.locked_until = None  # let the next attempt through to be counted
    assert locks == [timedelta(minutes=15), timedelta(minutes=30), timedelta(minutes=60)]


def test_sign_out_ends_the_session(webtest, admin, login):
    login(webtest, admin)
    assert webtest.get("/admin/users").status_int == 200
    token = webtest.get("/api/v1/me").json["csrf_token"]
    webtest.post("/logout", {"csrf_token": token}, status=303)
    assert webtest.get("/admin/users").status_int == 302


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
