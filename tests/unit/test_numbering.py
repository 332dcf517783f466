"""Japanese numbering and the caller-ID dialing rules (F-NUM-2..4, F-PH-1, F-PH-8)."""
import pytest
from translationstring import TranslationString

from ecti.errors import UserError
from ecti.telephony.numbering import (
    ALLOWED_SHORT_NUMBERS,
    BLOCKED_SERVICE_PREFIXES,
    EMERGENCY_NUMBERS,
    DialingRuleError,
    NumberClass,
    NumberError,
    check_outbound,
    check_sms_destination,
    classify,
    format_domestic,
    to_e164,
)

# Caller IDs of each kind the company can own.
IP_050 = "+815012345678"
FREE_0120 = "+81120123456"
FREE_0800 = "+818001234567"
OVERSEAS = "+14155550100"
ALL_CALLERS = [IP_050, FREE_0120, FREE_0800, OVERSEAS]
FREE_DIAL_CALLERS = [FREE_0120, FREE_0800]

# How each caller ID is named in the English messages.
CALLER_WORDING = {
    IP_050: "from a 050 caller ID",
    FREE_0120: "from a 0120 caller ID",
    FREE_0800: "from a 0800 caller ID",
    OVERSEAS: "from an overseas caller ID",
}


def refusal(caller, destination, error=DialingRuleError):
    with pytest.raises(error) as info:
        check_outbound(caller, destination)
    return info.value


# ------------------------------------------------------------------------ to_e164

@pytest.mark.parametrize(
    "text, expected",
    [
        ("03-1234-5678", "+81312345678"),
        ("0312345678", "+81312345678"),
        ("03 1234 5678", "+81312345678"),
        ("(03) 1234-5678", "+81312345678"),
        ("+81 3 1234 5678", "+81312345678"),
        ("+81-3-1234-5678", "+81312345678"),
        ("+81 (0)3-1234-5678", "+81312345678"),
        ("０３（１２３４）５６７８", "+81312345678"),  # full-width digits and parentheses
        ("０３－１２３４－５６７８", "+81312345678"),  # full-width hyphens
        ("03ー1234ー5678", "+81312345678"),  # katakana long-vowel mark used as a dash
        ("03−1234−5678", "+81312345678"),  # minus sign
        ("\u300003-1234-5678\u3000", "+81312345678"),  # ideographic spaces around
        ("＋８１　９０　１２３４　５６７８", "+819012345678"),
        ("090-1234-5678", "+819012345678"),
        ("050-1234-5678", "+815012345678"),
        ("0120-123-456", "+81120123456"),
        ("0800-123-4567", "+818001234567"),
        ("06-6123-4567", "+81661234567"),
        ("0466-12-3456", "+81466123456"),
        ("+1 415-555-0100", "+14155550100"),
    ],
)
def test_to_e164_accepts_what_people_type(text, expected):
    assert to_e164(text) == expected


def test_to_e164_reads_national_numbers_in_the_given_region():
    assert to_e164("(415) 555-0100", region="US") == "+14155550100"


@pytest.mark.parametrize(
    "text, code",
    [
        ("", "empty_number"),
        ("   ", "empty_number"),
        (None, "empty_number"),
        ("03-1234", "invalid_number"),
        ("abc", "invalid_number"),
        ("0120-FLOWER", "invalid_number"),  # no vanity letters
        ("03-1234-5678 ext 12", "invalid_number"),  # extensions cannot be dialed
        ("03-1234-5678#", "invalid_number"),
        ("110", "invalid_number"),  # short numbers have no E.164 form here
        ("0130-12-3456", "invalid_number"),
    ],
)
def test_to_e164_refuses_invalid_numbers(text, code):
    with pytest.raises(NumberError) as info:
        to_e164(text)
    assert info.value.code == code
    assert not isinstance(info.value, DialingRuleError)


def test_invalid_number_message_names_the_number_and_is_translatable():
    with pytest.raises(NumberError) as info:
        to_e164("０３－１２３４")
    error = info.value
    assert isinstance(error.message, TranslationString)
    assert error.message.domain == "ecti"
    assert str(error) == (
        "03-1234 is not a valid phone number. Check the digits and include the area code, "
        "e.g. 03-1234-5678."
    )


def test_errors_fit_the_web_layer_and_value_error():
    with pytest.raises(NumberError) as info:
        to_e164("")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, UserError)
    assert info.value.status == 400
    assert issubclass(DialingRuleError, NumberError)


# ---------------------------------------------------------------- format_domestic

