"""Migration 0010 fills the new call-record columns of existing calls (set-based, no event replay)
and goes back down cleanly, on SQLite and PostgreSQL."""
from alembic import command
from sqlalchemy import text

from ecti import migrate


def test_existing_calls_get_their_company_number_outcome_and_dialling_agent(engine, clean_database):
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(connection=conn), "0007")
    # The company and its agent as the schema of 0007 had them (today's models have later columns).
    with engine.begin() as conn:
        tenant_id = conn.execute(text(
            "INSERT INTO tenants (slug, name, time_zone, locale, status, start_date, carrier, created_at)"
            " VALUES ('old', '旧データ', 'Asia/Tokyo', 'ja', 'active', CURRENT_DATE, 'twilio', CURRENT_TIMESTAMP) RETURNING id")).scalar_one()
        agent_id = conn.execute(text(
            "INSERT INTO users (tenant_id, email, display_name, role, is_active, failed_logins, session_epoch, created_at)"
            " VALUES (:t, 'old@example.jp', '古川', 'agent', TRUE, 0, 0, CURRENT_TIMESTAMP) RETURNING id"), {"t": tenant_id}).scalar_one()
    rows = [
        # id, direction, from, to, status, answered, user
        (1, "inbound", "+819011112222", "+815012345678", "completed", True, None),
        (2, "outbound", "+815012345678", "+81312345678", "completed", True, agent_id),
        (3, "outbound", "+815012345678", "+81312349999", "busy", False, agent_id),
        (4, "inbound", "+819033334444", "+815012345678", "in-progress", True, None),
    ]
    with engine.begin() as conn:
        for id_, direction, from_, to, status, answered, user in rows:
            conn.execute(text(
                "INSERT INTO calls (id, tenant_id, carrier_call_id, direction, from_number, to_number, status, started_at, answered_at, user_id)"
                " VALUES (:id, :t, :sid, :d, :f, :to, :s, CURRENT_TIMESTAMP, CASE WHEN :a THEN CURRENT_TIMESTAMP END, :u)"),
                {"id": id_, "t": tenant_id, "sid": f"CA{id_}", "d": direction, "f": from_, "to": to, "s": status, "a": answered, "u": user})
        conn.execute(text("INSERT INTO recordings (tenant_id, call_id, carrier_recording_id, status, purpose, created_at)"
                          " VALUES (:t, 1, 'RE1', 'completed', 'call', CURRENT_TIMESTAMP)"), {"t": tenant_id})
    with engine.begin() as conn:
        migrate.upgrade(connection=conn)
    with engine.connect() as conn:
        got = conn.execute(text("SELECT id, tenant_number, outcome, agent_user_id, has_recording, has_voicemail FROM calls ORDER BY id")).all()
        agents = conn.execute(text("SELECT call_id, user_id, placed FROM call_agents ORDER BY call_id")).all()
    assert [tuple(r) for r in got] == [
        (1, "+815012345678", None, None, True, False),  # inbound: no event replay, the outcome stays unknown
        (2, "+815012345678", "answered", agent_id, False, False),
        (3, "+815012345678", "busy", agent_id, False, False),
        (4, "+815012345678", None, None, False, False),
    ]
    assert [(c, u, bool(p)) for c, u, p in agents] == [(2, agent_id, True), (3, agent_id, True)]
