"""Japanese phone numbers and the caller-ID dialing rules (F-NUM, F-PH-1, F-PH-8).

Numbers are stored and handed to the carrier in E.164 (``+81312345678``) and shown to
people in the domestic format (``03-1234-5678``). Parsing and formatting use the
``phonenumbers`` library; the Japanese dialing rules are ours:

* F-PH-1 — outbound calls go to numbers in Japan only. People type them with the leading
  0 (``090-1234-5678``); ``+81 90-1234-5678`` is accepted too. Other countries are refused
  (``not_domestic``), and so is a domestic number typed without its leading 0.
* F-NUM-2 — from a 050, 0800 or 0120 caller ID, mobiles (070/080/090) and fixed lines
  (0ABJ, e.g. 03) can be called.
* F-NUM-3 — from any of them these cannot: the 0AB0 numbers 0130, 0140, 0150, 0160, 0170,
  0180, 0190, 0570 (navi dial), 0910, 0990; the 3-digit 1XY numbers except 177, the
  emergency numbers 110 / 118 / 119 included; the #ABCD numbers (``#7119``, ``#8000``).
* F-NUM-4 — from a 050 caller ID, free dial (0120, 0800) cannot be called either. The
  carrier does connect calls to 0120/0800 numbers that it issued itself, but nobody can
  tell from the number whether it did, so ECTI refuses all of them.

The rules are a block list, as in the carrier's table: any other valid Japanese number
(050, 020, 060, …) is allowed. Short numbers (1XY, #ABCD) are recognised before the
number is parsed, so that they are refused by the rule that names them instead of as
"not a valid phone number"; so are the blocked 0AB0 prefixes, several of which
``phonenumbers`` does not consider valid.

Decisions the FAQ leaves open:

* **177 (weather forecast)** is allowed from a 050, 0120 or 0800 caller ID although it
  does not start with 0: the carrier's table names it as the one exception to the 1XY
  block, and F-PH-1's "numbers starting with 0" describes ordinary subscriber numbers. It
  is returned as ``+81177``.
* **An overseas caller ID** (an SMS-capable number of another country, F-NUM-1/F-PH-8)
  may place calls, still to Japanese numbers only (F-PH-1), under the strictest rule
  set — the 050 one, and 177 is refused too. Such a call enters Japan as an
  international call: short numbers (1XY including 177, #ABCD) and emergency numbers
  only work from inside the Japanese network, and free dial, navi dial and the other
  0AB0 service numbers are commonly closed to calls from abroad. Refusing up front gives
  the agent a clear reason instead of a failed call.
* **Any other caller ID** (a Japanese mobile or fixed line) is refused
  (``unsupported_caller_id``): the carrier only issues 050, 0800 and 0120 numbers in
  Japan, and F-NUM-2 to F-NUM-4 say nothing about other ones.

Every refusal raises :class:`NumberError` (:class:`DialingRuleError` for refusals by the
rules) with a stable ``code`` and a translatable ``message`` that names the number, the
kind of destination and the kind of caller ID, and says what to do instead.
"""
from __future__ import annotations

import enum
import re
import unicodedata

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from ..errors import UserError
from ..i18n import _

__all__ = [
    "ALLOWED_SHORT_NUMBERS",
    "BLOCKED_SERVICE_PREFIXES",
    "DialingRuleError",
    "EMERGENCY_NUMBERS",
    "NumberClass",
    "NumberError",
    "check_outbound",
    "check_sms_destination",
    "classify",
    "format_domestic",
    "to_e164",
]

#: 0AB0 prefixes that cannot be called from any caller ID (F-NUM-3); 0570 is navi dial.
BLOCKED_SERVICE_PREFIXES = (
    "0130", "0140", "0150", "0160", "0170", "0180", "0190", "0570", "0910", "0990",
)
#: Emergency numbers: police, coast guard, fire and ambulance (refused, F-NUM-3).
EMERGENCY_NUMBERS = frozenset({"110", "118", "119"})
#: The only 1XY number that can be called (from a 050, 0120 or 0800 caller ID).
ALLOWED_SHORT_NUMBERS = frozenset({"177"})

