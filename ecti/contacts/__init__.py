"""The built-in contact directory (for companies without a CRM): contacts with their numbers,
console CRUD and CSV import, a JSON API, and a CRM connector (``directory``, registered by
:mod:`ecti.builtin_plugins`) that names callers on the softphone.

It is core rather than a plugin because every company without Salesforce needs it from the
start and it only uses the core's tables and pages; it plugs in through the same
``ecti_crm_connectors`` hook as any CRM.
"""
from __future__ import annotations

from ..i18n import _


def includeme(config):
    from ..api import API_PREFIX

    config.add_route("contacts", "/contacts")
    config.add_route("contacts.import", "/contacts/import")
    config.add_route("contacts.edit", "/contacts/{id:\\d+}")
    config.add_route("api.contacts", f"{API_PREFIX}/contacts")
    config.add_route("api.contact", f"{API_PREFIX}/contacts/{{id:\\d+}}")
    config.add_console_nav("contacts", _("Contacts"), group="settings", permission="supervise", order=70)
