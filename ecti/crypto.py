"""Encryption at rest for secrets such as carrier auth tokens.

Keys come from the ``ecti.encryption_keys`` setting (environment ``ECTI_ENCRYPTION_KEYS``): one
or more Fernet keys separated by white space or commas, newest first. Values are encrypted with
the first key and decrypted with any of them, so keys can be rotated without downtime:
add the new key in front, run ``ecti secrets rotate`` (re-encrypts), then drop the old one.
"""
from __future__ import annotations

import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretBox:
    def __init__(self, keys: str):
        parts = [k for k in re.split(r"[\s,]+", keys or "") if k]
        if not parts:
            raise ValueError("ecti.encryption_keys is empty: set ECTI_ENCRYPTION_KEYS (see docs/operations.md)")
        self._fernet = MultiFernet([Fernet(k.encode("ascii")) for k in parts])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise ValueError("secret cannot be decrypted with the configured ECTI_ENCRYPTION_KEYS") from exc

    def rotate(self, ciphertext: str) -> str:
        return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode("ascii")
