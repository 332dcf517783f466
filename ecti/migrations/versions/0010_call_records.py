"""Call records: the call's summary columns, agents' part in calls, indexes of the conversation list

* ``calls``: tenant_number, queue_id, agent_user_id, queued_at, connected_at, wait/talk/hold/
  wrap-up seconds, outcome, flow_path, crm_record_ids, has_recording, has_voicemail.
* ``call_agents``: which agents were offered, answered, transferred or dialled a call.
* Indexes for the list's keyset paging per filter; trigram (GIN) indexes on the numbers on
  PostgreSQL for the partial number search (extension ``pg_trgm``).

Backfill (cheap, set-based): the company's number, whether a recording or voicemail exists, the
agent who dialled an outbound call, and an outcome from the carrier's final status. The ACD
figures (queue, wait, talk, hold, agents offered) of calls older than this revision are not
rebuilt from their events (docs/calls.md).

Revision ID: 0010
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tenant_number", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("queue_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("agent_user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("wait_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("talk_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("hold_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("wrap_up_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.Enum(
            "answered", "voicemail", "forwarded", "abandoned", "timed_out", "overflowed", "refused", "ivr", "busy",
            "no_answer", "failed", "canceled", name="calloutcome", native_enum=False, length=16), nullable=True))
        batch_op.add_column(sa.Column("flow_path", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("crm_record_ids", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("has_recording", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("has_voicemail", sa.Boolean(), nullable=True))

    calls = sa.table(
        "calls", sa.column("id"), sa.column("direction"), sa.column("from_number"), sa.column("to_number"),
        sa.column("status"), sa.column("answered_at"), sa.column("user_id"), sa.column("tenant_number"),
        sa.column("agent_user_id"), sa.column("outcome"), sa.column("flow_path", sa.JSON()),
        sa.column("crm_record_ids", sa.JSON()), sa.column("has_recording"), sa.column("has_voicemail"),
    )
    recordings = sa.table("recordings", sa.column("call_id"), sa.column("purpose"))
    has = lambda purpose: sa.exists().where(recordings.c.call_id == calls.c.id, recordings.c.purpose == purpose)  # noqa: E731
    op.execute(calls.update().values(
        tenant_number=sa.case((calls.c.direction == "inbound", calls.c.to_number), else_=calls.c.from_number),
        agent_user_id=sa.case((calls.c.direction == "outbound", calls.c.user_id), else_=None),
        flow_path=sa.func.json_array() if not postgresql else sa.text("'[]'::json"),
        crm_record_ids=sa.func.json_object() if not postgresql else sa.text("'{}'::json"),
        has_recording=has("call"),
        has_voicemail=has("voicemail"),
        outcome=sa.case(
            (sa.and_(calls.c.status == "completed", calls.c.direction == "outbound", calls.c.answered_at.is_not(None)), "answered"),
            (sa.and_(calls.c.status == "completed", calls.c.direction == "outbound"), "no_answer"),
            (calls.c.status == "busy", "busy"),
            (calls.c.status == "no-answer", "no_answer"),
            (calls.c.status == "failed", "failed"),
            (calls.c.status == "canceled", "canceled"),
            else_=None,
        ),
    ))

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.alter_column("flow_path", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("crm_record_ids", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("has_recording", existing_type=sa.Boolean(), nullable=False)
        batch_op.alter_column("has_voicemail", existing_type=sa.Boolean(), nullable=False)
        batch_op.create_foreign_key(batch_op.f("fk_calls_queue_id_acd_queues"), "acd_queues", ["queue_id"], ["id"], ondelete="SET NULL")
        batch_op.create_foreign_key(batch_op.f("fk_calls_agent_user_id_users"), "users", ["agent_user_id"], ["id"], ondelete="SET NULL")
        batch_op.create_index("ix_calls_list", ["tenant_id", "started_at", "id"], unique=False)
        batch_op.create_index("ix_calls_list_direction", ["tenant_id", "direction", "started_at", "id"], unique=False)
        batch_op.create_index("ix_calls_list_queue", ["tenant_id", "queue_id", "started_at", "id"], unique=False)
        batch_op.create_index("ix_calls_list_outcome", ["tenant_id", "outcome", "started_at", "id"], unique=False)
        batch_op.create_index("ix_calls_list_queue_outcome", ["tenant_id", "queue_id", "outcome", "started_at", "id"], unique=False)
        batch_op.create_index("ix_calls_from_number_trgm", ["from_number"], unique=False,
                              postgresql_using="gin", postgresql_ops={"from_number": "gin_trgm_ops"})
        batch_op.create_index("ix_calls_to_number_trgm", ["to_number"], unique=False,
                              postgresql_using="gin", postgresql_ops={"to_number": "gin_trgm_ops"})

    op.create_table(
        "call_agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("call_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offered", sa.Boolean(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("transferred", sa.Boolean(), nullable=False),
        sa.Column("placed", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_call_agents_call_id_calls"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_call_agents_tenant_id_tenants"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_call_agents_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_agents")),
        sa.UniqueConstraint("call_id", "user_id", name="uq_call_agents_call_user"),
    )
    with op.batch_alter_table("call_agents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_agents_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_call_agents_user", ["tenant_id", "user_id", "call_started_at", "call_id"], unique=False)
    call_agents = sa.table(
        "call_agents", sa.column("call_id"), sa.column("user_id"), sa.column("call_started_at"), sa.column("offered"),
        sa.column("answered"), sa.column("transferred"), sa.column("placed"), sa.column("tenant_id"),
    )
    full = sa.table("calls", sa.column("id"), sa.column("user_id"), sa.column("started_at"), sa.column("tenant_id"), sa.column("direction"))
    op.execute(call_agents.insert().from_select(
        ["call_id", "user_id", "call_started_at", "offered", "answered", "transferred", "placed", "tenant_id"],
        sa.select(full.c.id, full.c.user_id, full.c.started_at, sa.false(), sa.false(), sa.false(), sa.true(), full.c.tenant_id)
        .where(full.c.direction == "outbound", full.c.user_id.is_not(None)),
    ))


def downgrade():
    op.drop_table("call_agents")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_to_number_trgm", postgresql_using="gin")
        batch_op.drop_index("ix_calls_from_number_trgm", postgresql_using="gin")
        batch_op.drop_index("ix_calls_list_queue_outcome")
        batch_op.drop_index("ix_calls_list_outcome")
        batch_op.drop_index("ix_calls_list_queue")
        batch_op.drop_index("ix_calls_list_direction")
        batch_op.drop_index("ix_calls_list")
        batch_op.drop_constraint(batch_op.f("fk_calls_agent_user_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_calls_queue_id_acd_queues"), type_="foreignkey")
        for column in ("has_voicemail", "has_recording", "crm_record_ids", "flow_path", "outcome", "wrap_up_seconds",
                       "hold_seconds", "talk_seconds", "wait_seconds", "connected_at", "queued_at", "agent_user_id",
                       "queue_id", "tenant_number"):
            batch_op.drop_column(column)
