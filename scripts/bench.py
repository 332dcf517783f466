"""Run every benchmark at full size and print the rows of docs/performance.md (``make bench``).

Each benchmark prints its headline figures as ``FIGURE key value unit [| target …] [| met/MISSED]``
lines (``benchmarks/_common.py``); this gathers them, with the command that produced them, the
machine and the date, into Markdown table rows. ``--smoke`` runs the same tiny runs the test suite
runs (a quick check of this script itself); ``--only NAME`` runs the benchmarks whose file name
contains NAME.

    .venv/bin/python scripts/bench.py [--smoke] [--only reports] [--database postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""
from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def runs(pg: str) -> list[list[str]]:
    """Every benchmark command (its arguments after ``python``), in the order of the table."""
    return [
        ["benchmarks/webhook_throughput.py"],
        ["benchmarks/webhook_throughput.py", "--database", pg],
        ["benchmarks/routing.py", "--url", pg],
        ["benchmarks/carrier_latency.py", "--url", pg],
        ["benchmarks/capacity.py", "--url", pg],
        ["benchmarks/call_list.py", "--database", pg],
        ["benchmarks/reports.py", "--database", pg],
        ["benchmarks/reports.py", "--database", "sqlite"],
        ["benchmarks/contacts.py", "--url", pg],
        ["benchmarks/dialer.py", "--url", pg],
        ["benchmarks/recording_media.py"],
        ["benchmarks/softphone_ready.py"],
        ["benchmarks/tts.py"],
        ["benchmarks/push.py", "--url", pg],
        ["benchmarks/signin_burst.py"],
    ]


def number(value: str) -> str:
    v = float(value)
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.3g}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--only", default="")
    parser.add_argument("--database", default=os.environ.get("ECTI_TEST_DATABASE_URL", DEFAULT_PG))
    args = parser.parse_args()
    today = datetime.date.today().isoformat()
    machine = f"{os.cpu_count()} cores"
    rows, failures = [], []
    for command in runs(args.database):
        if args.only not in command[0]:
            continue
        argv = [sys.executable, *command] + (["--smoke"] if args.smoke else [])
        shown = "python " + " ".join(command).replace(args.database, "$PG")
        load = os.getloadavg()[0]
        print(f"== {shown}   (load average {load:.1f})", flush=True)
        started = time.monotonic()
        result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
        print(f"   {time.monotonic() - started:.0f} s", flush=True)
        if result.returncode != 0:
            failures.append(shown)
            print(result.stdout[-2000:] + result.stderr[-3000:], flush=True)
            continue
        for line in result.stdout.splitlines():
            if not line.startswith("FIGURE "):
                continue
            head, *rest = line[len("FIGURE "):].split(" | ")
            key, value, unit = (head.split(" ", 2) + [""])[:3]
            target = next((r[len("target "):] for r in rest if r.startswith("target ")), "")
            verdict = next((r for r in rest if r in ("met", "MISSED")), "")
            row = f"| `{key}` | {number(value)} {unit} | {target} | {verdict} | `{shown}` | {today}, {machine}, load {load:.1f} |"
            rows.append(row)
            print(row, flush=True)
    print("\n| figure | last value | target | | command | measured |\n|---|---|---|---|---|---|")
    print("\n".join(rows))
    if failures:
        print("\nFAILED: " + ", ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
