"""Monthly billing from ECTI's own records (F-ORG-3), with fixed dates and figures by hand.

The company "acme" (Asia/Tokyo) starts on 2026-03-17: free until 2026-04-16, billed from
2026-04-17. Prices: 1,000 yen per account and 3 yen per recording minute from 2026-03,
1,100 yen per account from 2026-06. Its accounts (Tokyo times):

    boss (admin), agent1, agent2   created 03-17 10:00
    temp1..temp3                   created 04-03 09:00, deactivated 04-16 18:00 (free days only)
    agent3                         created 04-20 09:00
    agent4                         created 05-01 00:30 (= 04-30 15:30 UTC: a May account)
    agent5                         created 05-10 09:00, deactivated 05-10 17:00 (counts that day)
    agent2                         deactivated 06-01 00:00 (= 05-31 15:00 UTC: all of May, no June)

Calls: inbound 04-30 23:59 JST 600 s (April); inbound 05-02 125 s, 05-15 180 s and
05-31 23:30 JST 100 s, outbound 05-20 59 s (May); inbound 06-01 00:10 JST 300 s (June).

"beta" starts on 2026-05-01 with one admin and no prices set.
"""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ecti.audit.models import AuditEntry
from ecti.billing.models import TenantBillingTerms
from ecti.calls.models import Call, CallStatus, Direction
from ecti.models.meta import utcnow
from ecti.tenancy.models import Role, User
from ecti.tenancy.services import create_user, set_user_active

TOKYO = ZoneInfo("Asia/Tokyo")
PASSWORD = "correct horse battery"


def jst(y, m, d, hh=0, mm=0, ss=0):
    return datetime(y, m, d, hh, mm, ss, tzinfo=TOKYO)


def current_month_label():
    now = utcnow().astimezone(TOKYO)
    return f"{now.year:04d}-{now.month:02d}"


@pytest.fixture
def books(db, make_tenant, make_user):
    acme = make_tenant(slug="acme", name="株式会社アクメ", start_date=date(2026, 3, 17))
    beta = make_tenant(slug="beta", name="ベータ株式会社", start_date=date(2026, 5, 1))

    def account(tenant, name, created, role="agent", deactivated=None):
        user = create_user(db, tenant=tenant, email=f"{name}@{tenant.slug}.example", display_name=name, role=Role(role), password=PASSWORD, at=created)
        if deactivated is not None:
            set_user_active(db, user, False, at=deactivated)
        return user

    boss = account(acme, "boss", jst(2026, 3, 17, 10), role="admin")
    account(acme, "agent1", jst(2026, 3, 17, 10))
    agent2 = account(acme, "agent2", jst(2026, 3, 17, 10))
    for i in (1, 2, 3):
        account(acme, f"temp{i}", jst(2026, 4, 3, 9), deactivated=jst(2026, 4, 16, 18))
    account(acme, "agent3", jst(2026, 4, 20, 9))
    account(acme, "agent4", jst(2026, 5, 1, 0, 30))
    account(acme, "agent5", jst(2026, 5, 10, 9), deactivated=jst(2026, 5, 10, 17))
    set_user_active(db, agent2, False, at=jst(2026, 6, 1, 0, 0))
    beta_admin = account(beta, "boss", jst(2026, 5, 1, 9), role="admin")

    calls = [
        (Direction.inbound, jst(2026, 4, 30, 23, 59), 600),
        (Direction.inbound, jst(2026, 5, 2, 10), 125),
        (Direction.inbound, jst(2026, 5, 15, 10), 180),
        (Direction.inbound, jst(2026, 5, 31, 23, 30), 100),
        (Direction.outbound, jst(2026, 5, 20, 14), 59),
        (Direction.inbound, jst(2026, 6, 1, 0, 10), 300),
    ]
    for i, (direction, started, seconds) in enumerate(calls):
        db.add(Call(tenant_id=acme.id, carrier_call_id=f"CA{i}", direction=direction, from_number="+81312345678",
                    to_number="+815011112222", status=CallStatus.completed, started_at=started, duration_seconds=seconds))
    db.add(TenantBillingTerms(tenant_id=acme.id, effective_from=date(2026, 3, 1), unit_price_yen=1000, recording_price_yen_per_minute=3))
    db.add(TenantBillingTerms(tenant_id=acme.id, effective_from=date(2026, 6, 1), unit_price_yen=1100, recording_price_yen_per_minute=3))
    db.commit()
    boss.password = beta_admin.password = PASSWORD
    return {"acme": acme, "beta": beta, "boss": boss, "beta_admin": beta_admin}


