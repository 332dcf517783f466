"""The ``openjtalk`` plugin: registered through the ``ecti`` entry point like any third-party one."""
from __future__ import annotations

from ecti import hookimpl

from .provider import OpenJTalkProvider


@hookimpl
def ecti_tts_providers():
    return [OpenJTalkProvider()]
