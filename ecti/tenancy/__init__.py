"""Tenants, users, sign-in, sessions, CSRF and the security policy."""


def includeme(config):
    config.include(".security")
    config.include(".views")
