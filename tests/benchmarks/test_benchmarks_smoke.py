"""Every benchmark in ``benchmarks/`` runs in the suite, tiny (``--smoke``), on each database it
applies to: a benchmark broken by a schema or API change fails here, not months later when
somebody wants its figure. Only that it completes and prints its figures is asserted — never a
time (the figures of a smoke run mean nothing; ``make bench`` measures, ``docs/performance.md``
keeps the figures).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ecti.testing import CHROMIUM, DEFAULT_PG_URL, _in_ci

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"

#: script → (the databases it runs on, the figure keys its smoke run must print). "pg" scripts
#: take ``--url``/``--database`` for a PostgreSQL server where they make a throw-away database.
SCRIPTS = {
    "reports.py": (("sqlite", "pg"), ["reports.{db}.per-queue", "reports.{db}.per-queue.ratio", "reports.{db}.per-agent",
                                      "reports.{db}.per-agent.ratio"]),
    "call_list.py": (("pg",), ["call_list.first_page", "call_list.a_page_in_the_middle", "call_list.queue+outcome+one_month",
                               "call_list.number_search_start", "call_list.number_search_digits", "call_list.an_agents_own_calls"]),
    "contacts.py": (("pg",), ["contacts.lookup", "contacts.lookup.growth", "contacts.import", "contacts.import.per_row_ratio"]),
    "dialer.py": (("pg",), ["dialer.csv_check", "dialer.csv_check.per_row_ratio", "dialer.reserve", "dialer.reserve.growth",
                            "dialer.reservations"]),
    "routing.py": (("pg",), ["routing.decision", "routing.decision.growth", "routing.committed"]),
    "carrier_latency.py": (("pg",), ["carrier_latency.p50_growth.before", "carrier_latency.p50_growth"]),
    "capacity.py": (("pg",), [f"capacity.apps{n}.{k}" for n in (1, 2) for k in ("calls_per_hour", "p50", "p99", "routing_p50", "routing_p95")]),
    "recording_media.py": (("sqlite",), ["recording_media.whole", "recording_media.first_64k", "recording_media.last_64k"]),
    "softphone_ready.py": (("sqlite",), ["softphone.ready.cold", "softphone.ready.warm", "softphone.weight.cold"]),
    "tts.py": (("none",), ["tts.render_20", "tts.render_50", "tts.cache_hit"]),
    "push.py": (("pg",), ["push.latency_p50", "push.latency_p99", "push.server_rss", "push.server_cpu", "push.delivered"]),
    "signin_burst.py": (("sqlite",), [f"signin_burst.{k}.healthz_{p}" for k in ("idle", "unbounded", "bounded", "one_address")
                                      for p in ("p50", "p99")]),
    "webhook_throughput.py": (("sqlite", "pg"), ["webhook.{db}.rate", "webhook.{db}.p99", "webhook.{db}.ratio_to_minimal",
                                                 "webhook.{db}.minimal_ratio_to_hello"]),
}
#: How a script is told the PostgreSQL server.
PG_OPTION = {"reports.py": "--database", "call_list.py": "--database", "webhook_throughput.py": "--database"}


def test_every_benchmark_script_has_a_smoke_run():
    scripts = {p.name for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(SCRIPTS), f"add the new benchmark to SCRIPTS (or remove the old one): {scripts ^ set(SCRIPTS)}"


@pytest.fixture(scope="module")
def pg_server():
    """The PostgreSQL server the suite uses; each script makes (and drops) its own database there."""
    url = os.environ.get("ECTI_TEST_DATABASE_URL", DEFAULT_PG_URL)
    import psycopg

    try:
        psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=5).close()
    except Exception as exc:
        message = f"PostgreSQL not reachable at {url}: {exc}"
        if _in_ci():
            pytest.fail(message + " (CI=true: PostgreSQL is required)", pytrace=False)
        pytest.skip(message)
    return url


CASES = [pytest.param(script, db, id=f"{script[:-3]}-{db}", marks=[pytest.mark.browser] if script == "softphone_ready.py" else [])
         for script, (dbs, _keys) in SCRIPTS.items() for db in dbs]


@pytest.mark.parametrize(("script", "db"), CASES)
def test_the_benchmark_runs_small_and_prints_its_figures(request, script, db):
    args = [sys.executable, str(BENCHMARKS / script), "--smoke"]
    if db == "pg":
        args += [PG_OPTION.get(script, "--url"), request.getfixturevalue("pg_server")]
    elif db == "sqlite" and script in ("reports.py",):
        args += ["--database", "sqlite"]
    if script == "softphone_ready.py" and not os.path.exists(CHROMIUM):
        (pytest.fail if _in_ci() else pytest.skip)(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=900,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{script} failed:\n{output[-4000:]}"
    assert "Traceback" not in output, output[-4000:]
    printed = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("FIGURE ")}
    name = {"pg": "postgresql"}.get(db, db)
    expected = {key.format(db=name) for key in SCRIPTS[script][1]}
    assert expected <= printed, f"{script} did not print {sorted(expected - printed)}:\n{result.stdout[-3000:]}"
