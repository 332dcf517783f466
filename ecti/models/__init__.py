"""Shared model machinery; each subsystem keeps its own ``models.py``.

:func:`import_all_models` imports every core model module so that ``Base.metadata`` is
complete (Alembic, ``ecti db check``); plugins' models are imported when plugins load.
"""
from .meta import Base, UTCDateTime, utcnow  # noqa: F401

CORE_MODEL_MODULES = (
    "ecti.tenancy.models",
    "ecti.telephony.models",
    "ecti.calls.models",
    "ecti.messaging.models",
    "ecti.audit.models",
    "ecti.billing.models",
    "ecti.operator.models",
    "ecti.acd.models",
    "ecti.ivr.models",
    "ecti.prompts.models",
    "ecti.dialer.models",
    "ecti.contacts.models",
    "ecti.notifications.models",
    "ecti.dispositions.models",
    "ecti.plugin_settings.models",
    "ecti.apikeys.models",
    "ecti.webhooks.models",
)


def import_all_models():
    import importlib

    for name in CORE_MODEL_MODULES:
        importlib.import_module(name)
    return Base.metadata
