"""The console's reading of a staff CSV file: encodings (UTF-8 with or without a BOM,
Shift_JIS), headings in Japanese or English, each row's outcome before anything is sent."""

from __future__ import annotations

import re

import pytest

from apps.admin.staff_csv import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    CsvRefused,
    Outcome,
    against,
    decode,
    read_rows,
)
from apps.admin.texts import tr
from core.admin_api import MAX_FULL_NAME_LEN

JAPANESE = "職員ID,氏名,所属\r\nsato,佐藤 一郎,税務課\r\nkato,加藤 花子,市民課\r\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (JAPANESE.encode("utf-8"), "UTF-8"),
        (JAPANESE.encode("utf-8-sig"), "UTF-8 (BOM)"),
        (JAPANESE.encode("cp932"), "Shift_JIS"),
    ],
)
def test_each_encoding_reads_the_same(data: bytes, encoding: str) -> None:
    text, found = decode(data)
    assert found == encoding
    rows = read_rows(text)
    assert [(r.line, r.login, r.full_name, r.department) for r in rows] == [
        (2, "sato", "佐藤 一郎", "税務課"),
        (3, "kato", "加藤 花子", "市民課"),
    ]
    assert all(r.outcome is Outcome.NEW for r in rows)


def test_cp932_only_characters_and_undecodable_bytes() -> None:
    # ①, ㈱ and 髙 are in cp932 (Excel's Shift_JIS) but not in plain Shift_JIS.
    text, encoding = decode("login,full_name\nsato,髙橋 ①㈱\n".encode("cp932"))
    assert encoding == "Shift_JIS" and read_rows(text)[0].full_name == "髙橋 ①㈱"
    with pytest.raises(CsvRefused, match=re.escape(tr("import_not_decodable"))):
        decode(b"login\n\x81\x00\xff\n")
    with pytest.raises(CsvRefused):
        decode(b"x" * (MAX_IMPORT_BYTES + 1))


def test_english_headings_any_order_and_missing_columns() -> None:
    rows = read_rows("Department, Login\nTax,sato\n\n,kato\n")
    assert [(r.line, r.login, r.full_name, r.department) for r in rows] == [
        (2, "sato", "", "Tax"),
        (4, "kato", "", ""),
    ]
    with pytest.raises(CsvRefused, match=re.escape(tr("import_no_header"))):
        read_rows("sato,佐藤 一郎,税務課\n")
    with pytest.raises(CsvRefused):
        read_rows("")


def test_invalid_rows_say_why_and_the_rest_go_ahead() -> None:
    long_name = "x" * (MAX_FULL_NAME_LEN + 1)
    text = (
        "職員ID,氏名,所属\n"
        ",名無し,\n"
        f"suzuki,{long_name},\n"
        "tanaka,田中\x07,\n"
        "sato,佐藤,\n"
        "sato,佐藤 二郎,\n"
        "ito,伊藤,総務課\n"
    )
    rows = read_rows(text)
    reasons = {r.line: (r.outcome, r.reason) for r in rows}
    assert reasons[2] == (Outcome.INVALID, tr("import_no_login"))
    too_long = tr("import_too_long", field=tr("col_full_name"), maximum=MAX_FULL_NAME_LEN)
    assert reasons[3] == (Outcome.INVALID, too_long)
    assert reasons[4] == (Outcome.INVALID, tr("import_not_text", field=tr("col_full_name")))
    assert reasons[5] == (Outcome.NEW, "")
    assert reasons[6] == (Outcome.INVALID, tr("import_repeated", line=5))
    assert reasons[7] == (Outcome.NEW, "")


def test_staff_already_there_are_marked() -> None:
    rows = against(read_rows("login\nsato\nｋａｔｏ\nito\n"), ["kato", "sato"])
    assert [r.outcome for r in rows] == [Outcome.EXISTS, Outcome.EXISTS, Outcome.NEW]


def test_too_many_rows_are_refused_as_a_whole() -> None:
    text = "login\n" + "".join(f"u{i}\n" for i in range(MAX_IMPORT_ROWS + 1))
    with pytest.raises(CsvRefused):
        read_rows(text)
    assert len(read_rows("login\n" + "".join(f"u{i}\n" for i in range(MAX_IMPORT_ROWS)))) == 500