_FREE_DIAL_PREFIXES = ("0120", "0800")
_MOBILE_PREFIXES = ("070", "080", "090")
# Dash look-alikes people type (or paste) in Japanese text; NFKC leaves them alone.
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70"), "-")
_ALLOWED_CHARS = re.compile(r"[0-9+#\s\-()./]*")
_SEPARATORS = re.compile(r"[\s\-()./]")
_SHORT_1XY = re.compile(r"1\d\d")
_HASH_ABCD = re.compile(r"#\d{4}")


class NumberError(UserError, ValueError):
    """A phone number that cannot be used: ``code`` is stable, ``message`` translatable.

    ``str(error)`` is the English message with its placeholders filled in (for logs).
    """

    def __init__(self, code: str, message, *, field: str | None = None):
        super().__init__(code, message, field=field)
        self.args = (message.interpolate() if hasattr(message, "interpolate") else str(message),)


class DialingRuleError(NumberError):
    """A valid number that the dialing rules (F-PH-1, F-NUM-2..4) do not allow calling."""


class NumberClass(str, enum.Enum):
    """What kind of number an E.164 string is, as far as the dialing rules care."""

    IP_PHONE_050 = "ip_phone_050"
    FREE_DIAL_0120 = "free_dial_0120"
    FREE_DIAL_0800 = "free_dial_0800"
    MOBILE = "mobile"  # 070 / 080 / 090
    FIXED = "fixed"  # 0ABJ, geographic: 03, 06, 011, 0466, …
    NAVI_DIAL_0570 = "navi_dial_0570"
    SERVICE_0AB0 = "service_0ab0"  # the other blocked 0AB0 prefixes: 0130 … 0990
    SHORT_1XY = "short_1xy"  # 3-digit numbers, written +81177
    OTHER = "other"  # other Japanese numbers: 020, 060, …
    OVERSEAS = "overseas"


# --------------------------------------------------------------------------- helpers


def _normalise(text: str | None) -> str:
    """Half-width, ASCII dashes, trimmed: ``０３ー１２３４`` → ``03-1234``."""
    return unicodedata.normalize("NFKC", text or "").translate(_DASHES).strip()


def _invalid(shown: str) -> NumberError:
    return NumberError(
        "invalid_number",
        _(
            "${number} is not a valid phone number. Check the digits and include the "
            "area code, e.g. 03-1234-5678.",
            mapping={"number": shown},
        ),
    )


def _empty() -> NumberError:
    return NumberError("empty_number", _("Enter a phone number."))


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber:
    """Parse what a person typed; only digits, separators and a leading + are accepted."""
    shown = _normalise(text)
    if not shown:
        raise _empty()
    # Letters would be read as a vanity number or an extension: neither can be dialed.
    if not _ALLOWED_CHARS.fullmatch(shown) or "#" in shown:
        raise _invalid(shown)
    try:
        number = phonenumbers.parse(shown, region)
    except NumberParseException:
        raise _invalid(shown) from None
    if not phonenumbers.is_valid_number(number):
        raise _invalid(shown)
    return number


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _parse_e164(e164: str) -> phonenumbers.PhoneNumber:
    shown = _normalise(e164)
    if not shown:
        raise _empty()
    try:
        return phonenumbers.parse(shown, None)
    except NumberParseException:
        raise _invalid(shown) from None


# ------------------------------------------------------------------------ public API


def to_e164(text: str, *, region: str = "JP") -> str:
    """Return the E.164 form of a number as people type it, e.g. ``+81312345678``.

    Accepts ``03-1234-5678``, ``0312345678``, ``+81 3 1234 5678``, full-width
    ``０３（１２３４）５６７８`` and spaces, hyphens (including ``ー``), dots and
    parentheses. Numbers without ``+`` are read as numbers of ``region``. Short numbers
    (110, #7119) have no E.164 form here: see :func:`check_outbound`.

    :raises NumberError: ``empty_number`` or ``invalid_number``.
    """
    return _e164(_parse(text, region))


