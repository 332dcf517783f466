"""Queued callbacks (issue 24, part 2)

* ``acd_queues``: whether callers may ask to be called back, the key they press, the delay
  before a retry, the number of attempts and the calling hours (an IVR schedule);
* ``acd_queue_entries``: the entry's callback (the number, when requested, attempts made, when
  the next attempt may start, the callback leg's call);
* ``calls.parent_call_id``: a callback leg points at the call that asked for it (one contact).

Columns are added in place (no batch copy of ``calls`` or ``acd_queues`` on SQLite), without
foreign keys for the same reason.

Revision ID: 0025
Revises: 0024
"""
from alembic import op
import sqlalchemy as sa

from ecti.models.meta import UTCDateTime


revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("acd_queues", sa.Column("callback_enabled", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("acd_queues", sa.Column("callback_key", sa.String(length=1), nullable=False, server_default="9"))
    op.add_column("acd_queues", sa.Column("callback_retry_seconds", sa.Integer(), nullable=False, server_default="600"))
    op.add_column("acd_queues", sa.Column("callback_attempts", sa.Integer(), nullable=False, server_default="3"))
    op.add_column("acd_queues", sa.Column("callback_schedule_id", sa.Integer(), nullable=True))
    op.add_column("acd_queue_entries", sa.Column("callback_number", sa.String(length=32), nullable=True))
    op.add_column("acd_queue_entries", sa.Column("callback_requested_at", UTCDateTime(), nullable=True))
    op.add_column("acd_queue_entries", sa.Column("callback_attempts", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("acd_queue_entries", sa.Column("callback_due_at", UTCDateTime(), nullable=True))
    op.add_column("acd_queue_entries", sa.Column("callback_call_id", sa.Integer(), nullable=True))
    op.add_column("calls", sa.Column("parent_call_id", sa.Integer(), nullable=True))
    op.create_index("ix_calls_parent_call_id", "calls", ["parent_call_id"])


def downgrade():
    # In place as well (SQLite 3.35+ drops columns itself): no batch copy of calls or acd_queues.
    op.drop_index("ix_calls_parent_call_id", table_name="calls")
    op.drop_column("calls", "parent_call_id")
    for name in ("callback_call_id", "callback_due_at", "callback_attempts", "callback_requested_at", "callback_number"):
        op.drop_column("acd_queue_entries", name)
    for name in ("callback_schedule_id", "callback_attempts", "callback_retry_seconds", "callback_key", "callback_enabled"):
        op.drop_column("acd_queues", name)
