"""Translation of user-visible text.

Every message a person reads goes through :data:`_` (domain ``ecti``). Message ids are
English; the Japanese catalog in ``ecti/locale/ja`` is the default language of the UI.
"""
from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory("ecti")


def locale_dirs() -> list[str]:
    """Where the compiled catalogs are (for translating outside a request, e.g. the CLI)."""
    from pathlib import Path

    return [str(Path(__file__).parent / "locale")]
