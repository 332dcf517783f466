"""How report pages and the wallboard write times and durations: the console's one format
(:mod:`ecti.formats`, UI.md)."""
from ..formats import WEEKDAYS, date_time, hms

__all__ = ["WEEKDAYS", "date_time", "hms"]
