"""Billing for ECTI tenants: pure computation of monthly invoices and usage (no database)."""