@pytest.fixture
def operator(make_user):
    return make_user(None, role="operator", email="op@ecti.example")


def cells(row, *names):
    return tuple(row.select_one(f".{name}").text.strip() for name in names)


# --- the operator's month page ---------------------------------------------------------------

def test_operator_sees_every_company_of_a_whole_month(webtest, login, operator, books):
    login(webtest, operator)
    page = webtest.get("/operator/billing?month=2026-05")
    assert "請求 — 2026-05" in page.text
    acme = page.html.select_one('tr[data-slug="acme"]')
    # May is billed whole. Peak: boss, agent1..agent4 all month = 5, plus agent5 on 05-10 = 6.
    # 6 × 1,000 = 6,000 yen; no recordings → total 6,000, due 2026-06-15.
    # Calls: inbound 125 + 180 + 100 = 405 s → 6.75 → 7 min; outbound 59 s → 1 min.
    assert cells(acme, "status", "peak", "billed-peak", "billed-days", "accounts-yen", "total", "due", "inbound", "outbound") == (
        "通常（1 か月分）", "6", "6", "31", "6,000", "6,000", "2026-06-15", "7", "1",
    )
    beta = page.html.select_one('tr[data-slug="beta"]')
    # beta started 2026-05-01: May is its free month; 1 account, 0 yen, and no prices yet.
    assert cells(beta, "status", "peak", "total") == ("無料期間", "1", "0")
    assert "料金未設定" in beta.text
    assert page.html.select_one("#grand-total").text.strip() == "6,000"
    # Recordings are metered now; SMS are not recorded by ECTI yet: the page says they count as 0.
    assert "録音: ECTI ではまだ記録していないため 0 として集計" not in page.text
    assert "SMS: ECTI ではまだ記録していないため 0 として集計" in page.text


def test_recording_minutes_are_metered_from_the_carriers_durations_at_the_operators_price(api, login, operator, books, db):
    """July (Tokyo): recordings of 90 s and 45 s (the latter 07-31 23:50) and one of 60 s deleted on
    07-20; one of 30 s on 08-01 00:10 is August's. Prices from July: 3 yen per recording minute,
    1 yen per stored minute."""
    from ecti.calls.models import Recording

    acme = books["acme"]
    call = Call(tenant_id=acme.id, carrier_call_id="CA-rec", direction=Direction.inbound, from_number="+81312345678",
                to_number="+815011112222", status=CallStatus.completed, started_at=jst(2026, 7, 5, 10), duration_seconds=600)
    db.add(call)
    db.flush()
    for n, (created, seconds, deleted, status) in enumerate([
        (jst(2026, 7, 10, 10), 90, None, "completed"),
        (jst(2026, 7, 31, 23, 50), 45, None, "completed"),
        (jst(2026, 7, 5, 10), 60, jst(2026, 7, 20, 9), "completed"),
        (jst(2026, 8, 1, 0, 10), 30, None, "completed"),
        (jst(2026, 7, 12, 10), None, None, "absent"),  # nothing was recorded
    ]):
        db.add(Recording(tenant_id=acme.id, call_id=call.id, carrier_recording_id=f"RE{n:032d}", status=status,
                         duration_seconds=seconds, created_at=created, deleted_at=deleted))
    db.add(TenantBillingTerms(tenant_id=acme.id, effective_from=date(2026, 7, 1), unit_price_yen=1100, recording_price_yen_per_minute=3,
                              storage_price_yen_per_minute=1))
    db.commit()
    login(api.testapp, operator)
    july = {t["slug"]: t for t in api.get("/api/v1/operator/billing/2026-07").json["tenants"]}["acme"]
    # Made in July: 90 + 45 + 60 = 195 s → 4 minutes × 3 yen. Kept at the close: 90 + 45 = 135 s → 3 minutes × 1 yen.
    lines = {line["code"]: (line["quantity"], line["amount_yen"]) for line in july["lines"]}
    assert lines["recording"] == (4, 12) and lines["storage"] == (3, 3)
    assert july["total_yen"] == 4 * 1100 + 12 + 3
    assert july["usage"]["not_recorded"] == ["sms"]
    august = {t["slug"]: t for t in api.get("/api/v1/operator/billing/2026-08").json["tenants"]}["acme"]
    lines = {line["code"]: (line["quantity"], line["amount_yen"]) for line in august["lines"]}
    assert lines["recording"] == (1, 3) and lines["storage"] == (3, 3)  # 30 s; kept: 90 + 45 + 30 = 165 s


