"""Dialing lists (progressive dialer, issue 11)

* ``dialer_lists``: a list's caller ID, calling hours, retry policy and status;
  ``dialer_list_agents``: the agents assigned (and whether they joined);
* ``dialer_rows``: the imported numbers; ``dialer_attempts``: every reservation and call, unique
  per (row, attempt number), with partial unique indexes for one open attempt per row and per agent;
* ``dialer_imports``: checked CSV uploads waiting for confirmation; ``dialer_do_not_call``.

Revision ID: 0014
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa
import ecti.models.meta


revision = '0014'
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dialer_do_not_call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_dialer_do_not_call_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_dialer_do_not_call_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dialer_do_not_call')),
    sa.UniqueConstraint('tenant_id', 'number', name='uq_dialer_do_not_call_tenant_number')
    )
    with op.batch_alter_table('dialer_do_not_call', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dialer_do_not_call_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('dialer_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('caller_id', sa.String(length=32), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=True),
    sa.Column('weekly', sa.JSON(), nullable=False),
    sa.Column('calendars', sa.JSON(), nullable=False),
    sa.Column('retry', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'running', 'paused', 'stopped', 'finished', name='liststatus', native_enum=False, length=16), nullable=False),
    sa.Column('preview_seconds', sa.Integer(), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('created_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['schedule_id'], ['ivr_schedules.id'], name=op.f('fk_dialer_lists_schedule_id_ivr_schedules'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_dialer_lists_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dialer_lists')),
    sa.UniqueConstraint('tenant_id', 'name', name='uq_dialer_lists_tenant_name')
    )
    with op.batch_alter_table('dialer_lists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dialer_lists_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('dialer_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('encoding', sa.String(length=16), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('good', sa.JSON(), nullable=False),
    sa.Column('refused', sa.JSON(), nullable=False),
    sa.Column('created_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['list_id'], ['dialer_lists.id'], name=op.f('fk_dialer_imports_list_id_dialer_lists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_dialer_imports_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_dialer_imports_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dialer_imports'))
    )
    with op.batch_alter_table('dialer_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dialer_imports_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('dialer_list_agents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('joined_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['list_id'], ['dialer_lists.id'], name=op.f('fk_dialer_list_agents_list_id_dialer_lists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_dialer_list_agents_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_dialer_list_agents_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dialer_list_agents')),
    sa.UniqueConstraint('list_id', 'user_id', name='uq_dialer_list_agents_list_user')
    )
    with op.batch_alter_table('dialer_list_agents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dialer_list_agents_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dialer_list_agents_user_id'), ['user_id'], unique=False)

    op.create_table('dialer_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'reserved', 'done', name='rowstatus', native_enum=False, length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_attempt_no', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_outcome', sa.Enum('connected', 'no_answer', 'busy', 'failed', 'answering_machine', 'wrong_number', 'callback', 'do_not_call', name='outcome', native_enum=False, length=24), nullable=True),
    sa.Column('callback_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['list_id'], ['dialer_lists.id'], name=op.f('fk_dialer_rows_list_id_dialer_lists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_dialer_rows_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dialer_rows')),
    sa.UniqueConstraint('list_id', 'number', name='uq_dialer_rows_list_number')
    )
    with op.batch_alter_table('dialer_rows', schema=None) as batch_op:
        batch_op.create_index('ix_dialer_rows_due', ['list_id', 'status', 'next_attempt_at', 'row_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_dialer_rows_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('dialer_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('row_id', sa.Integer(), nullable=False),
    sa.Column('attempt_no', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('reserved', 'dialing', 'done', 'skipped', 'released', name='attemptstatus', native_enum=False, length=16), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Enum('connected', 'no_answer', 'busy', 'failed', 'answering_machine', 'wrong_number', 'callback', 'do_not_call', name='outcome', native_enum=False, length=24), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('callback_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reserved_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('dialed_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_dialer_attempts_call_id_calls'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['list_id'], ['dialer_lists.id'], name=op.f('fk_dialer_attempts_list_id_dialer_lists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['row_id'], ['dialer_rows.id'], name=op.f('fk_dialer_attempts_row_id_dialer_rows'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_dialer_attempts_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_dialer_attempts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dialer_attempts')),
    sa.UniqueConstraint('row_id', 'attempt_no', name='uq_dialer_attempts_row_attempt')
    )
    with op.batch_alter_table('dialer_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_dialer_attempts_list_user', ['list_id', 'user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dialer_attempts_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('uq_dialer_attempts_agent_open', ['user_id'], unique=True, sqlite_where=sa.text("status IN ('reserved', 'dialing')"), postgresql_where=sa.text("status IN ('reserved', 'dialing')"))
        batch_op.create_index('uq_dialer_attempts_row_open', ['row_id'], unique=True, sqlite_where=sa.text("status IN ('reserved', 'dialing')"), postgresql_where=sa.text("status IN ('reserved', 'dialing')"))



def downgrade():
    with op.batch_alter_table('dialer_attempts', schema=None) as batch_op:
        batch_op.drop_index('uq_dialer_attempts_row_open', sqlite_where=sa.text("status IN ('reserved', 'dialing')"), postgresql_where=sa.text("status IN ('reserved', 'dialing')"))
        batch_op.drop_index('uq_dialer_attempts_agent_open', sqlite_where=sa.text("status IN ('reserved', 'dialing')"), postgresql_where=sa.text("status IN ('reserved', 'dialing')"))
        batch_op.drop_index(batch_op.f('ix_dialer_attempts_tenant_id'))
        batch_op.drop_index('ix_dialer_attempts_list_user')

    op.drop_table('dialer_attempts')
    with op.batch_alter_table('dialer_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dialer_rows_tenant_id'))
        batch_op.drop_index('ix_dialer_rows_due')

    op.drop_table('dialer_rows')
    with op.batch_alter_table('dialer_list_agents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dialer_list_agents_user_id'))
        batch_op.drop_index(batch_op.f('ix_dialer_list_agents_tenant_id'))

    op.drop_table('dialer_list_agents')
    with op.batch_alter_table('dialer_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dialer_imports_tenant_id'))

    op.drop_table('dialer_imports')
    with op.batch_alter_table('dialer_lists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dialer_lists_tenant_id'))

    op.drop_table('dialer_lists')
    with op.batch_alter_table('dialer_do_not_call', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dialer_do_not_call_tenant_id'))

    op.drop_table('dialer_do_not_call')
