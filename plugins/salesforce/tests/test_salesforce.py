"""The Salesforce plugin through HTTP: settings, the call center definition file, the CSP that
lets only the tenant's Salesforce frame the softphone, and the adapter's origin check."""
import xml.etree.ElementTree as ET

import pytest

from ecti_salesforce.callcenter import DomainError, normalise_domain, origin_allowed, parse_domains


def save_settings(webtest, domains="mycompany.my.salesforce.com\nmycompany.lightning.force.com\nmycompany--c.vf.force.com",
                  **fields):
    form = webtest.get("/salesforce").forms["salesforce-settings"]
    form["domains"] = domains
    for key, value in fields.items():
        form[key] = value
    return form.submit(expect_errors=True)


@pytest.fixture
def admin(make_tenant, make_user, webtest, login):
    tenant = make_tenant(slug="acme")
    user = make_user(tenant, role="admin")
    login(webtest, user)
    return user


def test_domains_are_normalised_and_only_salesforce_or_this_machine_is_accepted():
    assert normalise_domain(" MyCompany.my.salesforce.com/ ") == "https://mycompany.my.salesforce.com"
    assert normalise_domain("https://*.mycompany.my.salesforce.com") == "https://*.mycompany.my.salesforce.com"
    assert normalise_domain("*.acme--uat.sandbox.lightning.force.com") == "https://*.acme--uat.sandbox.lightning.force.com"
    assert normalise_domain("http://127.0.0.1:8123") == "http://127.0.0.1:8123"
    assert parse_domains("a.my.salesforce.com, a.my.salesforce.com\nb.lightning.force.com") == [
        "https://a.my.salesforce.com", "https://b.lightning.force.com"]
    for bad in ("evil.example.com", "http://a.my.salesforce.com", "*.force.com", "salesforce.com",
                # Shared by every org: any Salesforce customer (or anyone with a public Site) has a name there.
                "*.my.salesforce.com", "*.lightning.force.com", "*.visualforce.com", "*.cloudforce.com",
                "*.salesforce-sites.com", "*.my.site.com", "*.vf.force.com", "*.sandbox.my.salesforce.com",
                "my.salesforce.com", "lightning.force.com", "*.na1.visual.force.com",
                "a.my.salesforce.com/path", "a..force.com", "a.force.com:99999"):
        with pytest.raises(DomainError):
            normalise_domain(bad)


def test_origins_match_configured_domains_exactly_or_by_wildcard():
    sources = ["https://acme.lightning.force.com", "https://*.visualforce.com", "http://127.0.0.1:8123"]
    assert origin_allowed("https://acme.lightning.force.com", sources)
    assert origin_allowed("https://acme--c.vf.visualforce.com", sources)
    assert origin_allowed("http://127.0.0.1:8123", sources)
    assert not origin_allowed("https://other.lightning.force.com", sources)
    assert not origin_allowed("http://acme.lightning.force.com", sources)
    assert not origin_allowed("http://127.0.0.1:8124", sources)
    assert not origin_allowed("https://visualforce.com", sources)
    assert not origin_allowed("https://acme.lightning.force.com.evil.jp", sources)
    assert not origin_allowed("not a url", sources)


def test_the_settings_are_checked_and_saved(admin, webtest):
    page = save_settings(webtest, domains="evil.example.com", internal_name="1 bad", softphone_width="5000")
    assert page.status_int == 400
    errors = " ".join(e.text for e in page.html.select(".error"))
    assert "evil.example.com" in errors and "Salesforce" in errors
    assert "内部名" in errors or "英数字" in errors
    assert "200" in errors and "1000" in errors
    assert "evil.example.com" in page.html.select_one("textarea[name=domains]").text  # the input is kept

    done = save_settings(webtest, internal_name="AcmeCTI", display_name="アクメ電話", softphone_height="520", softphone_width="320")
    assert done.status_int == 303
    page = webtest.get("/salesforce")
    assert page.html.select_one("textarea[name=domains]").text.split() == [
        "https://mycompany.my.salesforce.com", "https://mycompany.lightning.force.com", "https://mycompany--c.vf.force.com"]
    assert "http://localhost/softphone?tenant=acme" in page.html.select_one(".adapter-url").text


