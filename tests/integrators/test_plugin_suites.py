"""A plugin's own test suite, run the way its author runs it: from its folder, with the core's
test kit (``ecti.testing``) and nothing of the core repository's own test configuration."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "example-plugin"


def test_the_example_plugins_own_green_run_exits_0():
    """It uses the ``api`` fixture for one operation; the core's rule that a whole run exercise
    every API operation must not fail it (that rule is the core suite's, in its conftest.py)."""
    run = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=EXAMPLE, env=dict(os.environ),
                         capture_output=True, text=True, timeout=600)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert re.search(r"\d+ passed", summary) and "failed" not in summary and "error" not in summary, summary
    assert "no test exercised" not in run.stdout


def test_a_plugin_installed_from_its_wheel_migrates_its_own_table(tmp_path):
    """The plugin's migrations ship inside its wheel and are found through its entry point
    (``ecti.migrations``): ``upgrade`` runs the core's history and the plugin's branch."""
    source = tmp_path / "rolodex"  # (a copy: building writes build/ and *.egg-info beside the sources)
    shutil.copytree(Path(__file__).resolve().parent / "rolodex", source)
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    built = subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)],
                           capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = wheels.glob("ecti_rolodex-1.0.0-*.whl")
    installed = subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-3000:]
    url = f"sqlite:///{tmp_path / 'ecti.sqlite'}"
    script = ("import sys; from ecti import migrate; migrate.upgrade(sys.argv[1]); "
              "import sqlalchemy as sa; e = sa.create_engine(sys.argv[1]); c = e.connect(); "
              "print(sorted(r[0] for r in c.execute(sa.text('SELECT version_num FROM alembic_version')))); "
              "print(sa.inspect(c).get_columns('rolodex_cards')[2]['name'])")
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run([sys.executable, "-c", script, url], capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    heads, column = run.stdout.strip().splitlines()[-2:]
    assert "'rolodex_0001'" in heads and column == "e164"
    # Without the plugin installed, the core alone migrates as before (no rolodex table).
    bare = subprocess.run([sys.executable, "-c", script, f"sqlite:///{tmp_path / 'bare.sqlite'}"], capture_output=True, text=True, timeout=300)
    assert bare.returncode != 0 and "rolodex_cards" in bare.stderr
