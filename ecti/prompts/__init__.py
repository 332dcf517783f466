"""Prompts: what callers hear (text spoken by a TTS provider, or uploaded audio).

Other subsystems (IVR nodes, queues, voicemail greetings) refer to a prompt with a *prompt
reference*, a small dict stored in their settings:

* ``{"text": "お電話ありがとうございます。", "voice": {...}}`` — text spoken with the tenant's
  default voice, or the voice settings given (see :class:`ecti.interfaces.VoiceSettings`);
* ``{"prompt_id": 12}`` — a prompt of the tenant's prompt library.

:func:`prompt_instructions` turns a reference into instructions for the carrier.
"""
from __future__ import annotations

from typing import Any

from ..voice.instructions import Say

MAX_TEXT_LENGTH = 500


def prompt_instructions(request, tenant, ref: dict[str, Any] | None) -> list:
    """The instructions that play ``ref`` to a caller (nothing for an empty reference)."""
    if not ref:
        return []
    text = (ref.get("text") or "").strip()
    if text:
        return [Say(text[:MAX_TEXT_LENGTH], language="ja-JP" if (tenant.locale or "ja") == "ja" else "en-US")]
    return []