def format_domestic(e164: str) -> str:
    """Format an E.164 number for people: Japanese numbers in the domestic format
    (``050-1234-5678``, ``0120-123-456``, ``03-1234-5678``, ``177``), other countries'
    numbers in the international format (``+1 415-555-0100``).

    :raises NumberError: ``invalid_number`` when ``e164`` cannot be parsed.
    """
    number = _parse_e164(e164)
    if number.country_code == 81:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def display_number(number: str | None) -> str:
    """A stored number as every page shows it (:func:`format_domestic`); what cannot be parsed
    (``anonymous``, a softphone's ``client:…`` identity, a foreign format) as the carrier gave
    it, and nothing for nothing. This is the ``phone`` filter of the templates."""
    if not number:
        return ""
    try:
        return format_domestic(number)
    except (NumberError, ValueError, TypeError):
        return number


def classify(e164: str) -> NumberClass:
    """Return the :class:`NumberClass` of an E.164 number (``+8150…`` → ``IP_PHONE_050``).

    Japanese numbers are classified by prefix, so a blocked 0AB0 number is recognised
    even where ``phonenumbers`` does not consider it valid; ``FIXED`` also requires
    ``phonenumbers`` to know it as a fixed line. ``+81177`` is ``SHORT_1XY``.

    :raises NumberError: ``invalid_number`` when ``e164`` cannot be parsed.
    """
    number = _parse_e164(e164)
    if number.country_code != 81:
        return NumberClass.OVERSEAS
    significant = str(number.national_number)
    if _SHORT_1XY.fullmatch(significant):
        return NumberClass.SHORT_1XY
    return _classify_national("0" + significant, number)


def _classify_national(national: str, number: phonenumbers.PhoneNumber) -> NumberClass:
    prefix = national[:4]
    if prefix == "0120":
        return NumberClass.FREE_DIAL_0120
    if prefix == "0800":  # before 080: 0800 is free dial, 080 a mobile
        return NumberClass.FREE_DIAL_0800
    if prefix == "0570":
        return NumberClass.NAVI_DIAL_0570
    if prefix in BLOCKED_SERVICE_PREFIXES:
        return NumberClass.SERVICE_0AB0
    if national.startswith("050"):
        return NumberClass.IP_PHONE_050
    if national.startswith(_MOBILE_PREFIXES):
        return NumberClass.MOBILE
    if national[2:3] != "0" and phonenumbers.number_type(number) == PhoneNumberType.FIXED_LINE:
        return NumberClass.FIXED
    return NumberClass.OTHER


_CALLER_KINDS = {
    NumberClass.IP_PHONE_050: "050",
    NumberClass.FREE_DIAL_0120: "0120",
    NumberClass.FREE_DIAL_0800: "0800",
    NumberClass.OVERSEAS: None,  # the messages for it are worded apart
}


def _caller_kind(caller_id_e164: str) -> tuple[NumberClass, str | None]:
    """Check the caller ID; return its class and its prefix ("050", "0120", "0800", or
    ``None`` for an overseas number)."""
    shown = _normalise(caller_id_e164)
    if not shown:
        raise NumberError("invalid_caller_id", _("Choose a caller ID before calling."))
    try:
        caller = _parse(shown, "JP")
    except NumberError:
        raise NumberError(
            "invalid_caller_id",
            _(
                "The caller ID ${caller_id} is not a valid phone number. Choose one of "
                "the company's numbers as the caller ID.",
                mapping={"caller_id": shown},
            ),
        ) from None
    kind = classify(_e164(caller))
    if kind not in _CALLER_KINDS:
        raise DialingRuleError(
            "unsupported_caller_id",
            _(
                "${caller_id} cannot be used as the caller ID for outgoing calls. Choose "
                "a 050, 0120, 0800 or overseas number.",
                mapping={"caller_id": format_domestic(_e164(caller))},
            ),
        )
    return kind, _CALLER_KINDS[kind]


