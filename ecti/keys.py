"""Checks of the secret key and the encryption keys before the application starts.

Production (``ecti.environment``, environment ``ECTI_ENVIRONMENT``; ``production`` unless a
development or test configuration says otherwise) refuses to start with

* a secret key (``ECTI_SECRET_KEY``: signs session cookies and media URLs) shorter than what 32
  random bytes make, or visibly not random, or
* any key that appears in this repository (the development and test keys below: whoever reads
  the repository could forge a session or read the stored carrier tokens),

and says how to make good ones: ``ecti secrets generate``.
"""
from __future__ import annotations

import base64
import binascii
import collections
import math
import re
import secrets

#: Environments that may run with the repository's keys.
RELAXED_ENVIRONMENTS = ("development", "test")

#: Every key written in this repository (development.ini, tests, benchmarks, docs). A test
#: (tests/unit/test_keys.py) scans the repository and fails when a key is missing here.
REPOSITORY_KEYS = frozenset({
    "development-only-secret-do-not-use-in-production",
    "uXk0lJ7mmQHbcOXf4bJ5YDtrzjNcLsmqHLYDCgYnqGk=",
    "3u-7rsDwGOVvQ2Tx4GW4kKZ4BcBdJXq3zqvOb4mBq9M=",
    "amf9UB0GxRVIPiNbVsdKkoizHiSpTodo3vp2bAy91MA=",
    "test-secret-" + "x" * 32,
    "cli-test-secret",
    "benchmark",
    "benchmark" * 4,
    "s",
})

#: A secret key is at least this long: 32 random bytes in URL-safe base64 (``ecti secrets generate``).
MIN_SECRET_KEY_LENGTH = 43
#: The characters of a random 43-character key carry at least ~180 bits by their frequencies;
#: below this a key is visibly repetitive (``aaaa…``, a short word repeated).
MIN_SECRET_KEY_BITS = 160

HOW_TO = (
    "Make new keys with `ecti secrets generate` and set ECTI_SECRET_KEY / ECTI_ENCRYPTION_KEYS "
    "(see docs/operations.md, Security). "
    "`ecti secrets generate` で新しい鍵を作り、ECTI_SECRET_KEY / ECTI_ENCRYPTION_KEYS に設定してください。"
)


class WeakKey(ValueError):
    """A key production must not run with; the message says which and how to fix it."""


def character_bits(value: str) -> float:
    """The key's length times the entropy of its character frequencies (an upper bound on
    how random it can be)."""
    counts = collections.Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values()) * n if n else 0.0


def check_secret_key(value: str) -> None:
    if value in REPOSITORY_KEYS:
        raise WeakKey("ECTI_SECRET_KEY is a key published in the ECTI repository; production needs its own. "
                      "ECTI_SECRET_KEY がリポジトリに載っている鍵です。本番では独自の鍵が必要です。 " + HOW_TO)
    if len(value) < MIN_SECRET_KEY_LENGTH or character_bits(value) < MIN_SECRET_KEY_BITS:
        raise WeakKey(f"ECTI_SECRET_KEY is too short or not random: use at least 32 random bytes "
                      f"({MIN_SECRET_KEY_LENGTH} characters of base64). "
                      "ECTI_SECRET_KEY が短いか、ランダムではありません (32 バイト以上の乱数が必要です)。 " + HOW_TO)


def split_encryption_keys(value: str) -> list[str]:
    return [k for k in re.split(r"[\s,]+", value or "") if k]


def check_encryption_keys(value: str) -> None:
    for position, key in enumerate(split_encryption_keys(value), start=1):
        if key in REPOSITORY_KEYS:
            raise WeakKey(f"ECTI_ENCRYPTION_KEYS: key {position} is a key published in the ECTI repository. "
                          f"ECTI_ENCRYPTION_KEYS の {position} 番目の鍵はリポジトリに載っている鍵です。 " + HOW_TO)
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raw = b""
        if len(raw) != 32 or len(set(raw)) < 16:
            raise WeakKey(f"ECTI_ENCRYPTION_KEYS: key {position} is not a random Fernet key (32 random bytes in URL-safe base64). "
                          f"ECTI_ENCRYPTION_KEYS の {position} 番目の鍵が正しい Fernet 鍵ではありません。 " + HOW_TO)


def check_keys(settings: dict) -> None:
    """Raise :class:`WeakKey` unless the environment is development/test or the keys are good."""
    if settings.get("ecti.environment", "production") in RELAXED_ENVIRONMENTS:
        return
    check_secret_key(settings["ecti.secret_key"])
    check_encryption_keys(settings["ecti.encryption_keys"])


def new_secret_key() -> str:
    return secrets.token_urlsafe(32)
