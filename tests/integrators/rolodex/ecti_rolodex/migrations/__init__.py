"""Alembic version files of ecti-rolodex (entry point ``ecti.migrations``: rolodex)."""
