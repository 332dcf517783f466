"""Telephony: numbers, dialing rules and the carrier-facing call logic."""
