"""How many SMS a text takes: GSM-7 160/153, UCS-2 (Japanese) 70/67, at most 10."""
import pytest

from ecti.messaging.segments import MAX_SEGMENTS, count_segments, max_characters, normalise_body


@pytest.mark.parametrize(
    "text, encoding, characters, segments",
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("あ" * 70, "UCS-2", 70, 1),
        ("あ" * 71, "UCS-2", 71, 2),
        ("あ" * 134, "UCS-2", 134, 2),
        ("あ" * 135, "UCS-2", 135, 3),
        ("a" * 159 + "あ", "UCS-2", 160, 3),  # one Japanese character makes the whole text UCS-2
        ("{" * 80, "GSM-7", 160, 1),  # extension characters take two septets
        ("{" * 81, "GSM-7", 162, 2),
        ("Prix: 5€ à Paris? ÄÖÜ", "GSM-7", 22, 1),  # accented letters of the GSM alphabet
        ("`", "UCS-2", 1, 1),  # the backtick is not in the GSM alphabet
        ("😀" * 35, "UCS-2", 70, 1),  # an emoji is two UTF-16 units
        ("😀" * 36, "UCS-2", 72, 2),
    ],
)
def test_count(text, encoding, characters, segments):
    count = count_segments(text)
    assert (count.encoding, count.characters, count.segments) == (encoding, characters, segments)


def test_remaining_is_what_still_fits_in_the_segments_used():
    assert count_segments("あ" * 71).remaining == 63
    assert count_segments("hello").remaining == 155


def test_ten_segments_is_the_most_japanese_carriers_accept():
    assert MAX_SEGMENTS == 10
    assert (max_characters("UCS-2"), max_characters("GSM-7")) == (670, 1530)
    assert not count_segments("あ" * 670).too_long
    assert count_segments("あ" * 671).too_long
    assert not count_segments("a" * 1530).too_long
    assert count_segments("a" * 1531).too_long


def test_line_breaks_from_a_browser_count_once():
    assert normalise_body("一行目\r\n二行目\r三行目") == "一行目\n二行目\n三行目"
    assert count_segments(normalise_body("a\r\nb")).characters == 3
