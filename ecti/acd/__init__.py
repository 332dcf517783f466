"""Automatic call distribution: queues, agent presence and routing state, routing strategies,
reservations, hold and transfer (docs/acd.md)."""


def includeme(config):
    config.include(".handlers")
    config.include(".monitoring")
    config.include(".callback")
    config.include(".jobs")
    config.include(".views")
    config.include(".config_section")
