"""SMS: messages saved before the carrier answers, conversations, who is notified

* ``messages.carrier_message_id`` may be NULL: an outgoing message is stored (queued) before
  the carrier has given it an id, so a refusal or a crash never loses it.
* ``messages.remote_number`` (the other party) with an index for the conversation view;
  existing rows are filled from their direction.
* ``messages.error_message`` (the carrier's words) and ``messages.user_id`` (the sender).
* ``sms_notification_recipients``: the users told about incoming SMS.

Revision ID: 0007
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.alter_column("carrier_message_id", existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column("remote_number", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("error_message", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE messages SET remote_number = CASE WHEN direction = 'outbound' THEN to_number ELSE from_number END"
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.alter_column("remote_number", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_foreign_key(batch_op.f("fk_messages_user_id_users"), "users", ["user_id"], ["id"], ondelete="SET NULL")
        batch_op.create_index(batch_op.f("ix_messages_user_id"), ["user_id"], unique=False)
        batch_op.create_index("ix_messages_conversation", ["tenant_id", "remote_number", "id"], unique=False)

    op.create_table(
        "sms_notification_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sms_notification_recipients_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sms_notification_recipients_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_notification_recipients")),
        sa.UniqueConstraint("tenant_id", "user_id", name="uq_sms_notification_recipients_user"),
    )
    with op.batch_alter_table("sms_notification_recipients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_notification_recipients_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sms_notification_recipients_user_id"), ["user_id"], unique=False)


def downgrade():
    op.drop_table("sms_notification_recipients")
    op.execute("DELETE FROM messages WHERE carrier_message_id IS NULL")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_conversation")
        batch_op.drop_index(batch_op.f("ix_messages_user_id"))
        batch_op.drop_constraint(batch_op.f("fk_messages_user_id_users"), type_="foreignkey")
        batch_op.drop_column("user_id")
        batch_op.drop_column("error_message")
        batch_op.drop_column("remote_number")
        batch_op.alter_column("carrier_message_id", existing_type=sa.String(length=64), nullable=False)