def test_first_billed_month_is_prorated_on_the_billed_days(api, login, operator, books):
    login(api.testapp, operator)
    april = {t["slug"]: t for t in api.get("/api/v1/operator/billing/2026-04").json["tenants"]}["acme"]
    # Billed 04-17..04-30 = 14 of 30 days.
    assert (april["status"], april["billed_days"], april["days_in_month"]) == ("prorated", 14, 30)
    assert (april["trial_end"], april["billing_start"]) == ("2026-04-16", "2026-04-17")
    # Whole April: boss, agent1, agent2 + temp1..3 (04-03..04-16) = 6. On billed days the
    # temps are gone (deactivated 04-16 18:00) and agent3 came on 04-20: 3 + 1 = 4.
    # agent4 (05-01 00:30 Tokyo, still April 30 in UTC) is not an April account.
    assert (april["peak_accounts"], april["billed_peak_accounts"]) == (6, 4)
    # 4 × 1,000 × 14 / 30 = 56,000 / 30 = 1,866.67 → rounded down once: 1,866 yen.
    assert april["account_charge_yen"] == 1866
    assert april["total_yen"] == 1866
    assert april["due_date"] == "2026-05-15"
    # The 600 s call started 04-30 23:59 Tokyo: an April call, 10 minutes.
    assert april["usage"]["inbound_call_minutes"] == 10
    assert [(line["code"], line["label"], line["quantity"], line["amount_yen"]) for line in april["lines"]] == [
        ("accounts", "ユーザーアカウント(日割 14/30日)", 4, 1866),
        ("recording", "通話録音(分)", 0, 0),
    ]


def test_the_start_month_is_free(api, login, operator, books):
    login(api.testapp, operator)
    march = {t["slug"]: t for t in api.get("/api/v1/operator/billing/2026-03").json["tenants"]}
    # acme: 03-17..03-31 is all free trial; 3 accounts, nothing charged, due 2026-04-15.
    assert (march["acme"]["status"], march["acme"]["peak_accounts"], march["acme"]["total_yen"]) == ("trial", 3, 0)
    assert march["acme"]["due_date"] == "2026-04-15"
    # beta had not started: nothing at all.
    assert (march["beta"]["status"], march["beta"]["peak_accounts"], march["beta"]["lines"]) == ("not_started", 0, [])


def test_tokyo_month_boundaries_and_later_prices(api, login, operator, books):
    login(api.testapp, operator)
    june = {t["slug"]: t for t in api.get("/api/v1/operator/billing/2026-06").json["tenants"]}
    # agent2 was deactivated at 06-01 00:00 Tokyo exactly: not a June account. June has boss,
    # agent1, agent3, agent4 = 4 accounts at the June price: 4 × 1,100 = 4,400 yen.
    assert (june["acme"]["peak_accounts"], june["acme"]["unit_price_yen"], june["acme"]["total_yen"]) == (4, 1100, 4400)
    # The call at 06-01 00:10 Tokyo (05-31 15:10 UTC) is June's: 300 s = 5 minutes.
    assert june["acme"]["usage"]["inbound_call_minutes"] == 5
    # beta: free until 05-31, billed from 06-01, a whole month; its price is not set (0 yen).
    assert (june["beta"]["status"], june["beta"]["billed_peak_accounts"], june["beta"]["prices_set"]) == ("full", 1, False)
    # The June price does not change May (still 1,000 yen).
    may = {t["slug"]: t for t in api.get("/api/v1/operator/billing/2026-05").json["tenants"]}
    assert (may["acme"]["unit_price_yen"], may["acme"]["total_yen"]) == (1000, 6000)


def test_a_closed_month_recomputes_to_the_same_invoice(api, login, operator, books, db):
    headers = {"X-CSRF-Token": login(api.testapp, operator)}
    before = api.get("/api/v1/operator/billing/2026-05").json
    # Everything that happens later: new accounts, deactivations, calls, a price change.
    acme = books["acme"]
    create_user(db, tenant=acme, email="late@acme.example", display_name="late", role=Role.agent, password=PASSWORD)
    set_user_active(db, db.scalar(select(User).where(User.email == "agent1@acme.example")), False)
    db.add(Call(tenant_id=acme.id, carrier_call_id="CA-late", direction=Direction.inbound, from_number="+81312345678",
                to_number="+815011112222", status=CallStatus.completed, started_at=utcnow(), duration_seconds=999))
    db.commit()
    changed = api.put(f"/api/v1/operator/tenants/{acme.id}/billing-terms",
                      json={"effective_from": current_month_label(), "unit_price_yen": 5000}, headers=headers)
    assert changed.status_int == 200
    after = api.get("/api/v1/operator/billing/2026-05").json
    assert after == before
    assert after["total_yen"] == 6000