def _domestic_digits(shown: str) -> str:
    """The destination as dialed inside Japan: ``0312345678``, ``110`` or ``#7119``."""
    if not _ALLOWED_CHARS.fullmatch(shown):
        raise _invalid(shown)
    compact = _SEPARATORS.sub("", shown)
    if "#" in compact:
        if _HASH_ABCD.fullmatch(compact):
            return compact
        raise _invalid(shown)
    if not re.fullmatch(r"\+?\d+", compact):
        raise _invalid(shown)
    if compact.startswith("+81"):
        rest = compact[3:]
        if _SHORT_1XY.fullmatch(rest) or rest.startswith("0"):  # +81 110, +81 (0)3 …
            return rest
        return "0" + rest
    if compact.startswith(("+", "010")):  # 010 is the international prefix in Japan
        try:
            number = phonenumbers.parse(compact, "JP")
        except NumberParseException:
            raise _invalid(shown) from None
        if number.country_code != 81:
            raise DialingRuleError(
                "not_domestic",
                _(
                    "${number} is not a Japanese number. Calls can only be placed to "
                    "numbers in Japan (starting with 0, e.g. 03-1234-5678).",
                    mapping={"number": shown},
                ),
            )
        return "0" + str(number.national_number)
    return compact


def check_outbound(caller_id_e164: str, destination_text: str) -> str:
    """Check a call from ``caller_id_e164`` to what the agent typed; return the E.164
    destination (``+819012345678``; ``+81177`` for 177).

    Applies F-PH-1 (Japan only), F-NUM-2 to F-NUM-4 and the decisions in the module
    docstring for 177 and overseas caller IDs.

    :raises NumberError: the caller ID or the destination is not a valid number
        (``invalid_caller_id``, ``empty_number``, ``invalid_number``,
        ``missing_leading_zero``).
    :raises DialingRuleError: the rules refuse the call (``unsupported_caller_id``,
        ``not_domestic``, ``blocked_service_number``, ``blocked_emergency_number``,
        ``blocked_short_number``, ``blocked_hash_number``, ``blocked_free_dial``).
    """
    caller_class, caller_kind = _caller_kind(caller_id_e164)
    overseas = caller_kind is None
    shown = _normalise(destination_text)
    if not shown:
        raise _empty()
    national = _domestic_digits(shown)
    mapping = {"number": shown, "prefix": national[:4]}
    if caller_kind:
        mapping["caller_kind"] = caller_kind

    if _HASH_ABCD.fullmatch(national):
        raise DialingRuleError("blocked_hash_number", _hash_message(overseas, mapping))
    if _SHORT_1XY.fullmatch(national):
        if national in EMERGENCY_NUMBERS:
            raise DialingRuleError(
                "blocked_emergency_number", _emergency_message(overseas, mapping)
            )
        if national not in ALLOWED_SHORT_NUMBERS:
            raise DialingRuleError("blocked_short_number", _short_message(overseas, mapping))
        if overseas:
            raise DialingRuleError(
                "blocked_short_number",
                _(
                    "177 (weather forecast) cannot be called from an overseas caller ID. "
                    "Choose a 050, 0120 or 0800 caller ID to call 177."
                ),
            )
        return "+81" + national
    if not national.startswith("0"):
        raise NumberError(
            "missing_leading_zero",
            _(
                "${number} does not start with 0. Type Japanese numbers with the leading "
                "0 and the area code, e.g. 03-1234-5678.",
                mapping=mapping,
            ),
        )
    if mapping["prefix"] in BLOCKED_SERVICE_PREFIXES:
        raise DialingRuleError("blocked_service_number", _service_message(overseas, mapping))
    if mapping["prefix"] in _FREE_DIAL_PREFIXES and caller_class not in (
        NumberClass.FREE_DIAL_0120,
        NumberClass.FREE_DIAL_0800,
    ):
        raise DialingRuleError("blocked_free_dial", _free_dial_message(overseas, mapping))
    try:
        number = phonenumbers.parse(national, "JP")
    except NumberParseException:
        raise _invalid(shown) from None
    if not phonenumbers.is_valid_number(number):
        raise _invalid(shown)
    return _e164(number)


