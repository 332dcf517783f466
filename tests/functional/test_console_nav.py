"""The console's navigation: grouped by task, shown by role, extensible by plugins."""
import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError


def nav_of(page):
    """{group heading: [item labels]} of the main menu, in order."""
    nav = page.html.select_one("nav#ecti-nav")
    if nav is None:
        return {}
    return {section.select_one("h2").get_text(strip=True): [a.get_text(strip=True) for a in section.select("a")]
            for section in nav.select(".slds-nav-vertical__section")}


@pytest.fixture
def tenant(make_tenant):
    return make_tenant()


def test_an_agent_sees_only_the_calls_group_and_lands_on_the_phone(webtest, login, tenant, make_user):
    login(webtest, make_user(tenant, role="agent"))
    landing = webtest.get("/", status=302)
    assert landing.location.endswith("/phone")
    page = webtest.get("/phone")
    assert nav_of(page) == {"通話": ["ソフトフォン", "会話一覧", "留守番電話の受信箱", "SMS"]}
    current = page.html.select('nav#ecti-nav [aria-current="page"]')
    assert [a.get_text(strip=True) for a in current] == ["ソフトフォン"]
    assert page.html.select_one("iframe.ecti-phone-frame")["src"].endswith("/softphone")


def test_a_supervisor_adds_analytics_and_lands_on_the_wallboard(webtest, login, tenant, make_user):
    login(webtest, make_user(tenant, role="supervisor"))
    assert webtest.get("/", status=302).location.endswith("/reports/wallboard")
    groups = nav_of(webtest.get("/calls"))
    assert list(groups) == ["通話", "分析", "設定"]
    assert groups["分析"] == ["レポート", "ウォールボード"]
    assert groups["設定"] == ["発信リスト", "連絡先"]  # the settings pages supervisors use


def test_an_admin_sees_every_group_and_the_current_page_on_a_record_page(webtest, login, tenant, make_user, db):
    from ecti.acd.models import Queue

    queue = Queue(tenant_id=tenant.id, name="サポート")
    db.add(queue)
    db.commit()
    login(webtest, make_user(tenant, role="admin"))
    home = webtest.get("/", status=200)
    groups = nav_of(home)
    assert list(groups) == ["通話", "分析", "設定", "管理"]
    assert groups["管理"][:2] == ["ユーザー", "操作履歴"]
    assert "プラグイン" in groups["管理"]
    page = webtest.get(f"/admin/queues/{queue.id}")
    assert [a.get_text(strip=True) for a in page.html.select('nav#ecti-nav [aria-current="page"]')] == ["キュー"]


def test_the_operator_sees_the_operators_group(webtest, login, make_user):
    login(webtest, make_user(None, role="operator"))
    assert webtest.get("/", status=302).location.endswith("/operator/tenants")
    assert nav_of(webtest.get("/operator/tenants")) == {"運用": ["企業", "請求", "API キー", "操作履歴", "プラグイン"]}


def test_every_page_links_the_favicon_and_it_is_served(webtest):
    page = webtest.get("/login")
    assert page.html.select_one('link[rel="icon"][type="image/svg+xml"]') is not None
    icon = webtest.get("/favicon.ico")
    assert icon.content_type == "image/x-icon" and icon.body[:4] == b"\x00\x00\x01\x00"


def test_a_plugin_adds_a_group_and_an_item_and_an_unknown_group_fails_at_start():
    from ecti.console import add_console_nav, add_console_nav_group

    config = Configurator()
    config.add_directive("add_console_nav", add_console_nav)
    config.add_directive("add_console_nav_group", add_console_nav_group)
    config.add_console_nav_group("crm", "CRM", order=45)
    config.add_console_nav("crm.settings", "CRM settings", group="crm", permission="manage")
    assert config.registry["ecti.console_nav"][-1].group == "crm"
    with pytest.raises(ConfigurationError, match="unknown group 'reporting'"):
        config.add_console_nav("x", "X", group="reporting")