@pytest.mark.parametrize(
    "e164, expected",
    [
        ("+815012345678", "050-1234-5678"),
        ("+81120123456", "0120-123-456"),
        ("+818001234567", "0800-123-4567"),
        ("+81312345678", "03-1234-5678"),
        ("+819012345678", "090-1234-5678"),
        ("+81661234567", "06-6123-4567"),
        ("+81466123456", "0466-12-3456"),
        ("+81570123456", "0570-123-456"),
        ("+81177", "177"),
        ("+14155550100", "+1 415-555-0100"),
        ("+447911123456", "+44 7911 123456"),
    ],
)
def test_format_domestic(e164, expected):
    assert format_domestic(e164) == expected


def test_format_domestic_refuses_garbage():
    with pytest.raises(NumberError) as info:
        format_domestic("not a number")
    assert info.value.code == "invalid_number"


# ----------------------------------------------------------------------- classify

@pytest.mark.parametrize(
    "e164, expected",
    [
        ("+815012345678", NumberClass.IP_PHONE_050),
        ("+81120123456", NumberClass.FREE_DIAL_0120),
        ("+818001234567", NumberClass.FREE_DIAL_0800),
        ("+817012345678", NumberClass.MOBILE),
        ("+818012345678", NumberClass.MOBILE),
        ("+819012345678", NumberClass.MOBILE),
        ("+81312345678", NumberClass.FIXED),
        ("+81350123456", NumberClass.FIXED),  # 03-5012-…: a 0 in 4th place is not 0AB0
        ("+81550821234", NumberClass.FIXED),  # 0550 (Gotemba) is an area code
        ("+81112314111", NumberClass.FIXED),
        ("+81466123456", NumberClass.FIXED),
        ("+81570123456", NumberClass.NAVI_DIAL_0570),
        ("+81130123456", NumberClass.SERVICE_0AB0),
        ("+81180123456", NumberClass.SERVICE_0AB0),
        ("+81910123456", NumberClass.SERVICE_0AB0),
        ("+81990123456", NumberClass.SERVICE_0AB0),
        ("+81177", NumberClass.SHORT_1XY),
        ("+812012345678", NumberClass.OTHER),  # 020
        ("+816012345678", NumberClass.OTHER),  # 060
        ("+14155550100", NumberClass.OVERSEAS),
        ("+447911123456", NumberClass.OVERSEAS),
    ],
)
def test_classify(e164, expected):
    assert classify(e164) is expected


# ----------------------------------------------- check_outbound: allowed (F-NUM-2)

ALLOWED_DESTINATIONS = [
    ("070-1234-5678", "+817012345678"),
    ("080-1234-5678", "+818012345678"),
    ("090-1234-5678", "+819012345678"),
    ("03-1234-5678", "+81312345678"),
    ("06-6123-4567", "+81661234567"),
    ("011-231-4111", "+81112314111"),
    ("0466-12-3456", "+81466123456"),
    ("0550-82-1234", "+81550821234"),
    ("050-9876-5432", "+815098765432"),
    ("+81 90 1234 5678", "+819012345678"),  # "+81…" typed is fine
    ("+81 (0)3-1234-5678", "+81312345678"),
    ("０９０（１２３４）５６７８", "+819012345678"),
    ("010-81-3-1234-5678", "+81312345678"),  # via the international prefix, still Japan
]


@pytest.mark.parametrize("caller", ALL_CALLERS)
@pytest.mark.parametrize("text, expected", ALLOWED_DESTINATIONS)
def test_mobiles_and_fixed_lines_can_be_called_from_every_caller_id(caller, text, expected):
    assert check_outbound(caller, text) == expected


@pytest.mark.parametrize("caller", FREE_DIAL_CALLERS)
@pytest.mark.parametrize(
    "text, expected",
    [
        ("0120-444-444", "+81120444444"),
        ("0800-111-2222", "+818001112222"),
        ("+81 120 444 444", "+81120444444"),
    ],
)
def test_free_dial_can_be_called_from_free_dial_caller_ids(caller, text, expected):
    assert check_outbound(caller, text) == expected


@pytest.mark.parametrize("caller", [IP_050, FREE_0120, FREE_0800])
@pytest.mark.parametrize("text", ["177", "１７７", "+81 177"])
def test_177_can_be_called_from_japanese_caller_ids(caller, text):
    assert check_outbound(caller, text) == "+81177"


# ----------------------------------------------- check_outbound: F-NUM-3 refusals

