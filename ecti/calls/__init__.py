"""Call records, their append-only events, and recordings."""


def includeme(config):
    config.include(".recordings")
    config.include(".views")