# --- CSV for Excel ---------------------------------------------------------------------------

def test_csv_export_opens_in_excel_with_japanese_headers(webtest, login, operator, books):
    login(webtest, operator)
    response = webtest.get("/operator/billing.csv?month=2026-05")
    assert response.content_type == "text/csv"
    assert 'filename="ecti-billing-2026-05.csv"' in response.headers["Content-Disposition"]
    body = response.body
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads it as UTF-8
    text = body.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[-1] == "" and all("\n" not in line for line in lines)  # CRLF only
    header = lines[0].split(",")
    assert header[:4] == ["対象月", "略称", "企業名", "請求区分"]
    assert "月間最大アカウント数" in header and "合計（円）" in header and "支払期日" in header
    rows = {line.split(",")[1]: dict(zip(header, line.split(","))) for line in lines[1:-1]}
    acme = rows["acme"]
    assert (acme["対象月"], acme["請求区分"], acme["月間最大アカウント数"], acme["アカウント単価（円）"], acme["合計（円）"], acme["支払期日"]) == (
        "2026-05", "通常（1 か月分）", "6", "1000", "6000", "2026-06-15",
    )
    assert (acme["着信通話時間（分）"], acme["発信通話時間（分）"], acme["SMS 送信数"]) == ("7", "1", "0")
    assert "料金未設定" in rows["beta"]["備考"] and rows["beta"]["請求区分"] == "無料期間"


def test_csv_export_in_english(webtest, login, operator, books):
    login(webtest, operator)
    text = webtest.get("/operator/billing.csv?month=2026-04&lang=en").body.decode("utf-8-sig")
    header, acme = text.split("\r\n")[0].split(","), text.split("\r\n")[1].split(",")
    assert header[:4] == ["Month", "Short name", "Company name", "Billing status"]
    row = dict(zip(header, acme))
    assert (row["Billing status"], row["Days billed"], row["Account charge (yen)"], row["Due date"]) == ("Prorated", "14", "1866", "2026-05-15")


def test_csv_cells_cannot_become_spreadsheet_formulas(webtest, login, operator, make_tenant):
    make_tenant(slug="evil", name="=HYPERLINK(\"http://x\")")
    login(webtest, operator)
    text = webtest.get("/operator/billing.csv?month=2026-05").body.decode("utf-8-sig")
    assert "'=HYPERLINK" in text


def test_a_bad_month_is_a_clear_error(webtest, api, login, operator, books):
    login(webtest, operator)
    csv_response = webtest.get("/operator/billing.csv?month=2026-13", expect_errors=True)
    assert csv_response.status_int == 400 and "YYYY-MM" in csv_response.text
    page = webtest.get("/operator/billing?month=May", expect_errors=True)
    assert page.status_int == 400 and "2026-05 のように YYYY-MM の形式で" in page.text
    assert api.get("/api/v1/operator/billing/2026-13").status_int == 422
    assert api.get("/api/v1/operator/billing/2026-5").status_int == 404


# --- the tenant admin ------------------------------------------------------------------------

def test_tenant_admin_sees_its_own_usage_and_invoice(webtest, login, books):
    boss = books["boss"]
    login(webtest, boss)
    page = webtest.get("/admin/billing?month=2026-05")
    assert "利用状況と請求 — 2026-05" in page.text
    assert page.html.select_one("#usage .inbound").text.strip() == "7"
    assert page.html.select_one("#usage .outbound").text.strip() == "1"
    assert page.html.select_one("#usage .recording").text.strip() == "0"
    assert "録音: ECTI ではまだ記録していないため 0 として集計" not in page.text  # metered from the recordings
    assert page.html.select_one('#invoice-lines tr[data-code="accounts"] .amount').text.strip() == "6,000"
    assert page.html.select_one("#total").text.strip() == "6,000"
    assert page.html.select_one("#invoice .due").text.strip() == "2026-06-15"
    assert "ベータ" not in page.text
    # The current month is marked as still running.
    assert "まだ締めていません" in webtest.get("/admin/billing").text


def test_tenant_admin_api_gives_only_its_own_month(api, login, books):
    login(api.testapp, books["beta_admin"])
    may = api.get("/api/v1/billing/2026-05").json
    # beta's own figures: free first month, 1 account; acme's 6,000 yen are nowhere.
    assert (may["status"], may["peak_accounts"], may["total_yen"], may["prices_set"]) == ("trial", 1, 0, False)
    assert may["usage"]["not_recorded"] == ["sms"]
    assert api.get("/api/v1/billing/2026-00").status_int == 422
    # Operator billing is not for tenant admins.
    assert api.get("/api/v1/operator/billing/2026-05").status_int == 403


