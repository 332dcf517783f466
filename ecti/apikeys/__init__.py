"""API keys for server-to-server use of the JSON API (issue 23): see :mod:`.services`,
:mod:`.scopes` and docs/api.md."""


def includeme(config):
    config.include(".views")
