"""Live monitoring (issue 24): supervisors' listen / coach / barge sessions, and the company
setting that hides listen-only monitoring from agents.

* ``acd_monitor_sessions``: one row per supervisor leg in a live call (mode now, start, end);
* ``tenants.monitor_listen_visible``: whether an agent sees that they are being listened to
  (coaching and barge-in are always shown).

Revision ID: 0023
Revises: 0022
"""
from alembic import op
import sqlalchemy as sa

import ecti.models.meta


revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "acd_monitor_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=False),
        sa.Column("agent_user_id", sa.Integer(), nullable=True),
        sa.Column("mode", sa.Enum("listen", "coach", "barge", name="monitormode", native_enum=False, length=16), nullable=False),
        sa.Column("leg_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", ecti.models.meta.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", ecti.models.meta.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_acd_monitor_sessions_call_id_calls"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["supervisor_id"], ["users.id"], name=op.f("fk_acd_monitor_sessions_supervisor_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["agent_user_id"], ["users.id"], name=op.f("fk_acd_monitor_sessions_agent_user_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_acd_monitor_sessions_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acd_monitor_sessions")),
    )
    op.create_index("ix_acd_monitor_sessions_call", "acd_monitor_sessions", ["call_id"], unique=False)
    op.create_index("ix_acd_monitor_sessions_agent_live", "acd_monitor_sessions", ["agent_user_id", "ended_at"], unique=False)
    op.create_index(op.f("ix_acd_monitor_sessions_supervisor_id"), "acd_monitor_sessions", ["supervisor_id"], unique=False)
    op.create_index(op.f("ix_acd_monitor_sessions_leg_id"), "acd_monitor_sessions", ["leg_id"], unique=False)
    op.create_index(op.f("ix_acd_monitor_sessions_tenant_id"), "acd_monitor_sessions", ["tenant_id"], unique=False)
    # in place (never batch on SQLite: tenants is referenced by every table)
    op.add_column("tenants", sa.Column("monitor_listen_visible", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade():
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("monitor_listen_visible")
    op.drop_table("acd_monitor_sessions")
