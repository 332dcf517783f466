"""Wrap-up: disposition codes and the call's disposition and note (issue 18)

* ``disposition_codes``: each company's list of call results (code, label, order, active).
* ``calls.disposition`` / ``disposition_label`` / ``wrap_up_note`` / ``wrapped_up_by`` /
  ``wrapped_up_at``: what the agent chose at wrap-up, kept as it was when chosen.

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa

from ecti.models.meta import UTCDateTime


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "disposition_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_disposition_codes_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disposition_codes")),
        sa.UniqueConstraint("tenant_id", "code", name="uq_disposition_codes_tenant_code"),
    )
    with op.batch_alter_table("disposition_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disposition_codes_tenant_id"), ["tenant_id"], unique=False)

    # Plain ADD COLUMN, never a batch copy of ``calls``: on SQLite the copy drops the old table, and
    # dropping a table deletes its rows first, which cascades to every call's events, agents,
    # recordings and queue entries (so no new foreign key on ``calls`` either).
    op.add_column("calls", sa.Column("disposition", sa.String(length=40), nullable=True))
    op.add_column("calls", sa.Column("disposition_label", sa.String(length=100), nullable=True))
    op.add_column("calls", sa.Column("wrap_up_note", sa.Text(), nullable=True))
    op.add_column("calls", sa.Column("wrapped_up_by", sa.Integer(), nullable=True))
    op.add_column("calls", sa.Column("wrapped_up_at", UTCDateTime(timezone=True), nullable=True))
    op.create_index("ix_calls_list_disposition", "calls", ["tenant_id", "disposition", "started_at", "id"], unique=False)


def downgrade():
    op.drop_index("ix_calls_list_disposition", table_name="calls")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("wrapped_up_at")
        batch_op.drop_column("wrapped_up_by")
        batch_op.drop_column("wrap_up_note")
        batch_op.drop_column("disposition_label")
        batch_op.drop_column("disposition")
    with op.batch_alter_table("disposition_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disposition_codes_tenant_id"))
    op.drop_table("disposition_codes")
