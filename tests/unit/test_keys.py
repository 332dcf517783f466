"""Production refuses weak or published keys; development and tests keep theirs."""
import re
import subprocess
from pathlib import Path

import pytest

from ecti.config import ConfigurationError, settings_from_environment
from ecti.crypto import SecretBox
from ecti.keys import REPOSITORY_KEYS, character_bits, new_secret_key

ROOT = Path(__file__).resolve().parents[2]
GOOD_ENCRYPTION_KEY = SecretBox.generate_key()


def production(secret_key: str, encryption_keys: str = GOOD_ENCRYPTION_KEY) -> dict:
    return {"sqlalchemy.url": "sqlite://", "ecti.secret_key": secret_key, "ecti.encryption_keys": encryption_keys}


@pytest.mark.parametrize("key", [
    "x",  # what the review got accepted
    "development-only-secret-do-not-use-in-production",  # development.ini's
    "a" * 64,  # long but not random
    "correct horse battery staple",  # a passphrase, too short
    new_secret_key()[:30],  # random but shorter than 32 bytes
], ids=["one-character", "development-ini", "not-random", "passphrase", "random-but-short"])
def test_production_refuses_a_weak_or_published_secret_key_and_says_how_to_make_one(key):
    with pytest.raises(ConfigurationError) as refused:
        settings_from_environment(production(key), environ={})
    message = str(refused.value)
    assert "ECTI_SECRET_KEY" in message
    assert "ecti secrets generate" in message


@pytest.mark.parametrize("keys", [
    "uXk0lJ7mmQHbcOXf4bJ5YDtrzjNcLsmqHLYDCgYnqGk=",  # development.ini's
    "3u-7rsDwGOVvQ2Tx4GW4kKZ4BcBdJXq3zqvOb4mBq9M=",  # the tests'
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",  # 32 zero bytes
    "not a key",
    GOOD_ENCRYPTION_KEY + " uXk0lJ7mmQHbcOXf4bJ5YDtrzjNcLsmqHLYDCgYnqGk=",  # an old published key kept behind
], ids=["development-ini", "the-tests", "zero-bytes", "not-a-key", "published-key-kept-behind"])
def test_production_refuses_weak_or_published_encryption_keys(keys):
    with pytest.raises(ConfigurationError) as refused:
        settings_from_environment(production(new_secret_key(), keys), environ={})
    assert "ECTI_ENCRYPTION_KEYS" in str(refused.value)
    assert "ecti secrets generate" in str(refused.value)


def test_production_starts_with_generated_keys_and_development_with_its_own():
    settings_from_environment(production(new_secret_key()), environ={})
    dev = {**production("development-only-secret-do-not-use-in-production", "uXk0lJ7mmQHbcOXf4bJ5YDtrzjNcLsmqHLYDCgYnqGk="),
           "ecti.environment": "development"}
    settings_from_environment(dev, environ={})


def test_the_environment_can_only_relax_the_check_on_purpose():
    # An installation that sets nothing is production.
    with pytest.raises(ConfigurationError):
        settings_from_environment(production("x"), environ={})
    with pytest.raises(ConfigurationError):
        settings_from_environment({**production("x"), "ecti.environment": "staging"}, environ={})


def _tracked_files():
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / p for p in out if p.endswith((".py", ".ini", ".md", ".cfg", ".toml", ".txt", ".sh")) and (ROOT / p).is_file()]


def test_every_key_written_in_the_repository_is_on_the_refused_list():
    fernet_like = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}=")
    setting = re.compile(r"^\s*ecti\.secret_key\s*=\s*(\S+)\s*$", re.M)
    found = set()
    for path in _tracked_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        # Identifiers (``..._request=``) are not keys: a key's characters vary like random ones.
        found.update(k for k in fernet_like.findall(text) if character_bits(k[:-1]) > 150)
        found.update(setting.findall(text))
    assert found, "the scan finds the development keys at least"
    assert found <= REPOSITORY_KEYS, f"add to ecti.keys.REPOSITORY_KEYS: {sorted(found - REPOSITORY_KEYS)}"


def test_production_ini_refuses_to_start_with_the_development_key_from_the_command_line(tmp_path):
    import os
    import sys

    ecti = str(Path(sys.executable).with_name("ecti"))
    env = {**os.environ, "ECTI_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
           "ECTI_SECRET_KEY": "development-only-secret-do-not-use-in-production",
           "ECTI_ENCRYPTION_KEYS": GOOD_ENCRYPTION_KEY, "ECTI_PUBLIC_URL": "https://ecti.example.jp"}
    refused = subprocess.run([ecti, "-c", str(ROOT / "production.ini"), "plugins"], capture_output=True, text=True, env=env, timeout=120)
    assert refused.returncode != 0
    assert "ECTI_SECRET_KEY is a key published in the ECTI repository" in refused.stderr
    generated = subprocess.run([ecti, "secrets", "generate"], capture_output=True, text=True, timeout=120)
    assert generated.returncode == 0
    values = dict(line.split("=", 1) for line in generated.stdout.split())
    env.update(values)
    started = subprocess.run([ecti, "-c", str(ROOT / "production.ini"), "plugins"], capture_output=True, text=True, env=env, timeout=120)
    assert started.returncode == 0, started.stderr
