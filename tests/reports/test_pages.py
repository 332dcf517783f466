"""The report pages, CSV exports and JSON API as a supervisor uses them (scenario: conftest.py)."""
import csv
import io

import pytest

from ecti.db import set_tenant_scope


@pytest.fixture
def supervisor(center, make_user):
    return make_user(center.tenant, role="supervisor", email="boss@acme.example", name="上司")


MAY31 = "from=2026-05-31&to=2026-05-31"


def read_csv(response):
    assert response.content_type == "text/csv"
    assert response.body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    text = response.body.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text)))


def test_the_queue_page_shows_the_figures_a_chart_and_the_csv_link(webtest, login, center, supervisor):
    login(webtest, supervisor)
    page = webtest.get(f"/reports/queues?{MAY31}")
    assert "キューレポート" in page.text
    assert "サービスレベル・待ち中を含む (ウォールボードと同じ)" in page.text  # the definitions shown, translated
    rows = page.html.select("#report-table tbody tr")
    support_total = next(r for r in rows if "サポート" in r.text and "合計" in r.text)
    cells = {td.get("data-key"): td.text for td in support_total.select("td[data-key]")}
    assert (cells["offered"], cells["answered"], cells["abandoned"], cells["service_level_answered"], cells["service_level_offered"]) == (
        "7", "3", "2", "66.7", "42.9")
    # Waiting included: 2 answered within 20 s / (3 answered + E4 abandoned after 45 s + E5 timed out after 120 s)
    assert (cells["service_level"], cells["longest_wait"], cells["average_speed_of_answer"]) == ("40.0", "0:02:00", "0:00:17")
    bars = page.html.select("svg#queue-calls rect.bar")
    assert any(float(b["height"]) > 0 for b in bars)
    assert page.html.select_one("a#csv")["href"].endswith("from=2026-05-31&to=2026-05-31&bucket=day")


def test_the_queue_csv_opens_in_excel_with_japanese_or_english_headers(webtest, login, center, supervisor):
    login(webtest, supervisor)
    rows = read_csv(webtest.get(f"/reports/queues.csv?{MAY31}"))
    assert rows[0][:4] == ["キュー", "期間", "サービスレベルしきい値 (秒)", "着信数"]
    by_key = {(r[0], r[1]): r for r in rows[1:]}
    header = rows[0]
    support = dict(zip(header, by_key[("サポート", "2026-05-31")]))
    assert (support["着信数"], support["応答数"], support["放棄数"], support["平均応答速度 (秒)"]) == ("7", "3", "2", "16.7")
    assert ("営業", "合計") in by_key
    english = read_csv(webtest.get(f"/reports/queues.csv?{MAY31}&lang=en"))
    assert english[0][:4] == ["Queue", "Period", "Service level threshold (s)", "Offered"]
    assert ("サポート", "Total") in {(r[0], r[1]) for r in english[1:]}


def test_agent_and_center_pages_and_csv(webtest, login, center, supervisor):
    login(webtest, supervisor)
    page = webtest.get(f"/reports/agents?{MAY31}")
    sato = next(r for r in page.html.select("#report-table tbody tr") if "佐藤" in r.text)
    assert {td["data-key"]: td.text for td in sato.select("td[data-key]")}["average_handle_seconds"] == "0:03:20"  # 200 s, as h:mm:ss on the page
    assert any(float(b["height"]) > 0 for b in page.html.select("svg#agent-calls rect.bar"))
    rows = read_csv(webtest.get(f"/reports/agents.csv?{MAY31}"))
    sato = dict(zip(rows[0], next(r for r in rows if r[0] == "佐藤")))
    assert (sato["受信処理数"], sato["発信数"], sato["通話時間 (秒)"], sato["不応答: 拒否"]) == ("2", "1", "510", "1")
    center_page = webtest.get(f"/reports/center?{MAY31}")
    assert "050-1111-2222" in center_page.html.select_one("#numbers-table").text
    rows = read_csv(webtest.get(f"/reports/center.csv?{MAY31}&lang=en"))
    total = dict(zip(rows[0], rows[-1]))
    assert (total["Period"], total["Inbound calls"], total["After-hours calls"], total["IVR abandonment rate (%)"]) == ("Total", "10", "1", "10")


