"""Export → import → export changes nothing, for every section (issue 19: a queue member's
position 0 came back as 1): on the demo company and on a company with every kind of object."""
import copy

import pytest
from sqlalchemy import select

from ecti.acd.models import QueueMember
from ecti.db import make_session_factory, set_tenant_scope
from ecti.tenant_config import dumps, export_document, import_document
from ecti.tenancy.models import Tenant

from .test_tenant_config_queues import center  # noqa: F401  (fixture: every kind of object)


def round_trip(session, registry, tenant) -> tuple[dict, dict]:
    first = export_document(session, registry, tenant)
    import_document(session, registry, copy.deepcopy(first))
    session.commit()
    again = export_document(session, registry, session.get(Tenant, tenant.id))
    return first, again


def assert_same(first: dict, again: dict) -> None:
    assert set(again) == set(first)
    for section in first:  # one section at a time: a failure names it
        assert dumps({section: again[section]}) == dumps({section: first[section]}), section


def test_every_section_round_trips_on_a_company_with_every_kind_of_object(center, scoped, ivr_config, tenant):
    # A member at position 0 (the demo's first agent has it) and one the file leaves unordered.
    member = scoped.scalar(select(QueueMember).order_by(QueueMember.id))
    member.position = 0
    scoped.commit()
    first, again = round_trip(scoped, ivr_config.registry, scoped.get(Tenant, tenant.id))
    assert {"tenant", "users", "prompts", "schedules", "closures", "voicemail_boxes", "queues", "flows", "numbers"} <= set(first)
    assert all(first[name] for name in ("users", "prompts", "schedules", "closures", "voicemail_boxes", "queues", "flows", "numbers"))
    assert 0 in [m["position"] for q in first["queues"] for m in q["members"]]
    assert_same(first, again)


def test_every_section_round_trips_on_the_demo(db, engine, ivr_config):
    from ecti.demo import DEMO_SLUG, seed_demo

    class Ctx:  # what `ecti demo` hands the seed
        registry = ivr_config.registry
        secret_box = registry.secret_box

    seed_demo(db, Ctx())
    db.commit()
    tenant_id = db.scalar(select(Tenant.id).where(Tenant.slug == DEMO_SLUG))
    session = make_session_factory(engine)()
    set_tenant_scope(session, tenant_id)
    try:
        first, again = round_trip(session, ivr_config.registry, session.get(Tenant, tenant_id))
        assert [m["position"] for m in first["queues"][0]["members"]] == [0, 1]
        assert_same(first, again)
    finally:
        session.rollback()
        session.close()
