"""``ecti apikey create|list|revoke``: API keys from the command line (audited as "CLI")."""
from __future__ import annotations

from datetime import timedelta

import click


@click.group("apikey")
def apikey():
    """API keys (server-to-server use of the API, docs/api.md)."""


@apikey.command("create")
@click.option("--user", "email", required=True, help="The administrator (or operator) the key acts as.")
@click.option("--name", required=True, help="What the key is for (e.g. 'BI tool').")
@click.option("--scope", "scopes", multiple=True, required=True, help="A scope such as reports:read (repeat for more).")
@click.option("--expires-days", type=int, default=0, show_default=True, help="Days until the key expires (0: never).")
@click.pass_obj
def apikey_create(ctx, email, name, scopes, expires_days):
    """Create a key; its secret is printed once, on standard output."""
    from ..cli import fail_on_user_error
    from ..errors import UserError
    from ..models.meta import utcnow
    from ..tenancy.models import find_user_by_email
    from .services import create_key

    if expires_days < 0:
        raise click.ClickException("--expires-days must be 0 or more")
    try:
        with ctx.session() as session:
            user = find_user_by_email(session, email)
            if user is None:
                raise click.ClickException(f"no user {email}")
            key, secret = create_key(session, user=user, name=name, scopes=list(scopes),
                                     expires_at=utcnow() + timedelta(days=expires_days) if expires_days else None)
            click.echo(f"api key {key.prefix}… created (id {key.id}); copy it now, it is not shown again:", err=True)
            click.echo(secret)
    except UserError as err:
        fail_on_user_error(ctx, err)


@apikey.command("list")
@click.option("--tenant", "tenant_slug", help="The company's short name (omit for the operator's keys).")
@click.pass_obj
def apikey_list(ctx, tenant_slug):
    """List keys (their prefixes only; secrets cannot be read back)."""
    from ..models.meta import utcnow
    from .services import list_keys

    with ctx.session() as session:
        tenant_id = _tenant_id(session, tenant_slug)
        now = utcnow()
        for key in list_keys(session, tenant_id):
            used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "-"
            expires = key.expires_at.isoformat(timespec="seconds") if key.expires_at else "-"
            click.echo(f"{key.id}\t{key.prefix}…\t{key.status(now)}\t{key.name}\t{','.join(key.scopes)}\texpires {expires}\tused {used}")


@apikey.command("revoke")
@click.option("--tenant", "tenant_slug", help="The company's short name (omit for the operator's keys).")
@click.argument("key_id", type=int)
@click.pass_obj
def apikey_revoke(ctx, tenant_slug, key_id):
    """Revoke a key: it stops working at once."""
    from .services import get_key, revoke

    with ctx.session() as session:
        key = get_key(session, _tenant_id(session, tenant_slug), key_id)
        if key is None:
            raise click.ClickException(f"no api key {key_id}")
        revoke(key)
        click.echo(f"api key {key.prefix}… revoked")


def _tenant_id(session, slug):
    from sqlalchemy import select

    from ..tenancy.models import Tenant

    if not slug:
        return None
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise click.ClickException(f"no tenant {slug}")
    return tenant.id
