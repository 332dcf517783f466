"""The one assembly point of the application (see CONVENTIONS.md).

:func:`configure` reads environment overrides into the settings, includes each subsystem in
order, lets every plugin extend the configuration (``ecti_config``), scans once and returns
the :class:`~pyramid.config.Configurator`.
"""
from __future__ import annotations

import importlib.metadata
import os
import re
import sys
import types

from pyramid.config import Configurator
from pyramid.path import package_of
from pyramid.settings import aslist

from .crypto import SecretBox
from .keys import WeakKey, check_keys
from .plugins import Registries, get_plugin_manager

#: Settings that may come from the environment (production.ini holds no secrets).
ENVIRONMENT = {
    "ECTI_DATABASE_URL": "sqlalchemy.url",
    "ECTI_SECRET_KEY": "ecti.secret_key",
    "ECTI_ENCRYPTION_KEYS": "ecti.encryption_keys",
    "ECTI_PUBLIC_URL": "ecti.public_url",
    "ECTI_DISABLED_PLUGINS": "ecti.disabled_plugins",
    "ECTI_MEDIA_DIR": "ecti.media_dir",
    "ECTI_TWILIO_API_BASE_URL": "ecti.twilio.api_base_url",
    "ECTI_SMTP_HOST": "ecti.mail.host",
    "ECTI_SMTP_PORT": "ecti.mail.port",
    "ECTI_SMTP_USERNAME": "ecti.mail.username",
    "ECTI_SMTP_PASSWORD": "ecti.mail.password",
    "ECTI_ENVIRONMENT": "ecti.environment",
    "ECTI_TRUSTED_PROXIES": "ecti.trusted_proxies",
}

#: Subsystems, in the order they are included.
SUBSYSTEMS = (
    ".guards",
    ".db",
    ".headers",
    ".push",
    ".tenancy",
    ".api",
    ".console",
    ".telephony",
    ".voice",
    ".prompts",
    ".calls",
    ".messaging",
    ".audit",
    ".billing",
    ".operator",
    ".tenant_config",
    ".ivr",
    ".jobs",
    ".acd",
    ".softphone",
    ".dialer",
    ".contacts",
    ".recordings",
    ".notifications",
    ".voicemail",
    ".dispositions",
    ".plugin_settings",
    ".reports",
    ".apikeys",
    ".webhooks",
)


class ConfigurationError(RuntimeError):
    """The settings are incomplete; the message says which one and how to set it."""


def settings_from_environment(settings: dict, environ=os.environ) -> dict:
    settings = dict(settings)
    for var, key in ENVIRONMENT.items():
        if environ.get(var):
            settings[key] = environ[var]
    for key in ("sqlalchemy.url", "ecti.secret_key", "ecti.encryption_keys"):
        if not settings.get(key) or re.fullmatch(r"\$\{?\w+\}?", settings[key]):
            var = next(v for v, k in ENVIRONMENT.items() if k == key)
            raise ConfigurationError(f"setting {key} is missing: set the environment variable {var}")
    try:
        check_keys(settings)
    except WeakKey as exc:
        raise ConfigurationError(str(exc)) from None
    settings.setdefault("ecti.version", importlib.metadata.version("ecti"))
    settings.setdefault("pyramid.default_locale_name", "ja")
    settings.setdefault("jinja2.extensions", "jinja2.ext.i18n")
    settings.setdefault("jinja2.i18n.domain", "ecti")
    settings.setdefault("jinja2.filters", "t = ecti.web:translate\nlocal_time = ecti.web:local_time\nphone = ecti.telephony.numbering:display_number")
    settings.setdefault("jinja2.undefined", "strict")
    settings.setdefault("retry.attempts", 3)
    return settings


def configure(settings: dict, *, plugin_manager=None, engine=None) -> Configurator:
    """Assemble the application. ``plugin_manager`` and ``engine`` default to the ones the
    settings describe; passing them shares one engine between apps (tests, benchmarks)."""
    settings = settings_from_environment(settings)
    config = Configurator(settings=settings, root_factory=None)
    if engine is not None:
        config.registry["ecti.engine"] = engine
    config.registry.secret_box = SecretBox(settings["ecti.encryption_keys"])
    pm = plugin_manager or get_plugin_manager(disabled=aslist(settings.get("ecti.disabled_plugins", "")))
    config.registry.plugins = pm
    config.registry.ecti = Registries.collect(pm)

    config.include("pyramid_jinja2")
    config.add_jinja2_renderer(".jinja2")
    config.add_translation_dirs("ecti:locale/")
    from .web import locale_negotiator

    config.set_locale_negotiator(locale_negotiator)
    for subsystem in SUBSYSTEMS:
        config.include(subsystem, route_prefix=None)
    config.scan("ecti", categories=("pyramid", "ecti"), ignore=["ecti.testing", "ecti.cli", "ecti.push.server"])
    config.commit()
    # Plugins come after the core, so a plugin may override a core view or route. Each gets a
    # Configurator positioned on its own package, so its relative names resolve there.
    for hook_impl in pm.hook.ecti_config.get_hookimpls():
        plugin_config = config.with_package(package_of(_module_of(hook_impl.plugin)))
        hook_impl.function(config=plugin_config)
        plugin_config.commit()
    return config


def _module_of(plugin) -> types.ModuleType:
    if isinstance(plugin, types.ModuleType):
        return plugin
    return sys.modules[type(plugin).__module__]