def test_tenant_admin_cannot_see_the_operator_billing(webtest, login, books):
    login(webtest, books["boss"])
    assert webtest.get("/operator/billing?month=2026-05", expect_errors=True).status_int == 403
    assert webtest.get("/operator/billing.csv?month=2026-05", expect_errors=True).status_int == 403


# --- prices ----------------------------------------------------------------------------------

def test_operator_sets_prices_from_the_current_month_but_not_for_a_closed_month(webtest, login, operator, make_tenant, db):
    tenant = make_tenant(slug="gamma", name="ガンマ商事")
    login(webtest, operator)
    page = webtest.get(f"/operator/tenants/{tenant.id}")
    assert "料金が未設定です" in page.text
    form = page.forms["billing-terms"]
    form["effective_from"] = "2026-01"
    form["unit_price_yen"] = "1200"
    closed = form.submit(expect_errors=True)
    assert closed.status_int == 422
    assert f"2026-01 は締め済みのため、料金を変更できません。{current_month_label()} 以降の月を選んでください。" in closed.text

    form = closed.forms["billing-terms"]
    form["effective_from"] = current_month_label()
    form["unit_price_yen"] = "-5"
    assert "0 以上の整数" in form.submit(expect_errors=True).text

    form["unit_price_yen"] = "1,200"  # a thousands separator is fine
    form["recording_price_yen_per_minute"] = "3"
    saved = form.submit().follow()
    assert "ガンマ商事 の料金を" in saved.text
    history = saved.html.select("#terms-history tbody tr")
    assert [td.text.strip() for td in history[0].select("td")] == [current_month_label(), "1,200", "3", "0"]
    rows = db.scalars(select(TenantBillingTerms).where(TenantBillingTerms.tenant_id == tenant.id)).all()
    assert [(r.unit_price_yen, r.recording_price_yen_per_minute) for r in rows] == [(1200, 3)]
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "billing.terms"))
    assert (entry.tenant_id, entry.details["unit_price_yen"], entry.details["previous"]) == (tenant.id, 1200, None)


def test_changing_prices_of_the_same_month_keeps_one_row_and_audits_the_old_prices(db, make_tenant):
    from ecti.billing.services import set_billing_terms

    tenant = make_tenant(start_date=date(2026, 3, 17))
    may_10 = datetime(2026, 5, 10, tzinfo=timezone.utc)
    set_billing_terms(db, tenant, effective_from="2026-05", unit_price_yen=1000, now=may_10)
    row, previous = set_billing_terms(db, tenant, effective_from="2026-05", unit_price_yen="1500", now=may_10)
    assert (row.unit_price_yen, previous.unit_price_yen) == (1500, 1000)
    assert len(db.scalars(select(TenantBillingTerms)).all()) == 1
    # 2026-04 is closed on 2026-05-10 (Tokyo), 2026-06 is still to come.
    from ecti.errors import UserError

    with pytest.raises(UserError) as closed:
        set_billing_terms(db, tenant, effective_from="2026-04", unit_price_yen=1, now=may_10)
    assert closed.value.code == "month_closed"
    set_billing_terms(db, tenant, effective_from="2026-06", unit_price_yen=1200, now=may_10)
    # On 2026-05-31 16:00 UTC it is already June 1 in Tokyo: May is closed.
    with pytest.raises(UserError):
        set_billing_terms(db, tenant, effective_from="2026-05", unit_price_yen=1, now=datetime(2026, 5, 31, 16, tzinfo=timezone.utc))


def test_price_api_refuses_bad_input_and_unknown_companies(api, login, operator, make_tenant):
    tenant = make_tenant()
    headers = {"X-CSRF-Token": login(api.testapp, operator)}
    negative = api.put(f"/api/v1/operator/tenants/{tenant.id}/billing-terms", json={"effective_from": current_month_label(), "unit_price_yen": -1}, headers=headers)
    assert negative.status_int == 422 and negative.json["error"]["fields"][0]["field"] == "unit_price_yen"
    closed = api.put(f"/api/v1/operator/tenants/{tenant.id}/billing-terms", json={"effective_from": "2020-01", "unit_price_yen": 1}, headers=headers)
    assert closed.status_int == 422 and closed.json["error"]["code"] == "month_closed"
    unknown = api.put("/api/v1/operator/tenants/999999/billing-terms", json={"effective_from": current_month_label(), "unit_price_yen": 1}, headers=headers)
    assert unknown.status_int == 404
