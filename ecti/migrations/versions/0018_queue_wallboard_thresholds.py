"""The wallboard's colour thresholds per queue

* ``acd_queues.wallboard_waiting_amber`` / ``_red``: calls waiting (amber from 3, red from 6);
* ``acd_queues.wallboard_wait_amber`` / ``_red``: seconds the oldest caller has waited (30 / 60);
* ``acd_queues.wallboard_service_level_amber`` / ``_red``: today's service level in percent
  (amber below 80, red below 60).

Existing queues get the defaults.

Revision ID: 0018
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa


revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

COLUMNS = (
    ("wallboard_waiting_amber", "3"), ("wallboard_waiting_red", "6"),
    ("wallboard_wait_amber", "30"), ("wallboard_wait_red", "60"),
    ("wallboard_service_level_amber", "80"), ("wallboard_service_level_red", "60"),
)


def upgrade():
    with op.batch_alter_table("acd_queues", schema=None) as batch_op:
        for name, default in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default=default))


def downgrade():
    with op.batch_alter_table("acd_queues", schema=None) as batch_op:
        for name, _default in COLUMNS:
            batch_op.drop_column(name)
