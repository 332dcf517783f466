"""The CSV format shared by every export and import (billing, reports, dialing lists, contacts)."""
import csv
import io

import pytest

from ecti.spreadsheets import UnknownEncoding, decode_excel_csv, excel_csv


def test_written_csv_opens_in_japanese_excel_and_runs_no_formula():
    data = excel_csv(["会社", "件数"], [["=HYPERLINK(\"http://evil\")", 3], ["山田商事", None], ["+81", True], ["-1", 0]])
    assert data.startswith(b"\xef\xbb\xbf")  # without the BOM Excel reads UTF-8 as Shift_JIS
    text = data.decode("utf-8-sig")
    assert text.count("\r\n") == 5 and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["会社", "件数"], ["'=HYPERLINK(\"http://evil\")", "3"], ["山田商事", ""], ["'+81", "1"], ["'-1", "0"]]


@pytest.mark.parametrize("encoded, label", [
    ("電話番号,名前\r\n0312345678,山田\r\n".encode("utf-8-sig"), "UTF-8 (BOM)"),
    ("電話番号,名前\r\n0312345678,山田\r\n".encode("utf-8"), "UTF-8"),
    ("電話番号,名前\r\n0312345678,髙橋①\r\n".encode("cp932"), "Shift_JIS"),  # CP932-only characters too
])
def test_what_excel_saves_is_read(encoded, label):
    text, found = decode_excel_csv(encoded)
    assert found == label and text.splitlines()[0] == "電話番号,名前"


@pytest.mark.parametrize("encoded", ["電話番号\r\n".encode("utf-16"), b"\x82\xa0\xff\xfe\x81"])
def test_other_encodings_are_refused_not_guessed(encoded):
    with pytest.raises(UnknownEncoding):
        decode_excel_csv(encoded)
