"""ACD queues are archived instead of deleted

* ``acd_queues.archived_at``: when the queue was deleted in the console or API; its past
  entries (reports, call history) keep pointing at it.
* The queue name is unique only among queues not archived (a partial unique index replaces
  ``uq_acd_queues_tenant_name``), so a new queue can take an archived queue's name.

Revision ID: 0015
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

import ecti.models.meta


revision = "0015"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("acd_queues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archived_at", ecti.models.meta.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_constraint("uq_acd_queues_tenant_name", type_="unique")
    with op.batch_alter_table("acd_queues", schema=None) as batch_op:
        batch_op.create_index(
            "uq_acd_queues_tenant_name_live", ["tenant_id", "name"], unique=True,
            sqlite_where=sa.text("archived_at IS NULL"), postgresql_where=sa.text("archived_at IS NULL"),
        )


def downgrade():
    # Archived queues go (with their entries) so that names are unique again.
    op.execute("DELETE FROM acd_queues WHERE archived_at IS NOT NULL")
    with op.batch_alter_table("acd_queues", schema=None) as batch_op:
        batch_op.drop_index("uq_acd_queues_tenant_name_live")
    with op.batch_alter_table("acd_queues", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_acd_queues_tenant_name", ["tenant_id", "name"])
        batch_op.drop_column("archived_at")
