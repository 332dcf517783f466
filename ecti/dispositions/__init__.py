"""Wrap-up: the company's disposition codes and the disposition and note saved on a call."""


def includeme(config):
    config.include(".views")
    config.include(".config_section")
