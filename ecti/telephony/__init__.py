"""Telephony: numbers, dialing rules and the carrier-facing call logic."""


def includeme(config):
    config.include(".views")
