"""Call records and their append-only events."""
