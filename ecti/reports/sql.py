"""Two expressions SQLite and PostgreSQL spell differently (timestamps stay UTC in both)."""
from __future__ import annotations

from sqlalchemy import Float, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class seconds_between(FunctionElement):
    """``later - earlier`` in seconds (a float, to the millisecond on SQLite; NULL when either is NULL)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between)
def _seconds_between_pg(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)}))"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return f"ROUND((julianday({compiler.process(later, **kw)}) - julianday({compiler.process(earlier, **kw)})) * 86400.0, 3)"


class quarter_hour(FunctionElement):
    """The UTC quarter hour a time falls in, as a count since 1970 (time zones are 15-minute multiples)."""

    type = Integer()
    inherit_cache = True
    name = "quarter_hour"


@compiles(quarter_hour)
def _quarter_hour_pg(element, compiler, **kw):
    (value,) = list(element.clauses)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(value, **kw)}) / 900) AS INTEGER)"


@compiles(quarter_hour, "sqlite")
def _quarter_hour_sqlite(element, compiler, **kw):
    (value,) = list(element.clauses)
    return f"(CAST(strftime('%s', {compiler.process(value, **kw)}) AS INTEGER) / 900)"
