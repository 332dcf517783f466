"""Presence from the connection (issue 18): the agent's phone heartbeat and disconnection

``acd_agents`` gets when the phone was last seen (and by which page load), and, while the
system has set the agent *disconnected*, since when, why and the presence to restore. The new
presence value ``disconnected`` needs no schema change (the enum is stored as a string).

Revision ID: 0016
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

from ecti.models.meta import UTCDateTime

revision = "0016"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = (
    ("phone_seen_at", UTCDateTime(timezone=True)),
    ("phone_page", sa.String(40)),
    ("disconnected_at", UTCDateTime(timezone=True)),
    ("disconnect_reason", sa.String(32)),
    ("presence_before", sa.String(16)),
)


def upgrade():
    with op.batch_alter_table("acd_agents") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade():
    # Agents the system set disconnected go back to what they had chosen.
    op.execute("UPDATE acd_agents SET presence = COALESCE(presence_before, 'offline') WHERE presence = 'disconnected'")
    op.execute("UPDATE acd_agents SET status = presence WHERE status = 'disconnected'")
    with op.batch_alter_table("acd_agents") as batch:
        for name, _type in reversed(COLUMNS):
            batch.drop_column(name)
