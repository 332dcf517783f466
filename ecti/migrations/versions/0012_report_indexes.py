"""Reports: indexes for the figures of a period (issue 9)

* ``acd_queue_entries (tenant_id, entered_at)`` and ``(tenant_id, connected_at)``: the queue
  report and the agents' hold time.
* ``acd_offers (tenant_id, offered_at)``: calls handled and missed offers per agent.
* ``acd_agent_status_changes (tenant_id, at)``: time in each status.

Revision ID: 0012
Revises: 0011
"""
from alembic import op


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_acd_queue_entries_tenant_entered", "acd_queue_entries", ["tenant_id", "entered_at"]),
    ("ix_acd_queue_entries_tenant_connected", "acd_queue_entries", ["tenant_id", "connected_at"]),
    ("ix_acd_offers_tenant_offered", "acd_offers", ["tenant_id", "offered_at"]),
    ("ix_acd_agent_status_changes_tenant_at", "acd_agent_status_changes", ["tenant_id", "at"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
