"""Migrations build the schema the models describe, on SQLite and PostgreSQL."""
from sqlalchemy import inspect

from ecti import migrate
from ecti.models import Base, import_all_models


def test_migrations_create_every_table_of_the_models(engine):
    import_all_models()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_do_not_drift(engine):
    with engine.connect() as conn:
        migrate.check(connection=conn)


def test_upgrading_again_changes_nothing(database_url, engine):
    before = sorted(inspect(engine).get_table_names())
    migrate.upgrade(database_url)
    assert sorted(inspect(engine).get_table_names()) == before
