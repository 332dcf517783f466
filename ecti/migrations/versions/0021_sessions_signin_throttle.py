"""Server-side sessions and sign-in throttling (issue 20)

* ``user_sessions``: one row per signed-in browser (the SHA-256 of the cookie's token), so that
  signing out ends the session for good, and "sign out everywhere" / an administrator can end
  all of a user's sessions.
* ``signin_throttles``: failed sign-ins per client address and per login name, shared by every
  app process.

Revision ID: 0021
Revises: 0018
"""
from alembic import op
import sqlalchemy as sa

import ecti.models.meta


revision = "0021"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", ecti.models.meta.UTCDateTime(timezone=True), nullable=False),
        sa.Column("client_address", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"], unique=False)
    op.create_table(
        "signin_throttles",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", ecti.models.meta.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", ecti.models.meta.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_signin_throttles")),
    )
    op.create_index(op.f("ix_signin_throttles_updated_at"), "signin_throttles", ["updated_at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_signin_throttles_updated_at"), table_name="signin_throttles")
    op.drop_table("signin_throttles")
    op.drop_index(op.f("ix_user_sessions_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