def test_the_center_page_links_csv_downloads_by_number_and_by_hour(webtest, login, center, supervisor):
    login(webtest, supervisor)
    page = webtest.get(f"/reports/center?{MAY31}")
    numbers = read_csv(webtest.get(page.html.select_one("a#csv-numbers")["href"]))
    assert numbers == [["番号", "着信", "発信数", "発信 応答あり"], ["050-1111-2222", "10", "1", "1"]]
    english = read_csv(webtest.get(f"/reports/center-numbers.csv?{MAY31}&lang=en"))
    assert english[0] == ["Number", "Inbound calls", "Outbound calls", "Outbound answered"]
    response = webtest.get(page.html.select_one("a#csv-hours")["href"])
    assert "ecti-center-hours-2026-05-31-2026-05-31.csv" in response.headers["Content-Disposition"]
    hours = read_csv(response)
    assert hours[0][:3] == ["曜日", "0:00", "1:00"] and hours[0][-1] == "合計" and len(hours[0]) == 26
    assert [r[0] for r in hours[1:]] == ["月", "火", "水", "木", "金", "土", "日", "合計"]
    sunday = dict(zip(hours[0], hours[7]))
    # as on the page (and test_figures): one call started in each of these hours on Sunday 2026-05-31
    assert {h for h, n in sunday.items() if n not in ("0", "日")} == {f"{h}:00" for h in (0, 10, 11, 12, 13, 14, 16, 20, 21, 22, 23)} | {"合計"}
    assert sunday["合計"] == "11" and hours[-1][-1] == "11" and hours[1][1:] == ["0"] * 25
    english = read_csv(webtest.get(f"/reports/center-hours.csv?{MAY31}&lang=en"))
    assert english[0][0] == "Weekday" and english[7][0] == "Sun" and english[-1][0] == "Total"
    for path in ("center-numbers", "center-hours"):
        assert "最終日が開始日より前です" in webtest.get(f"/reports/{path}.csv?from=2026-05-31&to=2026-05-01", status=400).text


def test_a_foreign_caller_id_is_kept_as_text_in_the_numbers_csv(webtest, login, center, supervisor, db):
    from datetime import datetime, timezone

    from ecti.calls.models import Call, CallStatus, Direction

    set_tenant_scope(db, center.tenant_id)
    at = datetime(2026, 5, 31, 3, 0, tzinfo=timezone.utc)
    db.add(Call(tenant_id=center.tenant_id, carrier_call_id="CA" + "f" * 32, direction=Direction.outbound, from_number="+14155550100",
                to_number="+819012345678", status=CallStatus.completed, started_at=at, ended_at=at))
    db.commit()
    login(webtest, supervisor)
    rows = read_csv(webtest.get(f"/reports/center-numbers.csv?{MAY31}"))
    assert ["'+1 415-555-0100", "0", "1", "0"] in rows  # a leading + would be a formula to Excel


def test_agents_and_other_companies_get_no_center_csv(webtest, login, center, make_tenant, make_user):
    login(webtest, center.users["a"])
    webtest.get(f"/reports/center-numbers.csv?{MAY31}", status=403)
    webtest.get(f"/reports/center-hours.csv?{MAY31}", status=403)
    webtest.post("/logout", {"csrf_token": webtest.get("/api/v1/me").json["csrf_token"]})
    other = make_tenant(slug="beta", name="ベータ")
    login(webtest, make_user(other, role="admin", email="boss@beta.example"))
    assert read_csv(webtest.get(f"/reports/center-numbers.csv?{MAY31}"))[1:] == []
    assert read_csv(webtest.get(f"/reports/center-hours.csv?{MAY31}"))[-1][-1] == "0"


def test_a_name_that_looks_like_a_formula_is_quoted_in_the_csv(webtest, login, center, supervisor, db):
    set_tenant_scope(db, center.tenant_id)
    center.support.name = "=HYPERLINK(\"http://evil\")"
    db.add(center.support)
    db.commit()
    login(webtest, supervisor)
    rows = read_csv(webtest.get(f"/reports/queues.csv?{MAY31}"))
    assert any(r[0] == "'=HYPERLINK(\"http://evil\")" for r in rows)
    assert not any(r[0].startswith("=") for r in rows)


@pytest.mark.parametrize("query, message", [
    ("from=2026-13-01&to=2026-05-31", "日付は YYYY-MM-DD"),
    ("from=2026-05-31&to=2026-05-01", "最終日が開始日より前です"),
    ("from=2026-05-31", "期間の開始日と最終日の両方"),
    ("from=2025-01-01&to=2026-05-31", "366 日"),
    ("bucket=hour", "日・週・月"),
    ("preset=someday", "一覧の期間"),
])
def test_a_bad_period_gets_a_specific_message_not_a_500(webtest, login, center, supervisor, query, message):
    login(webtest, supervisor)
    page = webtest.get(f"/reports/queues?{query}", status=400)
    assert message in page.html.select_one("#period-error").text
    csv_response = webtest.get(f"/reports/queues.csv?{query}", status=400)
    assert message in csv_response.text