def test_the_call_center_file_is_well_formed_xml_with_the_tenants_values(admin, webtest):
    save_settings(webtest, internal_name="AcmeCTI", display_name="アクメ <電話> & 窓口", softphone_height="520", softphone_width="320")
    response = webtest.get("/salesforce/callcenter.xml")
    assert response.content_type == "application/xml"
    assert 'filename="ecti-callcenter-acme.xml"' in response.headers["Content-Disposition"]
    root = ET.fromstring(response.body)
    assert root.tag == "callCenter"
    [section] = root.findall("section")
    assert section.get("name") == "reqGeneralInfo" and section.get("sortOrder") == "0"
    items = {item.get("name"): item.text for item in section.findall("item")}
    assert items["reqInternalName"] == "AcmeCTI"
    assert items["reqDisplayName"] == "アクメ <電話> & 窓口"  # escaped in the file, intact when read
    assert items["reqAdapterUrl"] == "http://localhost/softphone?tenant=acme"
    assert items["reqUseApi"] == "false"
    assert items["reqSoftphoneHeight"] == "520" and items["reqSoftphoneWidth"] == "320"
    assert items["reqSalesforceCompatibilityMode"] == "Classic_and_Lightning"
    assert items["reqStandbyUrl"] == "http://localhost/salesforce/standby?tenant=acme"
    orders = sorted(int(item.get("sortOrder")) for item in section.findall("item"))
    assert orders == list(range(len(orders)))  # Salesforce refuses gaps


def test_the_file_has_defaults_before_anything_is_saved(admin, webtest):
    items = {i.get("name"): i.text for i in ET.fromstring(webtest.get("/salesforce/callcenter.xml").body).iter("item")}
    assert items["reqInternalName"] == "ECTIAcme"
    assert items["reqSoftphoneWidth"] == "300" and items["reqSoftphoneHeight"] == "500"


def framing(response) -> str:
    """The ``frame-ancestors`` directive of a response's content security policy."""
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    return "frame-ancestors " + policy["frame-ancestors"]


def test_only_the_tenants_salesforce_may_frame_the_softphone(make_tenant, make_user, webtest, app, login):
    import webtest as wt

    acme = make_tenant(slug="acme")
    other = make_tenant(slug="other", name="他社")
    admin = make_user(acme, role="admin")
    login(webtest, admin)
    assert framing(webtest.get("/softphone")) == "frame-ancestors 'self'"
    save_settings(webtest, domains="acme.my.salesforce.com acme.lightning.force.com")
    expected = "frame-ancestors 'self' https://acme.my.salesforce.com https://acme.lightning.force.com"
    assert framing(webtest.get("/softphone")) == expected
    assert framing(webtest.get("/softphone/check")) == expected
    # The Open CTI script comes from the company's Salesforce; scripts of anyone else do not.
    policy = webtest.get("/softphone").headers["Content-Security-Policy"]
    assert "script-src 'self' https://acme.my.salesforce.com https://acme.lightning.force.com;" in policy
    assert "X-Frame-Options" not in webtest.get("/softphone").headers

    # Before sign-in, the URL names the tenant: the sign-in page in the frame is allowed too.
    anonymous = wt.TestApp(app)
    redirect = anonymous.get("/softphone?tenant=acme&mode=Lightning&sfdcIframeOrigin=https%3A%2F%2Facme.lightning.force.com")
    login_page = redirect.follow()
    assert framing(login_page) == expected
    assert framing(anonymous.get("/login?next=/softphone%3Ftenant%3Dother")) == "frame-ancestors 'self'"
    assert framing(anonymous.get("/salesforce/standby?tenant=acme")) == expected

    # A user of another company gets its own (none), whatever the URL says.
    other_app = wt.TestApp(app)
    login(other_app, make_user(other, role="agent"))
    assert framing(other_app.get("/softphone?tenant=acme")) == "frame-ancestors 'self'"


