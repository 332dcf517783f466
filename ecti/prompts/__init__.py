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

from ..i18n import _
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


def check_prompt_ref(session, ref: Any) -> Any | None:
    """Why ``ref`` cannot be played (a message), or None when it can.

    Runs when something that refers to a prompt is saved (an IVR flow), never on a live call.
    Until the prompt library exists, a ``prompt_id`` refers to nothing.
    """
    if not isinstance(ref, dict):
        return _("Enter the text to speak.")
    if "prompt_id" in ref:
        return _("The prompt ${id} does not exist.", mapping={"id": ref["prompt_id"]})
    text = (ref.get("text") or "").strip()
    if not text:
        return _("Enter the text to speak.")
    if len(text) > MAX_TEXT_LENGTH:
        return _("Enter at most ${max_length} characters.", mapping={"max_length": MAX_TEXT_LENGTH})
    return None
