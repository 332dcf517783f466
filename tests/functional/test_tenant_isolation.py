"""One tenant never sees another's data: by construction, and end to end."""
import pytest
from sqlalchemy import select

from ecti.db import TenantScopeError, make_session_factory, set_tenant_scope
from ecti.tenancy.models import User
from ecti.telephony.models import PhoneNumber


@pytest.fixture
def two_tenants(make_tenant, make_user, db):
    a = make_tenant(slug="alpha", name="アルファ株式会社")
    b = make_tenant(slug="beta", name="ベータ株式会社")
    admin_a = make_user(a, role="admin", email="admin@alpha.example")
    admin_b = make_user(b, role="admin", email="admin@beta.example")
    agent_b = make_user(b, role="agent", email="agent@beta.example")
    db.add(PhoneNumber(tenant_id=b.id, e164="+815011112222"))
    db.commit()
    return a, b, admin_a, admin_b, agent_b


def test_every_user_endpoint_answers_404_for_another_tenants_user(api, login, two_tenants, db):
    _a, _b, admin_a, _admin_b, agent_b = two_tenants
    token = login(api.testapp, admin_a)
    headers = {"X-CSRF-Token": token}
    assert api.get(f"/api/v1/users/{agent_b.id}").status_int == 404
    patched = api.patch(f"/api/v1/users/{agent_b.id}", json={"display_name": "乗っ取り"}, headers=headers)
    assert patched.status_int == 404
    page = api.testapp.post(f"/admin/users/{agent_b.id}/active", {"csrf_token": token, "active": "0"}, expect_errors=True)
    assert page.status_int == 404
    listed = api.get("/api/v1/users").json["users"]
    assert [u["email"] for u in listed] == ["admin@alpha.example"]
    db.expire_all()
    victim = db.get(User, agent_b.id)
    assert victim.display_name != "乗っ取り" and victim.is_active


def test_the_user_list_page_shows_only_the_own_tenant(webtest, login, two_tenants):
    _a, _b, admin_a, _admin_b, _agent_b = two_tenants
    login(webtest, admin_a)
    page = webtest.get("/admin/users")
    assert "admin@alpha.example" in page.text
    assert "beta.example" not in page.text


def test_a_query_on_tenant_data_without_a_tenant_scope_fails_loudly(engine, two_tenants):
    session = make_session_factory(engine)()
    with pytest.raises(TenantScopeError):
        session.scalars(select(PhoneNumber)).all()
    session.close()


def test_the_scope_adds_the_tenant_to_every_query(engine, two_tenants):
    a, b, *_ = two_tenants
    session = make_session_factory(engine)()
    set_tenant_scope(session, a.id)
    assert session.scalars(select(PhoneNumber)).all() == []
    set_tenant_scope(session, b.id)
    assert [n.e164 for n in session.scalars(select(PhoneNumber))] == ["+815011112222"]
    session.close()


def test_writing_a_row_of_another_tenant_is_refused(engine, two_tenants):
    a, b, *_ = two_tenants
    session = make_session_factory(engine)()
    set_tenant_scope(session, a.id)
    session.add(PhoneNumber(tenant_id=b.id, e164="+815099998888"))
    with pytest.raises(TenantScopeError):
        session.flush()
    session.rollback()
    session.close()


def test_new_rows_take_the_scoped_tenant(engine, two_tenants):
    a, *_ = two_tenants
    session = make_session_factory(engine)()
    set_tenant_scope(session, a.id)
    number = PhoneNumber(e164="+815077776666")
    session.add(number)
    session.flush()
    assert number.tenant_id == a.id
    session.rollback()
    session.close()