@pytest.mark.parametrize("caller", ALL_CALLERS)
@pytest.mark.parametrize("prefix", BLOCKED_SERVICE_PREFIXES)
def test_blocked_0ab0_numbers_are_refused_from_every_caller_id(caller, prefix):
    destination = f"{prefix}-123-456"
    error = refusal(caller, destination)
    assert error.code == "blocked_service_number"
    text = str(error)
    assert destination in text
    assert CALLER_WORDING[caller] in text
    assert f"{prefix} number" in text
    assert "${" not in text


def test_blocked_0ab0_list_is_the_carriers_list():
    assert set(BLOCKED_SERVICE_PREFIXES) == {
        "0130", "0140", "0150", "0160", "0170", "0180", "0190", "0570", "0910", "0990",
    }


@pytest.mark.parametrize(
    "text", ["+81 570 123 456", "０５７０－１２３－４５６", "0570-01-2345", "0570-12"]
)
def test_navi_dial_is_refused_whatever_way_it_is_typed(text):
    error = refusal(FREE_0120, text)
    assert error.code == "blocked_service_number"
    assert "navi dial" in str(error)


def test_navi_dial_message_is_specific_and_actionable():
    error = refusal(FREE_0120, "0570-123-456")
    assert str(error) == (
        "0570-123-456 is a 0570 number (navi dial); 0570 numbers cannot be called from a "
        "0120 caller ID. Call the organization's regular landline number instead."
    )
    assert error.message.mapping["caller_kind"] == "0120"


SHORT_BLOCKED = [f"{n}" for n in range(100, 200) if str(n) not in ALLOWED_SHORT_NUMBERS]


@pytest.mark.parametrize("caller", ALL_CALLERS)
@pytest.mark.parametrize("number", SHORT_BLOCKED)
def test_3_digit_numbers_other_than_177_are_refused(caller, number):
    error = refusal(caller, number)
    expected = "blocked_emergency_number" if number in EMERGENCY_NUMBERS else "blocked_short_number"
    assert error.code == expected
    assert str(error).startswith(f"{number} is ")
    assert CALLER_WORDING[caller] in str(error)


@pytest.mark.parametrize("caller", ALL_CALLERS)
@pytest.mark.parametrize(
    "text, number", [("110", "110"), ("118", "118"), ("１１９", "119"), ("+81 119", "+81 119")]
)
def test_emergency_numbers_get_their_own_message(caller, text, number):
    error = refusal(caller, text)
    assert error.code == "blocked_emergency_number"
    assert f"{number} is an emergency number" in str(error)
    assert "call from a mobile phone or a landline" in str(error)
    assert CALLER_WORDING[caller] in str(error)


def test_3_digit_message_says_177_is_the_exception():
    error = refusal(IP_050, "104")
    assert str(error) == (
        "104 is a 3-digit service number (1XY); apart from 177, 3-digit numbers cannot be "
        "called from a 050 caller ID. Call the service's regular number instead."
    )


def test_emergency_list():
    assert EMERGENCY_NUMBERS == {"110", "118", "119"}
    assert ALLOWED_SHORT_NUMBERS == {"177"}


@pytest.mark.parametrize("caller", ALL_CALLERS)
@pytest.mark.parametrize(
    "text, shown", [("#7119", "#7119"), ("#8000", "#8000"), ("#9110", "#9110"), ("＃７１１９", "#7119")]
)
def test_hash_abcd_numbers_are_refused(caller, text, shown):
    error = refusal(caller, text)
    assert error.code == "blocked_hash_number"
    assert str(error).startswith(f"{shown} is a #ABCD number")
    assert CALLER_WORDING[caller] in str(error)


@pytest.mark.parametrize("text", ["#71", "#71190", "#", "03#1234"])
def test_malformed_hash_numbers_are_invalid_not_blocked(text):
    error = refusal(FREE_0800, text, NumberError)
    assert error.code == "invalid_number"


# ----------------------------------------------- check_outbound: F-NUM-4 refusals

@pytest.mark.parametrize("caller", [IP_050, OVERSEAS])
@pytest.mark.parametrize(
    "text, prefix",
    [
        ("0120-444-444", "0120"),
        ("0800-111-2222", "0800"),
        ("+81 120 444 444", "0120"),
        ("０８００－１１１－２２２２", "0800"),
    ],
)
def test_free_dial_is_refused_from_050_and_overseas_caller_ids(caller, text, prefix):
    error = refusal(caller, text)
    assert error.code == "blocked_free_dial"
    assert f"{prefix} free-dial number" in str(error)
    assert CALLER_WORDING[caller] in str(error)
    assert "Choose a 0120 or 0800 caller ID" in str(error)


# ------------------------------------------------- check_outbound: F-PH-1 refusals

