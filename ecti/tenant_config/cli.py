"""``ecti tenant export``, ``ecti tenant import`` and ``ecti tenant schema``."""
from __future__ import annotations

import json

import click
from pyramid.i18n import make_localizer
from sqlalchemy import select

from ..i18n import locale_dirs
from ..ivr.validation import translate
from ..tenancy.models import Tenant
from . import ConfigRefused, document_schema, dumps, export_document, import_document


class _DryRun(Exception):
    """Raised inside the session block so that a dry run rolls back."""


def _registry(ctx):
    """The assembled application's registry: sections, node types and reference kinds."""
    from ..config import configure

    return configure(dict(ctx.settings), plugin_manager=ctx.plugins, engine=ctx.engine).registry


def _tenant(session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise click.ClickException(f"no tenant {slug}")
    return tenant


@click.command("export")
@click.option("--tenant", "slug", required=True, help="The tenant's short name.")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", show_default=True, help="Where to write the JSON document.")
@click.pass_obj
def export_command(ctx, slug, output):
    """Write the tenant's configuration (numbers, flows, schedules, holidays, users…) as JSON."""
    registry = _registry(ctx)
    with ctx.session() as session:
        output.write(dumps(export_document(session, registry, _tenant(session, slug))))


@click.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--tenant", "slug", help="Apply to this tenant instead of the one the file names.")
@click.option("--dry-run", is_flag=True, help="Check the file and report errors; change nothing.")
@click.pass_obj
def import_command(ctx, file, slug, dry_run):
    """Apply a configuration file: all of it, or (on any error) none of it."""
    try:
        doc = json.loads(file.read().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file.name}: not a UTF-8 JSON file ({exc})")
    registry = _registry(ctx)
    localizer = make_localizer(ctx.settings.get("pyramid.default_locale_name", "ja"), locale_dirs())
    try:
        with ctx.session() as session:
            tenant = import_document(session, registry, doc, tenant=_tenant(session, slug) if slug else None)
            slug = tenant.slug
            if dry_run:
                raise _DryRun()
    except _DryRun:
        click.echo(f"{file.name}: no errors (dry run, nothing changed)")
        return
    except ConfigRefused as refused:
        for path, message in refused.errors:
            click.echo(f"{path}: {translate(localizer, message)}", err=True)
        raise click.ClickException(translate(localizer, refused.message))
    click.echo(f"tenant {slug} configured from {file.name}")


@click.command("schema")
@click.pass_obj
def schema_command(ctx):
    """Print the JSON Schema of configuration files (docs/tenant-config.schema.json)."""
    click.echo(json.dumps(document_schema(_registry(ctx)), ensure_ascii=False, indent=2))


def add_commands(cli: click.Group) -> None:
    tenant_group = cli.commands["tenant"]
    for command in (export_command, import_command, schema_command):
        tenant_group.add_command(command)