def test_agents_cannot_see_reports_and_companies_see_only_their_own(webtest, login, center, make_tenant, make_user):
    agent = center.users["a"]
    login(webtest, agent)
    webtest.get(f"/reports/queues?{MAY31}", status=403)
    webtest.get(f"/reports/queues.csv?{MAY31}", status=403)
    webtest.post("/logout", {"csrf_token": webtest.get("/api/v1/me").json["csrf_token"]})
    other = make_tenant(slug="beta", name="ベータ")
    boss = make_user(other, role="admin", email="boss@beta.example")
    login(webtest, boss)
    page = webtest.get(f"/reports/queues?{MAY31}")
    assert "サポート" not in page.text
    rows = read_csv(webtest.get(f"/reports/agents.csv?{MAY31}"))
    assert rows[1:] == []
    assert webtest.get("/api/v1/reports/wallboard").json["queues"] == []


def test_the_help_page_defines_every_figure_in_both_languages(webtest, login, center, supervisor):
    login(webtest, supervisor)
    page = webtest.get("/reports/help")
    text = page.text
    for figure in ("サービスレベル (応答基準)", "Service level, offered-based", "稼働率", "Occupancy", "IVR 放棄", "Average handle time"):
        assert figure in text


def test_every_report_operation_answers_as_documented(api, login, center, supervisor):
    headers = {"X-CSRF-Token": login(api.testapp, supervisor)}
    queues = api.get(f"/api/v1/reports/queues?{MAY31}", headers=headers).json
    assert queues["period"] == {"first_day": "2026-05-31", "last_day": "2026-05-31", "bucket": "day", "time_zone": "Asia/Tokyo"}
    support = next(q for q in queues["queues"] if q["name"] == "サポート")
    assert (support["total"]["offered"], support["total"]["timed_out"], support["total"]["voicemails"]) == (7, 1, 1)
    agents = api.get(f"/api/v1/reports/agents?{MAY31}").json["agents"]
    assert {a["name"]: a["handled_inbound"] for a in agents} == {"佐藤": 2, "鈴木": 1}
    center_report = api.get("/api/v1/reports/center?from=2026-05-01&to=2026-06-30&bucket=month").json
    assert [(b["label"], b["inbound"]) for b in center_report["buckets"]] == [("2026-05", 10), ("2026-06", 1)]
    assert sum(center_report["calls_by_hour"]) == 12
    bad = api.get("/api/v1/reports/queues?from=2026-05-31&to=2026-05-01")
    assert bad.status_int == 400 and bad.json["error"]["code"] == "period_reversed"
    board = api.get("/api/v1/reports/wallboard").json
    sales = next(q for q in board["queues"] if q["name"] == "営業")
    assert sales["waiting"] == 1 and sales["longest_wait_seconds"] > 0  # E8 has waited since 2026-06-01


def test_the_wallboard_page_lists_queues_and_agents_and_polls_the_api(webtest, login, center, supervisor):
    login(webtest, supervisor)
    page = webtest.get("/reports/wallboard")
    tile = page.html.select_one('[data-queue="%d"]' % center.sales.id)
    assert tile.select_one('[data-key="waiting"]').text == "1"
    # Its own page: no console layout, a static script (no inline code) that polls the API.
    assert page.html.select_one("header.topbar") is None
    assert [s.get("src", "") for s in page.html.select("script:not([type])")] == ["http://localhost/static/wallboard.js"]
    assert all(not s.get("type") or s["type"] == "application/json" for s in page.html.select("script"))
    assert "/api/v1/reports/wallboard" in page.html.select_one("#wallboard-config").text
    assert not page.html.select("[style]") and not page.html.select("style")


@pytest.mark.parametrize("query, status, code, words", [
    ("bucket=hour", 400, "bad_bucket", "日・週・月"),
    ("from=2026-05-31&to=2026-05-01", 400, "period_reversed", "最終日が開始日より前です"),
    ("from=2026-13-01&to=2026-05-31", 400, "bad_date", "YYYY-MM-DD"),
    ("preset=someday", 400, "unknown_preset", "一覧の期間"),
    ("from=2026-05-31", 400, "incomplete_period", "開始日と最終日の両方"),
])
def test_the_report_api_checks_its_query_parameters_with_specific_messages(api, login, center, supervisor, query, status, code, words):
    login(api.testapp, supervisor)
    for report in ("queues", "agents", "center"):
        response = api.get(f"/api/v1/reports/{report}?{query}")
        assert response.status_int == status
        assert response.json["error"]["code"] == code and words in response.json["error"]["message"], response.json


def test_the_report_api_reads_presets_and_buckets_from_the_query(api, login, center, supervisor):
    login(api.testapp, supervisor)
    body = api.get("/api/v1/reports/center?preset=last_month&bucket=week").json
    assert body["period"]["bucket"] == "week" and body["period"]["first_day"].endswith("-01")
    padded = api.get("/api/v1/reports/queues?from=%202026-05-31%20&to=2026-05-31&bucket=").json  # blanks as on the page's form
    assert padded["period"] == {"first_day": "2026-05-31", "last_day": "2026-05-31", "bucket": "day", "time_zone": "Asia/Tokyo"}
