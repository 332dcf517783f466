"""Audit log of administrative actions and configuration changes: who changed what, and when.

The public API for plugins (docs/plugins.md, "Audit log"): declare a settings model audited with
:class:`Audited` (``__audit__ = Audited(...)`` or :func:`audit_model`), and record a change that
is not one row with :func:`record_change`.
"""
from .tracking import Audited, Children, audit_kind, audit_model, record_change  # noqa: F401


def includeme(config):
    config.include(".views")
