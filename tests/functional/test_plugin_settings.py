"""Per-company plugin settings (ecti_plugin_settings): declared by a plugin with a JSON Schema,
filled in by each company's admin on the console, read by the plugin, audited."""
import pytest
from sqlalchemy import select

from ecti import hookimpl
from ecti.audit.models import AuditEntry
from ecti.i18n import _
from ecti.interfaces import PluginSettings
from ecti.plugin_settings import settings_for
from ecti.plugin_settings.models import PluginSettingsRow

CHAT = PluginSettings(
    name="chatops",
    label=_("Chat notifications"),
    schema={"type": "object", "required": ["webhook_url"], "properties": {
        "webhook_url": {"type": "string", "format": "uri", "maxLength": 300},
        "channel": {"type": "string", "maxLength": 40, "default": "#support"},
        "minimum_wait": {"type": "integer", "minimum": 0, "maximum": 600, "default": 60},
        "mention": {"type": "boolean", "default": False},
        "style": {"enum": ["short", "full"], "default": "short"},
        "token": {"type": "string", "maxLength": 200},
    }},
    labels={"webhook_url": _("Webhook address"), "channel": _("Channel"), "minimum_wait": _("Waits longer than (s)"),
            "mention": _("Mention the team"), "style": _("Message"), "token": _("Token")},
    secrets=("token",),
)


class ChatPlugin:
    __name__ = "chatops_plugin"

    @hookimpl
    def ecti_plugin_settings(self):
        return [CHAT]


@pytest.fixture
def chat(make_app, make_tenant, make_user, login):
    app = make_app(ChatPlugin())
    acme, beta = make_tenant(), make_tenant(slug="beta", name="ベータ株式会社")
    admin = make_user(acme, role="admin", email="admin@acme.example")
    login(app, admin)
    return app, acme, beta


def form_of(page):
    return page.forms["plugin-settings"]


def test_hook_ecti_plugin_settings_a_company_admin_fills_them_in_and_the_plugin_reads_them(chat, db):
    app, acme, beta = chat
    link = app.get("/admin/plugins").html.select_one('a[href$="/admin/plugins/chatops/settings"]')
    assert link.get_text(strip=True) == "Chat notifications"  # (a plugin's own text: no Japanese in the core's catalog)
    page = app.get("/admin/plugins/chatops/settings")
    form = form_of(page)
    assert form["channel"].value == "#support" and form["minimum_wait"].value == "60"  # the schema's defaults
    form["webhook_url"] = "https://chat.example/hooks/abc"
    form["minimum_wait"] = "１２０"  # full-width digits, as typed with a Japanese IME
    form["mention"] = True
    form["style"] = "full"
    form["token"] = "s3cret-token"
    saved = form.submit()
    assert saved.status_int == 303
    registry = app.app.registry
    assert settings_for(db, registry, acme.id, "chatops") == {
        "webhook_url": "https://chat.example/hooks/abc", "channel": "#support", "minimum_wait": 120, "mention": True,
        "style": "full", "token": "s3cret-token"}
    # Another company has only the defaults; the secret is stored encrypted, never shown again.
    assert "webhook_url" not in settings_for(db, registry, beta.id, "chatops")
    row = db.scalar(select(PluginSettingsRow).where(PluginSettingsRow.tenant_id == acme.id))
    assert "s3cret-token" not in str(row.values)
    again = app.get("/admin/plugins/chatops/settings")
    assert "s3cret-token" not in again.text and form_of(again)["token"].value == ""
    # Saving again without typing the token keeps it.
    form = form_of(again)
    form["channel"] = "#sales"
    assert form.submit().status_int == 303
    assert settings_for(db, registry, acme.id, "chatops")["token"] == "s3cret-token"
    db.commit()  # (a new read: what the app committed since)
    entries = db.scalars(select(AuditEntry).where(AuditEntry.tenant_id == acme.id).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries][-2:] == ["chatops_settings.create", "chatops_settings.update"]
    assert "s3cret-token" not in str([e.details for e in entries])
    assert entries[-1].details["after"] == {"channel": "#sales"}


def test_bad_values_get_a_message_per_field_and_nothing_is_saved(chat, db):
    app, acme, _beta = chat
    form = form_of(app.get("/admin/plugins/chatops/settings"))
    form["webhook_url"] = "ftp://chat.example"
    form["minimum_wait"] = "ten"
    form["channel"] = "x" * 41
    refused = form.submit(status=422)
    errors = {div["data-field"]: div.get_text(" ", strip=True) for div in refused.html.select(".slds-has-error")}
    assert set(errors) == {"webhook_url", "minimum_wait", "channel"}
    assert "https://" in errors["webhook_url"] and "整数" in errors["minimum_wait"] and "40" in errors["channel"]
    assert refused.html.select_one("[role=alert]")
    assert form_of(refused)["minimum_wait"].value == "ten"  # what was typed stays to be corrected
    form = form_of(refused)
    form["webhook_url"], form["minimum_wait"], form["channel"] = "", "700", "#ok"
    errors = {div["data-field"] for div in form.submit(status=422).html.select(".slds-has-error")}
    assert errors == {"webhook_url", "minimum_wait"}  # required; above the maximum
    assert db.scalar(select(PluginSettingsRow)) is None


def test_only_admins_see_the_form_and_an_unknown_name_is_404(chat, make_user, make_app, login, db):
    app, acme, _beta = chat
    assert app.get("/admin/plugins/nothing/settings", status=404)
    other = make_app(ChatPlugin())
    login(other, make_user(acme, role="supervisor", email="boss@acme.example"))
    assert other.get("/admin/plugins/chatops/settings", expect_errors=True).status_int in (302, 403)


def test_a_declaration_the_console_could_not_show_stops_start_up(make_app):
    class Broken:
        __name__ = "broken_plugin"

        @hookimpl
        def ecti_plugin_settings(self):
            return [PluginSettings(name="broken", label="Broken", schema={"type": "object", "properties": {"a": {"type": "array"}}},
                                   labels={"a": "A"})]

    with pytest.raises(ValueError, match="broken: a must be"):
        make_app(Broken())
