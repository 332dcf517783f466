"""Billing for ECTI tenants (F-ORG-3).

:mod:`.calculation` is the pure computation of a month's invoice; :mod:`.services` feeds it from
the database (account history, usage, prices); :mod:`.views` shows it to the operator (all
companies, CSV) and to each company's administrator (its own month).
"""


def includeme(config):
    config.include(".views")
