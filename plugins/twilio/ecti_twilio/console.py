"""The tenant admin's Twilio page: what is provisioned, and a button that runs the sync."""
from __future__ import annotations

import logging

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select
from twilio.base.exceptions import TwilioException

from ecti.i18n import _
from ecti.telephony.models import PhoneNumber
from ecti.telephony.numbering import format_domestic
from ecti.web import flash

from .models import TwilioAccount
from .provisioning import sync_tenant
from .webhooks import public_base

log = logging.getLogger(__name__)


@view_config(route_name="twilio.account", renderer="ecti_twilio:templates/account.jinja2", permission="manage", request_method="GET")
def account_page(request):
    tenant = request.tenant
    account = request.db.scalar(select(TwilioAccount))
    numbers = request.db.scalars(select(PhoneNumber).order_by(PhoneNumber.e164)).all()
    sid = tenant.carrier_account_id or ""
    return {
        "account_sid": sid[:6] + "…" + sid[-4:] if sid else None,
        "account": account,
        "numbers": [(format_domestic(n.e164), n) for n in numbers],
        "public_url": public_base(request),
    }


@view_config(route_name="twilio.account", permission="manage", request_method="POST")
def sync_now(request):
    tenant = request.tenant
    if not tenant.carrier_account_id:
        flash(request, _("Set the company's Twilio credentials first (ask your operator)."), "error")
        return HTTPSeeOther(request.route_url("twilio.account"))
    try:
        with request.db.begin_nested():
            report = sync_tenant(request.db, request.registry, tenant, public_base(request))
    except (TwilioException, OSError) as exc:
        log.warning("twilio sync of %s failed: %s", tenant.slug, exc)
        flash(request, _("Twilio refused the sync: ${error}. Nothing was changed.", mapping={"error": str(exc)}), "error")
        return HTTPSeeOther(request.route_url("twilio.account"))
    if report.changed:
        flash(request, _("Synchronised: ${added} number(s) added, ${set} number(s) pointed at ECTI.",
                         mapping={"added": len(report.numbers_added), "set": len(report.webhooks_set)}))
    else:
        flash(request, _("Everything was already set up; nothing changed."))
    return HTTPSeeOther(request.route_url("twilio.account"))


def includeme(config):
    config.add_route("twilio.account", "/twilio/account")
    config.add_console_nav("twilio.account", _("Twilio"), group="admin", permission="manage", order=800)
    config.scan(".console")
