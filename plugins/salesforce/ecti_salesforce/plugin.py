"""The ``salesforce`` plugin: Salesforce Open CTI (Classic and Lightning) for the softphone.

Salesforce needs no API calls from ECTI: the browser adapter (static/adapter.js) searches the
caller in Salesforce with ``searchAndScreenPop`` and logs each call with ``saveLog``. So the
CRM connector's server-side ``lookup`` finds nothing (the name the softphone shows comes from
the built-in contact directory, or from the record Salesforce opens beside it).
"""
from __future__ import annotations

from ecti import hookimpl
from ecti.i18n import _

from . import models  # noqa: F401  (the plugin's table belongs to the metadata)


class SalesforceConnector:
    name = "salesforce"
    label = _("Salesforce (Open CTI)")

    def lookup(self, request, tenant, number):
        return None  # looked up in the browser, inside Salesforce (searchAndScreenPop)


@hookimpl
def ecti_crm_connectors():
    return [SalesforceConnector()]


@hookimpl
def ecti_config(config):
    from ecti.api import API_PREFIX

    from .views import salesforce_frame_ancestors

    config.add_route("salesforce.settings", "/salesforce")
    config.add_route("salesforce.callcenter", "/salesforce/callcenter.xml")
    config.add_route("salesforce.guide", "/salesforce/guide")
    config.add_route("salesforce.standby", "/salesforce/standby")
    config.add_route("api.salesforce.adapter", f"{API_PREFIX}/salesforce/adapter")
    config.add_static_view("salesforce-static", "ecti_salesforce:static", cache_max_age=3600)
    config.add_softphone_script("ecti_salesforce:static/adapter.js")
    config.add_softphone_frame_ancestors(salesforce_frame_ancestors)
    config.add_console_nav("salesforce.settings", _("Salesforce"), group="admin", permission="manage", order=810)
    config.scan(".views", categories=("pyramid", "ecti"))