@pytest.mark.parametrize("caller", ALL_CALLERS)
@pytest.mark.parametrize(
    "text", ["+1 415-555-0100", "+44 7911 123456", "010-1-415-555-0100", "＋１ ４１５ ５５５ ０１００"]
)
def test_international_destinations_are_refused(caller, text):
    error = refusal(caller, text)
    assert error.code == "not_domestic"
    assert "is not a Japanese number" in str(error)


@pytest.mark.parametrize("text", ["3-1234-5678", "90-1234-5678", "1234"])
def test_domestic_numbers_must_start_with_0(text):
    error = refusal(IP_050, text, NumberError)
    assert error.code == "missing_leading_zero"
    assert str(error).startswith(f"{text} does not start with 0")


@pytest.mark.parametrize(
    "text, code",
    [
        ("", "empty_number"),
        ("03-1234", "invalid_number"),
        ("0120-FLOWER", "invalid_number"),
        ("03-1234-5678 ext 1", "invalid_number"),
        ("+81", "invalid_number"),
        ("+", "invalid_number"),
        ("03+1234", "invalid_number"),
    ],
)
def test_invalid_destinations(text, code):
    error = refusal(FREE_0120, text, NumberError)
    assert error.code == code
    assert not isinstance(error, DialingRuleError)


# ------------------------------------------ overseas caller ID: the strictest rules

def test_177_is_refused_from_an_overseas_caller_id():
    error = refusal(OVERSEAS, "177")
    assert error.code == "blocked_short_number"
    assert "177" in str(error)
    assert "Choose a 050, 0120 or 0800 caller ID" in str(error)


def test_overseas_and_japanese_caller_ids_get_different_wording():
    assert str(refusal(OVERSEAS, "#7119")) != str(refusal(IP_050, "#7119"))


# ----------------------------------------------------------------------- caller ID

@pytest.mark.parametrize("caller", ["+81312345678", "+819012345678", "+81661234567"])
def test_other_japanese_caller_ids_are_refused(caller):
    error = refusal(caller, "090-1234-5678")
    assert error.code == "unsupported_caller_id"
    assert format_domestic(caller) in str(error)
    assert "Choose a 050, 0120, 0800 or overseas number" in str(error)


@pytest.mark.parametrize("caller", ["", "+8112", "nonsense"])
def test_invalid_caller_ids_are_refused_before_the_destination(caller):
    error = refusal(caller, "110", NumberError)
    assert error.code == "invalid_caller_id"
    assert not isinstance(error, DialingRuleError)


def test_caller_id_may_be_written_in_domestic_format():
    assert check_outbound("050-1234-5678", "03-1234-5678") == "+81312345678"
    assert refusal("050-1234-5678", "0120-444-444").code == "blocked_free_dial"


# ---------------------------------------------------------------------------- SMS

@pytest.mark.parametrize(
    "text, expected",
    [
        ("+81 90-1234-5678", "+819012345678"),
        ("+819012345678", "+819012345678"),
        ("+81 090-1234-5678", "+819012345678"),
        ("＋８１ ９０－１２３４－５６７８", "+819012345678"),
        ("+1 415-555-0100", "+14155550100"),
        ("+44 7911 123456", "+447911123456"),
    ],
)
def test_sms_destinations_in_plus_country_format(text, expected):
    assert check_sms_destination(text) == expected


@pytest.mark.parametrize(
    "text, suggestion",
    [
        ("090-1234-5678", "+81 90-1234-5678"),
        ("０８０１２３４５６７８", "+81 80-1234-5678"),
        ("010-1-415-555-0100", "+1 415-555-0100"),
    ],
)
def test_sms_without_country_code_tells_what_to_write(text, suggestion):
    with pytest.raises(NumberError) as info:
        check_sms_destination(text)
    assert info.value.code == "not_international"
    assert str(info.value).endswith(f" as {suggestion}.")


def test_sms_without_country_code_and_not_a_japanese_number():
    with pytest.raises(NumberError) as info:
        check_sms_destination("81 90 1234")
    assert info.value.code == "not_international"
    assert "+81 90-1234-5678" in str(info.value)
    assert "81 90 1234" in str(info.value)


@pytest.mark.parametrize(
    "text, code",
    [
        ("", "empty_number"),
        ("+81 90-1234", "invalid_number"),
        ("+1 555", "invalid_number"),
        ("+81 90 abc", "invalid_number"),
    ],
)
def test_invalid_sms_destinations(text, code):
    with pytest.raises(NumberError) as info:
        check_sms_destination(text)
    assert info.value.code == code
    if text:
        assert text in str(info.value)