def test_the_adapter_loads_open_cti_only_from_a_configured_origin(make_tenant, make_user, api, login):
    tenant = make_tenant(slug="acme")
    login(api.testapp, make_user(tenant, role="admin"))
    refused = api.get("/api/v1/salesforce/adapter?origin=https://acme.lightning.force.com&mode=lightning")
    assert refused.json["allowed"] is False and refused.json["script_url"] is None
    save_settings(api.testapp, domains="acme.lightning.force.com acme.my.salesforce.com")
    lightning = api.get("/api/v1/salesforce/adapter?origin=https://acme.lightning.force.com&mode=lightning").json
    assert lightning["allowed"] is True
    assert lightning["script_url"] == "https://acme.lightning.force.com/support/api/62.0/lightning/opencti_min.js"
    assert lightning["strings"]["subject_inbound"] == "着信 ${number}"
    classic = api.get("/api/v1/salesforce/adapter?origin=https://acme.my.salesforce.com&mode=classic").json
    assert classic["script_url"] == "https://acme.my.salesforce.com/support/api/62.0/interaction.js"
    assert api.get("/api/v1/salesforce/adapter?origin=https://evil.lightning.force.com&mode=lightning").json["allowed"] is False


def test_the_setup_guide_has_ten_steps_with_the_tenants_urls_in_both_languages(admin, webtest):
    save_settings(webtest, display_name="アクメ電話")
    page = webtest.get("/salesforce/guide")
    steps = page.html.select("ol.guide-steps > li")
    assert len(steps) == 10
    assert "コールセンター" in steps[2].text
    assert "http://localhost/softphone?tenant=acme" in steps[0].text
    assert "アクメ電話" in steps[3].text
    assert steps[0].select_one("a")["href"].endswith("/salesforce/callcenter.xml")
    webtest.post("/lang/en", {"csrf_token": page.html.select_one("meta[name=csrf-token]")["content"]})
    english = webtest.get("/salesforce/guide")
    assert "Call Centers" in english.html.select("ol.guide-steps > li")[2].text


def test_agents_cannot_change_the_salesforce_settings(make_tenant, make_user, webtest, login):
    login(webtest, make_user(make_tenant(), role="agent"))
    assert webtest.get("/salesforce", expect_errors=True).status_int == 403
    assert webtest.get("/salesforce/callcenter.xml", expect_errors=True).status_int == 403


def test_hook_ecti_crm_connectors_salesforce_looks_up_nothing_on_the_server(app):
    # The caller is searched inside Salesforce by the browser (searchAndScreenPop).
    connector = app.registry.ecti.crm_connectors["salesforce"]
    assert connector.lookup(None, None, "+819011112222") is None


def test_a_wildcard_saved_before_the_rule_no_longer_lets_every_org_in(make_tenant, make_user, webtest, login, db):
    from ecti_salesforce.models import SalesforceSettings

    tenant = make_tenant(slug="acme")
    db.add(SalesforceSettings(tenant_id=tenant.id, domains=["https://acme.lightning.force.com", "https://*.visualforce.com"],
                              internal_name="ECTIAcme", display_name="ECTI", softphone_height=500, softphone_width=300))
    db.commit()
    login(webtest, make_user(tenant, role="agent"))
    assert framing(webtest.get("/softphone")) == "frame-ancestors 'self' https://acme.lightning.force.com"
    adapter = webtest.get("/api/v1/salesforce/adapter", params={"origin": "https://evil--c.vf.visualforce.com"}).json
    assert adapter["allowed"] is False
