"""Plugins' per-company settings (issue 22)

* ``plugin_settings``: one row per company and declared settings name; the values the company's
  admins set (secrets encrypted), the schema's defaults fill in the rest when read.

Revision ID: 0024
Revises: 0023
"""
from alembic import op
import sqlalchemy as sa

from ecti.models.meta import UTCDateTime


revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "plugin_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_plugin_settings_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plugin_settings")),
        sa.UniqueConstraint("tenant_id", "name", name="uq_plugin_settings_tenant_name"),
    )
    with op.batch_alter_table("plugin_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plugin_settings_tenant_id"), ["tenant_id"], unique=False)


def downgrade():
    with op.batch_alter_table("plugin_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plugin_settings_tenant_id"))
    op.drop_table("plugin_settings")
