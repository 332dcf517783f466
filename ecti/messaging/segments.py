"""How many SMS segments a text takes (GSM 03.38 and UCS-2), as the carrier counts them.

A text made only of the GSM-7 alphabet travels 7 bits a character: 160 characters fit one SMS,
and a longer text is cut into segments of 153 (each part carries a header that joins them
again). Any other character — every Japanese one — switches the whole text to UCS-2: 70
characters fit one SMS, 67 per segment when concatenated. UCS-2 counts UTF-16 code units, so
an emoji outside the Basic Multilingual Plane counts twice; the GSM-7 extension characters
``^ { } \\ [ ~ ] | €`` (and form feed) take an escape and count twice too.

Carriers bill every segment. ECTI sends at most :data:`MAX_SEGMENTS` (10) segments: that is
what the Japanese mobile carriers accept as one long SMS (docomo, au and SoftBank: at most
670 full-width or 1,530 half-width characters, i.e. 10 × 67 and 10 × 153), and it stays
below Twilio's limit of 1,600 characters a message.

``ecti/static/sms.js`` counts the same way in the browser (the console's live counter); a
browser test checks that both agree.
"""
from __future__ import annotations

from dataclasses import dataclass

#: The longest message ECTI sends, in segments (see the module docstring).
MAX_SEGMENTS = 10

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

# GSM 03.38 default alphabet (without the escape character) and its extension table.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("\f^{}\\[~]|€")


@dataclass(frozen=True)
class SegmentCount:
    """What a text costs: ``characters`` as the encoding counts them, ``segments`` to send."""

    encoding: str  # "GSM-7" or "UCS-2"
    characters: int
    segments: int
    #: Characters that still fit in the segments already used.
    remaining: int

    @property
    def too_long(self) -> bool:
        return self.segments > MAX_SEGMENTS


def normalise_body(text: str) -> str:
    """Line breaks as one ``\\n`` (browsers submit ``\\r\\n``; the counter sees ``\\n``)."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


def count_segments(text: str) -> SegmentCount:
    """Count ``text`` the way the carrier will: encoding, characters, segments."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        encoding, single, part = "GSM-7", GSM7_SINGLE, GSM7_PART
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
    else:
        encoding, single, part = "UCS-2", UCS2_SINGLE, UCS2_PART
        units = len(text.encode("utf-16-le")) // 2
    if units == 0:
        segments, capacity = 0, single
    elif units <= single:
        segments, capacity = 1, single
    else:
        segments = -(-units // part)
        capacity = segments * part
    return SegmentCount(encoding=encoding, characters=units, segments=segments, remaining=capacity - units)


def max_characters(encoding: str) -> int:
    """The most characters :data:`MAX_SEGMENTS` segments hold in ``encoding``."""
    return MAX_SEGMENTS * (GSM7_PART if encoding == "GSM-7" else UCS2_PART)
