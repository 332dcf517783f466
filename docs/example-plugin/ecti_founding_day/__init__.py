"""Example ECTI plugin (see README.md)."""
