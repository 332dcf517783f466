"""Reports: queues, agents, the whole center, the live wallboard, charts and CSV (docs/reports.md)."""


def includeme(config):
    config.include(".views")
