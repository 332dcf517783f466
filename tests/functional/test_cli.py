"""The ``ecti`` command line, run as a person runs it (a real process, a real INI file)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ECTI = str(Path(sys.executable).with_name("ecti"))


@pytest.fixture
def ini(tmp_path, database_url, clean_database):
    path = tmp_path / "test.ini"
    path.write_text(
        "[app:main]\nuse = egg:ecti\n"
        f"sqlalchemy.url = {database_url}\n"
        "ecti.secret_key = cli-test-secret\n"
        "ecti.environment = test\n"
        "ecti.encryption_keys = 3u-7rsDwGOVvQ2Tx4GW4kKZ4BcBdJXq3zqvOb4mBq9M=\n"
        f"ecti.media_dir = {tmp_path / 'media'}\n"
        "ecti.jobs.backend = memory\n",
        encoding="utf-8",
    )
    return str(path)


def run(*args, stdin: str = "", env=None):
    return subprocess.run([ECTI, *args], input=stdin, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


def test_help_lists_every_command():
    result = run("--help")
    assert result.returncode == 0
    for command in ("db", "tenant", "user", "demo", "plugins", "twilio"):
        assert command in result.stdout
    assert run("db", "--help").returncode == 0


def test_tenant_and_user_created_from_the_command_line_can_sign_in(ini, webtest):
    assert run("-c", ini, "tenant", "create", "--slug", "cli", "--name", "CLI 株式会社").returncode == 0
    created = run("-c", ini, "user", "create", "--tenant", "cli", "--email", "boss@cli.example", "--name", "社長", "--role", "admin", stdin="a strong password\n")
    assert created.returncode == 0, created.stderr
    form = webtest.get("/login").forms["login"]
    form["email"], form["password"] = "boss@cli.example", "a strong password"
    assert "CLI 株式会社" in form.submit().follow().text


def test_a_refused_input_says_why_in_japanese_and_fails(ini):
    run("-c", ini, "tenant", "create", "--slug", "cli", "--name", "CLI")
    again = run("-c", ini, "tenant", "create", "--slug", "cli", "--name", "CLI")
    assert again.returncode != 0
    assert "略称 cli は既に使われています" in again.stderr
    short = run("-c", ini, "user", "create", "--tenant", "cli", "--email", "x@cli.example", "--name", "X", "--role", "agent", stdin="short\n")
    assert short.returncode != 0 and "10 文字以上" in short.stderr


def test_demo_is_idempotent_and_prints_the_sign_ins(ini, db):
    from sqlalchemy import func, select

    from ecti.tenancy.models import User

    first = run("-c", ini, "demo")
    assert first.returncode == 0, first.stderr
    assert "admin@demo.example" in first.stdout
    count = db.scalar(select(func.count()).select_from(User))
    assert run("-c", ini, "demo").returncode == 0
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(User)) == count == 4
    # The main number answers with the demo flow, whose queue has the two demo agents.
    from ecti.acd.models import QueueMember
    from ecti.ivr.models import Flow
    from ecti.telephony.models import PhoneNumber

    [flow] = db.scalars(select(Flow)).all()
    number = db.scalar(select(PhoneNumber).where(PhoneNumber.e164 == "+815012345678"))
    assert number.flow_id == flow.id
    assert db.scalar(select(func.count()).select_from(QueueMember)) == 2


def test_plugins_command_lists_versions_and_hooks(ini):
    result = run("-c", ini, "plugins")
    assert "twilio  (ecti-twilio 0.1.0)" in result.stdout
    assert "ecti_carriers" in result.stdout


def test_db_check_agrees_after_upgrade(ini):
    assert run("-c", ini, "db", "upgrade").returncode == 0
    check = run("-c", ini, "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "agree" in check.stdout


def test_a_missing_secret_is_a_clear_error(tmp_path):
    path = tmp_path / "prod.ini"
    path.write_text("[app:main]\nuse = egg:ecti\nsqlalchemy.url = sqlite://\necti.secret_key =\n", encoding="utf-8")
    result = run("-c", str(path), "plugins", env={"ECTI_SECRET_KEY": "", "ECTI_ENCRYPTION_KEYS": ""})
    assert result.returncode != 0
    assert "ECTI_SECRET_KEY" in result.stderr
