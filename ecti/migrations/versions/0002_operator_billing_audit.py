"""Operator console, billing and audit: webhook errors, audit entries, per-tenant prices

New tables only (no existing table changes), so it is safe to run on a live database.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 15:21:46.324903
"""
from alembic import op
import sqlalchemy as sa
import ecti.models.meta


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webhook_errors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('at', ecti.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_webhook_errors_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_errors'))
    )
    with op.batch_alter_table('webhook_errors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_errors_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_errors_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_email', sa.String(length=254), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target_type', sa.String(length=64), nullable=True),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('at', ecti.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_entries_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_audit_entries_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('tenant_billing_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('unit_price_yen', sa.Integer(), nullable=False),
    sa.Column('recording_price_yen_per_minute', sa.Integer(), nullable=False),
    sa.Column('storage_price_yen_per_minute', sa.Integer(), nullable=False),
    sa.Column('created_at', ecti.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tenant_billing_terms_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_billing_terms_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant_billing_terms')),
    sa.UniqueConstraint('tenant_id', 'effective_from', name='uq_tenant_billing_terms_tenant_id_effective_from')
    )
    with op.batch_alter_table('tenant_billing_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenant_billing_terms_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('tenant_billing_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenant_billing_terms_tenant_id'))

    op.drop_table('tenant_billing_terms')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_at'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_action'))

    op.drop_table('audit_entries')
    with op.batch_alter_table('webhook_errors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_errors_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_errors_at'))

    op.drop_table('webhook_errors')
