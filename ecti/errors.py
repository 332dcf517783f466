"""Errors meant for people: a stable machine code plus a translatable message."""
from __future__ import annotations

from typing import Any


class UserError(Exception):
    """Something a person asked for cannot be done; ``message`` says why and what to do.

    Raised by domain code; the web layer turns it into a form error, a JSON error
    (``{"error": {"code", "message", "fields"}}``) or, on a call, a spoken message.
    """

    status = 400

    def __init__(self, code: str, message: Any, *, field: str | None = None, status: int | None = None):
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.field = field
        if status is not None:
            self.status = status
