"""Translation of user-visible text.

Every message a person reads goes through :data:`_` (domain ``ecti``). Message ids are
English; the Japanese catalog in ``ecti/locale/ja`` is the default language of the UI.
"""
import functools

from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory("ecti")


@functools.lru_cache(maxsize=None)
def localizer_for(locale: str):
    """A localizer for ``locale`` outside a request (spoken prompts, the CLI); built once."""
    from pyramid.i18n import make_localizer

    return make_localizer(locale, locale_dirs())


def locale_dirs() -> list[str]:
    """Where the compiled catalogs are (for translating outside a request, e.g. the CLI)."""
    from pathlib import Path

    return [str(Path(__file__).parent / "locale")]
