"""Alembic environment for ECTI: one linear history for the core and the bundled plugins, and a
branch of its own for each installed plugin that ships migrations (``ecti.migrate``).

Run through the project's CLI (``ecti -c development.ini db upgrade``), which passes the
database URL, or a live connection (tests), in ``config.attributes``.
"""
from alembic import context
from sqlalchemy import create_engine

from ecti.db import make_engine
from ecti.models import import_all_models
from ecti.plugins import get_plugin_manager

config = context.config
# Plugins' model modules are imported when plugins load, so the metadata covers their tables.
get_plugin_manager()
target_metadata = import_all_models()


def run_migrations(connection):
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    engine = make_engine({"sqlalchemy.url": url}) if url else create_engine("sqlite://")
    with engine.connect() as conn:
        run_migrations(conn)
        conn.commit()
