"""Sign-in throttling: per client address and per login name, a growing wait, never a lockout."""
from datetime import timedelta

import pytest

from ecti.models.meta import utcnow
from ecti.tenancy import throttle


@pytest.fixture
def admin(make_tenant, make_user):
    return make_user(make_tenant(), role="admin", email="admin@acme.example")


def submit_login(testapp, email, password, address="198.51.100.7"):
    form = testapp.get("/login").forms["login"]
    form["email"] = email
    form["password"] = password
    return form.submit(expect_errors=True, extra_environ={"REMOTE_ADDR": address})


def test_an_address_that_keeps_failing_waits_longer_and_longer(engine, db):
    now = utcnow()
    waits = []
    for i in range(13):
        # A different login name each time: only the address counts.
        wait = throttle.reserve(engine, "203.0.113.9", f"guess{i}@example.jp", now=now)
        waits.append(wait)
        if wait:
            now += timedelta(seconds=wait)
    assert waits[:10] == [0.0] * 10
    assert waits[10:] == [1.0, 0.0, 2.0]  # the 10th attempt earned a 1 s wait, the 11th 2 s
    assert throttle.reserve(engine, "198.51.100.1", "guess0@example.jp", now=now) == 0  # others are not slowed


def test_a_login_name_attacked_from_many_addresses_waits_at_most_a_minute(engine, db):
    now = utcnow()
    longest = 0.0
    for i in range(40):
        wait = throttle.reserve(engine, f"192.0.2.{i}", "admin@acme.example", now=now)
        longest = max(longest, wait)
        now += timedelta(seconds=wait)
    assert 30 < longest <= 60


def test_throttled_sign_in_answers_the_same_for_known_and_unknown_addresses(webtest, admin):
    answers = {}
    for email in (admin.email, "nobody@acme.example"):
        statuses = [submit_login(webtest, email, "wrong password!", address=f"192.0.2.{i}").status_int for i in range(7)]
        throttled = submit_login(webtest, email, "wrong password!", address="192.0.2.99")
        answers[email] = (statuses, throttled.status_int, "秒待ってから" in throttled.text)
    assert answers[admin.email] == answers["nobody@acme.example"]
    statuses, status, says_wait = answers[admin.email]
    assert statuses[:5] == [400] * 5 and status == 429 and says_wait


def test_the_owner_signs_in_once_the_short_wait_is_over(webtest, admin, engine):
    for i in range(6):
        submit_login(webtest, admin.email, "wrong password!", address=f"192.0.2.{i}")
    refused = submit_login(webtest, admin.email, admin.password, address="198.51.100.50")
    assert refused.status_int == 429
    assert int(refused.headers["Retry-After"]) <= 60
    # No lock on the account: when the wait has passed, the right password works.
    from sqlalchemy import update

    from ecti.tenancy.models import SigninThrottle

    with engine.begin() as conn:
        conn.execute(update(SigninThrottle.__table__).values(blocked_until=utcnow() - timedelta(seconds=1)))
    assert submit_login(webtest, admin.email, admin.password, address="198.51.100.50").status_int == 303


def test_colleagues_behind_one_office_address_are_not_throttled_by_signing_in(webtest, admin, make_user):
    users = [make_user(admin.tenant, role="agent") for _ in range(12)]
    for user in users:
        response = submit_login(webtest, user.email, user.password, address="203.0.113.200")
        assert response.status_int == 303
        webtest.reset()


def test_a_trusted_proxy_forwards_the_address_and_nobody_else_can(app_settings, engine, clean_database, admin):
    import webtest as wt

    from ecti.config import configure

    app = configure({**app_settings, "ecti.trusted_proxies": "10.0.0.1"}, engine=engine).make_wsgi_app()
    browser = wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})

    def attempt(remote, forwarded):
        form = browser.get("/login").forms["login"]
        form["email"], form["password"] = f"x{remote}{forwarded}@example.jp", "wrong password!"
        return form.submit(expect_errors=True, extra_environ={"REMOTE_ADDR": remote}, headers={"X-Forwarded-For": forwarded}).status_int

    # Behind the proxy, each forwarded client has its own count.
    assert [attempt("10.0.0.1", f"198.51.100.{i}") for i in range(12)] == [400] * 12
    # A client that claims to be forwarded is still counted by its own address.
    assert [attempt("192.0.2.5", f"198.51.100.{i}") for i in range(12)][-1] == 429