def _service_message(overseas: bool, mapping: dict):
    if mapping["prefix"] == "0570":
        if overseas:
            return _(
                "${number} is a 0570 number (navi dial); 0570 numbers cannot be called "
                "from an overseas caller ID. Call the organization's regular landline "
                "number instead.",
                mapping=mapping,
            )
        return _(
            "${number} is a 0570 number (navi dial); 0570 numbers cannot be called from "
            "a ${caller_kind} caller ID. Call the organization's regular landline number "
            "instead.",
            mapping=mapping,
        )
    if overseas:
        return _(
            "${number} is a ${prefix} service number; ${prefix} numbers cannot be called "
            "from an overseas caller ID. Call a regular landline or mobile number instead.",
            mapping=mapping,
        )
    return _(
        "${number} is a ${prefix} service number; ${prefix} numbers cannot be called from "
        "a ${caller_kind} caller ID. Call a regular landline or mobile number instead.",
        mapping=mapping,
    )


def _emergency_message(overseas: bool, mapping: dict):
    if overseas:
        return _(
            "${number} is an emergency number; emergency numbers (110, 118, 119) cannot "
            "be called from an overseas caller ID. In an emergency, call from a mobile "
            "phone or a landline.",
            mapping=mapping,
        )
    return _(
        "${number} is an emergency number; emergency numbers (110, 118, 119) cannot be "
        "called from a ${caller_kind} caller ID. In an emergency, call from a mobile "
        "phone or a landline.",
        mapping=mapping,
    )


def _short_message(overseas: bool, mapping: dict):
    if overseas:
        return _(
            "${number} is a 3-digit service number (1XY); 3-digit numbers cannot be "
            "called from an overseas caller ID. Call the service's regular number instead.",
            mapping=mapping,
        )
    return _(
        "${number} is a 3-digit service number (1XY); apart from 177, 3-digit numbers "
        "cannot be called from a ${caller_kind} caller ID. Call the service's regular "
        "number instead.",
        mapping=mapping,
    )


def _hash_message(overseas: bool, mapping: dict):
    if overseas:
        return _(
            "${number} is a #ABCD number (# and 4 digits); #ABCD numbers cannot be called "
            "from an overseas caller ID. Call the service's regular number instead.",
            mapping=mapping,
        )
    return _(
        "${number} is a #ABCD number (# and 4 digits); #ABCD numbers cannot be called "
        "from a ${caller_kind} caller ID. Call the service's regular number instead.",
        mapping=mapping,
    )


def _free_dial_message(overseas: bool, mapping: dict):
    if overseas:
        return _(
            "${number} is a ${prefix} free-dial number; ${prefix} numbers cannot be called "
            "from an overseas caller ID. Choose a 0120 or 0800 caller ID, or call the "
            "organization's regular landline number.",
            mapping=mapping,
        )
    return _(
        "${number} is a ${prefix} free-dial number; ${prefix} numbers cannot be called "
        "from a 050 caller ID. Choose a 0120 or 0800 caller ID, or call the "
        "organization's regular landline number.",
        mapping=mapping,
    )


def check_sms_destination(text: str) -> str:
    """Check an SMS destination (F-PH-8) and return it in E.164.

    The number must be written in +country format (``+81 90-1234-5678``,
    ``+1 415-555-0100``); ``090-1234-5678`` is refused with a message that shows the
    +81 form to type. Delivery is never guaranteed by the carrier.

    :raises NumberError: ``empty_number``, ``not_international`` or ``invalid_number``.
    """
    shown = _normalise(text)
    if not shown:
        raise _empty()
    if not shown.startswith("+"):
        try:
            suggestion = phonenumbers.format_number(
                _parse(shown, "JP"), PhoneNumberFormat.INTERNATIONAL
            )
        except NumberError:
            suggestion = None
        if suggestion:
            message = _(
                "SMS numbers need the country code: write ${number} as ${suggestion}.",
                mapping={"number": shown, "suggestion": suggestion},
            )
        else:
            message = _(
                "${number} has no country code. Write SMS numbers in +country format, "
                "e.g. +81 90-1234-5678.",
                mapping={"number": shown},
            )
        raise NumberError("not_international", message)
    try:
        number = _parse(shown, None)
    except NumberError:
        raise NumberError(
            "invalid_number",
            _(
                "${number} is not a valid phone number. Check the digits; SMS numbers are "
                "written in +country format, e.g. +81 90-1234-5678.",
                mapping={"number": shown},
            ),
        ) from None
    return _e164(number)
