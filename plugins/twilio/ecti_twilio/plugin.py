"""The ``twilio`` plugin: registered through the ``ecti`` entry point like any third-party one."""
from __future__ import annotations

import click

from ecti import hookimpl

from . import models  # noqa: F401  (the plugin's tables belong to the metadata)
from .carrier import TwilioCarrier
from .tts import TwilioSay


@hookimpl
def ecti_carriers():
    return [TwilioCarrier()]


@hookimpl
def ecti_tts_providers():
    return [TwilioSay()]


@hookimpl
def ecti_config(config):
    config.include(".webhooks")
    config.include(".console")
    config.include(".testphone")


@hookimpl
def ecti_register_commands(cli):
    cli.add_command(twilio)


@click.group()
def twilio():
    """Twilio: provisioning and the local simulator."""


@twilio.command("sync")
@click.option("--tenant", "slug", required=True, help="The tenant's short name.")
@click.option("--public-url", help="The URL Twilio reaches ECTI at (default: ecti.public_url).")
@click.pass_obj
def sync(ctx, slug, public_url):
    """Configure the tenant's Twilio numbers, TwiML App and API key (safe to run again)."""
    from sqlalchemy import select
    from twilio.base.exceptions import TwilioException

    from ecti.tenancy.models import Tenant

    from .provisioning import sync_tenant

    url = public_url or ctx.settings.get("ecti.public_url")
    if not url:
        raise click.ClickException("set ecti.public_url (ECTI_PUBLIC_URL) or pass --public-url")
    with ctx.session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            raise click.ClickException(f"no tenant {slug}")
        if tenant.carrier != "twilio" or not tenant.carrier_account_id:
            raise click.ClickException(f"tenant {slug} has no Twilio credentials")
        try:
            report = sync_tenant(session, ctx, tenant, url)  # ctx has .settings and .secret_box
        except (TwilioException, OSError) as exc:
            raise click.ClickException(f"Twilio refused the sync: {exc}")
    if not report.changed:
        click.echo("nothing to change")
        return
    for number in report.numbers_added:
        click.echo(f"number added: {number}")
    for number in report.numbers_updated:
        click.echo(f"number updated: {number}")
    for number in report.webhooks_set:
        click.echo(f"webhooks set: {number}")
    if report.app_created or report.app_updated:
        click.echo("TwiML App " + ("created" if report.app_created else "updated"))
    if report.key_created:
        click.echo("API key created")

