"""Japan's national holidays as schedules see them, through the plugin's registration."""
from datetime import date

import pytest

from ecti.plugins import Registries, get_plugin_manager
from ecti_holidays_jp import plugin


@pytest.fixture
def calendar():
    return Registries.collect(get_plugin_manager(load_entrypoints=False, plugins=[plugin])).holiday_calendars["jp_national"]


def test_hook_ecti_holiday_calendars_offers_japanese_national_holidays(calendar):
    assert calendar.holidays(date(2025, 1, 1), date(2025, 1, 31)) == {date(2025, 1, 1): "元日", date(2025, 1, 13): "成人の日"}


def test_a_holiday_on_sunday_gives_a_substitute_holiday_on_monday(calendar):
    # 2025-02-23 天皇誕生日 is a Sunday; Monday the 24th is 振替休日.
    assert calendar.holidays(date(2025, 2, 23), date(2025, 2, 24)) == {date(2025, 2, 23): "天皇誕生日", date(2025, 2, 24): "振替休日"}


def test_ordinary_days_and_ranges_across_years(calendar):
    assert calendar.holidays(date(2025, 6, 2), date(2025, 6, 30)) == {}
    new_years = calendar.holidays(date(2025, 12, 29), date(2026, 1, 3))
    assert new_years == {date(2026, 1, 1): "元日"}


def test_the_installed_plugin_is_found_by_its_entry_point():
    assert "jp_national" in Registries.collect(get_plugin_manager()).holiday_calendars
