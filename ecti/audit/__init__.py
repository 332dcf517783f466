"""Audit log of administrative actions: who changed what, and when (operators and tenant admins)."""


def includeme(config):
    config.include(".views")
