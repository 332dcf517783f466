"""What every benchmark script shares: the ``--smoke`` switch, the figure lines, and bulk loads
derived from the models.

* ``--smoke``: the same script on a few hundred rows and a second of load. The test suite runs
  every benchmark this way (``tests/benchmarks/``) so that a benchmark broken by a schema or API
  change fails the suite at once; a smoke run's figures mean nothing.
* :func:`figure`: each script prints its headline figures as ``FIGURE key value unit`` lines
  (besides its own prose), which ``make bench`` gathers into the rows of ``docs/performance.md``
  and the smoke test checks are there.
* :func:`bulk_insert`: ``INSERT … SELECT`` over a generated series with the columns the script
  gives; every other column of the model's table gets the model's own default, and a NOT NULL
  column the script does not know fails at once, naming the column (how the reports benchmark
  broke silently when ``calls.flow_path`` became NOT NULL).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with ``--smoke``."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smoke", action="store_true",
                   help="a tiny run (a few hundred rows, about a second of load) that only proves the script works")
    return p


def figure(key: str, value: float, unit: str, *, target: str = "", ok: bool | None = None) -> None:
    """One headline figure, as a line ``make bench`` collects: ``FIGURE key value unit [target] [verdict]``."""
    verdict = "" if ok is None else ("met" if ok else "MISSED")
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    line = f"FIGURE {key} {text} {unit}"
    if target:
        line += f" | target {target}"
    if verdict:
        line += f" | {verdict}"
    print(line, flush=True)


def machine() -> str:
    """Cores and load, printed by every script so a figure is read with its machine."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} cores, load average {load:.1f}"


def _default_value(column):
    """The value the model would give ``column`` when a row is added without it (no context)."""
    default = column.default
    if default is None:
        return None, False
    if getattr(default, "is_scalar", False):
        return default.arg, True
    if getattr(default, "is_callable", False):
        return default.arg(None), True
    return None, False


def bulk_insert(conn, model, values: dict[str, str], source: str, where: str | None = None) -> None:
    """``INSERT INTO <model's table> (…) SELECT … FROM source [WHERE where]``.

    ``values`` maps column names to SQL expressions (over ``source``). Columns not given get the
    model's default (as a typed bound parameter); nullable or server-defaulted ones are left out.
    A NOT NULL column with neither raises before anything is written.
    """
    from sqlalchemy import bindparam, text

    table = model.__table__
    unknown = set(values) - set(table.columns.keys())
    if unknown:
        raise RuntimeError(f"benchmark load: {table.name} has no column(s) {sorted(unknown)}")
    columns, selects, params = [], [], []
    for column in table.columns:
        if column.name in values:
            columns.append(column.name)
            selects.append(values[column.name])
            continue
        if column.primary_key or column.server_default is not None:
            continue
        value, has_default = _default_value(column)
        if has_default:
            name = f"default_{column.name}"
            columns.append(column.name)
            selects.append(f":{name}")
            params.append(bindparam(name, value, type_=column.type))
        elif not column.nullable:
            raise RuntimeError(f"benchmark load: {table.name}.{column.name} is NOT NULL and has no default; "
                               f"the benchmark must give it a value (the application writes one)")
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {', '.join(selects)} FROM {source}"
    if where:
        sql += f" WHERE {where}"
    conn.execute(text(sql).bindparams(*params))
