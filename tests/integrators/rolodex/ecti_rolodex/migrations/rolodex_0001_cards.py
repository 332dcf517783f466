"""rolodex: the card table

Revision ID: rolodex_0001
Revises:
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "rolodex_0001"
down_revision = None
branch_labels = ("rolodex",)
# The core's tables it refers to must exist first.
depends_on = "0021"


def upgrade():
    op.create_table(
        "rolodex_cards",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("e164", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
    )


def downgrade():
    op.drop_table("rolodex_cards")
