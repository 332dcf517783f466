"""Per-company settings that plugins declare (``ecti_plugin_settings``): stored by the core,
filled in by each company's admins on the console, validated with the plugin's JSON Schema,
secrets encrypted, every change in the audit log (docs/plugins.md)."""
from .services import SettingsInvalid, save_settings, settings_for  # noqa: F401


def includeme(config):
    config.include(".views")
