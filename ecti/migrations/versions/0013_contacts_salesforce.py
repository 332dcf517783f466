"""Contact directory and Salesforce settings

* ``contacts`` and ``contact_numbers`` (E.164, one contact per number in a tenant): the
  built-in directory that names callers on the softphone.
* ``salesforce_settings`` (plugin ecti-salesforce): the tenant's Salesforce domains allowed
  to frame the softphone, and the call center definition's names and panel size.

Revision ID: 0013
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

from ecti.models.meta import UTCDateTime


revision = "0013"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_contacts_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "contact_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_contact_numbers_contact_id_contacts"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_contact_numbers_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_numbers")),
        sa.UniqueConstraint("tenant_id", "e164", name="uq_contact_numbers_tenant_e164"),
    )
    with op.batch_alter_table("contact_numbers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_numbers_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contact_numbers_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "salesforce_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("internal_name", sa.String(length=40), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("softphone_height", sa.Integer(), nullable=False),
        sa.Column("softphone_width", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_salesforce_settings_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_salesforce_settings")),
        sa.UniqueConstraint("tenant_id", name="uq_salesforce_settings_tenant_id"),
    )
    with op.batch_alter_table("salesforce_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_salesforce_settings_tenant_id"), ["tenant_id"], unique=False)


def downgrade():
    op.drop_table("salesforce_settings")
    op.drop_table("contact_numbers")
    op.drop_table("contacts")
