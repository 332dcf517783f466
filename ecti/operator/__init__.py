"""The operator console: the companies (tenants) this ECTI hosts, their health, suspension."""


def includeme(config):
    config.include(".views")
