"""Password rules: long enough is not enough; common and trivially patterned passwords are refused."""
import pytest

from ecti.errors import UserError
from ecti.i18n import localizer_for
from ecti.tenancy.services import check_password


@pytest.mark.parametrize("password, japanese", [
    ("aaaaaaaaaa", "繰り返し"),  # what the review got accepted
    ("abcabcabcabc", "繰り返し"),
    ("1234567890", "よく使われる"),
    ("password123", "よく使われる"),
    ("qwertyuiop", "よく使われる"),
    ("Passw0rd!!", "よく使われる"),
])
def test_common_and_repetitive_passwords_are_refused_with_a_reason(password, japanese):
    with pytest.raises(UserError) as refused:
        check_password(password)
    assert refused.value.code == "password_too_weak"
    assert japanese in localizer_for("ja").translate(refused.value.message)
    assert "Choose" in localizer_for("en").translate(refused.value.message)


@pytest.mark.parametrize("password", ["correct horse battery", "ecti-demo-admin", "長い日本語のパスフレーズです", "a fresh passphrase 42"])
def test_passphrases_pass(password):
    check_password(password)
