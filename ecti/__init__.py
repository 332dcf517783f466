"""ECTI: an open-source contact center for businesses in Japan.

Plugins write ``from ecti import hookimpl``; the WSGI application is built by :func:`main`
(``use = egg:ecti`` in an INI file).
"""
from .hookspecs import hookimpl

__all__ = ["hookimpl", "main"]


def main(global_config, **settings):
    """The Paste application factory (``pserve development.ini``)."""
    from .config import configure

    return configure(settings).make_wsgi_app()
