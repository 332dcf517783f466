"""A plugin's own test suite, run the way its author runs it: from its folder, with the core's
test kit (``ecti.testing``) and nothing of the core repository's own test configuration."""
import os
import re
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
