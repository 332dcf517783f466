"""Recording settings and retention, voicemail boxes and inbox, the notification outbox

* ``recording_settings`` (one per tenant) and ``queue_recording_overrides``;
* ``recordings.deleted_at``: deleted at the carrier (by hand or by retention);
* ``voicemail_boxes``: greeting, maximum length, owner queue / agent, recipients, attachment;
* ``voicemail_messages``: the stored recording, heard, deleted;
* ``notification_deliveries``: one row per channel and recipient, sent after commit.

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa
import ecti.models.meta


revision = '0011'
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_notification_deliveries_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_deliveries'))
    )
    with op.batch_alter_table('notification_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_notification_deliveries_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_deliveries_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('recording_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_queue_calls', sa.Boolean(), nullable=False),
    sa.Column('record_outbound', sa.Boolean(), nullable=False),
    sa.Column('retention_days', sa.Integer(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_recording_settings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recording_settings')),
    sa.UniqueConstraint('tenant_id', name='uq_recording_settings_tenant_id')
    )
    with op.batch_alter_table('recording_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recording_settings_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('queue_recording_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('queue_id', sa.Integer(), nullable=False),
    sa.Column('record', sa.Boolean(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['queue_id'], ['acd_queues.id'], name=op.f('fk_queue_recording_overrides_queue_id_acd_queues'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_queue_recording_overrides_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_recording_overrides')),
    sa.UniqueConstraint('tenant_id', 'queue_id', name='uq_queue_recording_overrides_queue')
    )
    with op.batch_alter_table('queue_recording_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_recording_overrides_queue_id'), ['queue_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_queue_recording_overrides_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('voicemail_boxes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('greeting', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('max_length', sa.Integer(), nullable=False, server_default='120'))
        batch_op.add_column(sa.Column('queue_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recipient_user_ids', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('recipient_emails', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('attach_audio', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_voicemail_boxes_queue_id'), ['queue_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voicemail_boxes_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_voicemail_boxes_queue_id_acd_queues'), 'acd_queues', ['queue_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_voicemail_boxes_user_id_users'), 'users', ['user_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('voicemail_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recording_ref_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('heard_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deleted_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_voicemail_messages_recording_ref_id'), ['recording_ref_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_voicemail_messages_recording_ref_id_recordings'), 'recordings', ['recording_ref_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('voicemail_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_voicemail_messages_recording_ref_id_recordings'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_voicemail_messages_recording_ref_id'))
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('heard_at')
        batch_op.drop_column('recording_ref_id')

    with op.batch_alter_table('voicemail_boxes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_voicemail_boxes_user_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_voicemail_boxes_queue_id_acd_queues'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_voicemail_boxes_user_id'))
        batch_op.drop_index(batch_op.f('ix_voicemail_boxes_queue_id'))
        batch_op.drop_column('attach_audio')
        batch_op.drop_column('recipient_emails')
        batch_op.drop_column('recipient_user_ids')
        batch_op.drop_column('user_id')
        batch_op.drop_column('queue_id')
        batch_op.drop_column('max_length')
        batch_op.drop_column('greeting')

    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')

    with op.batch_alter_table('queue_recording_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_recording_overrides_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_queue_recording_overrides_queue_id'))

    op.drop_table('queue_recording_overrides')
    with op.batch_alter_table('recording_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recording_settings_tenant_id'))

    op.drop_table('recording_settings')
    with op.batch_alter_table('notification_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_deliveries_tenant_id'))
        batch_op.drop_index('ix_notification_deliveries_due')

    op.drop_table('notification_deliveries')
