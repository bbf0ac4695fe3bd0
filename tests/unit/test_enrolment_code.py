"""The enrolment code the console prints and the office PC's wizard reads: it round-trips, and
every kind of bad text is refused with a reason, never with a crash."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.common.enrolment_code import (
    BAD_CONTENTS,
    DAMAGED,
    NEWER_VERSION,
    NOT_A_CODE,
    PREFIX,
    EnrolmentCode,
    EnrolmentCodeError,
    looks_like_code,
    parse_code,
)

FINGERPRINT = "0123456789abcdef" * 4
CODE = EnrolmentCode("relay.example.lg.jp:8443", FINGERPRINT, "tok_-123ABCxyz" * 3, "example-市")


def refused(text: str) -> str:
    with pytest.raises(EnrolmentCodeError) as error:
        parse_code(text)
    return error.value.reason


def test_a_code_round_trips_and_is_short_enough_to_print():
    text = CODE.encode()
    assert text.startswith(PREFIX) and len(text) < 200
    assert parse_code(text) == CODE


def test_whitespace_line_breaks_and_words_around_the_code_are_ignored():
    text = CODE.encode()
    wrapped = "\n".join(text[i : i + 30] for i in range(0, len(text), 30))
    assert parse_code(f"  登録コード: {wrapped} \n") == CODE
    assert parse_code(text.replace("TWENROLL", "twenroll")) == CODE
    assert looks_like_code(wrapped) and not looks_like_code("relay.example:8443")


def test_an_uppercase_fingerprint_is_stored_lowercase():
    code = EnrolmentCode("10.0.0.1:8443", FINGERPRINT.upper(), "t", "")
    assert parse_code(code.encode()).fingerprint == FINGERPRINT


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", NOT_A_CODE),
        ("ab" * 32, NOT_A_CODE),
        ("TWENROLL2:AAAA", NEWER_VERSION),
        ("TWENROLL0:AAAA", DAMAGED),
        (PREFIX, DAMAGED),
        (PREFIX + "AAAA", DAMAGED),
        (PREFIX + "%%%%", DAMAGED),
        (PREFIX + "A", DAMAGED),
        (PREFIX + "A" * 3000, DAMAGED),
        ("x" * 3000, NOT_A_CODE),
    ],
)
def test_bad_text_is_refused_with_a_reason(text, reason):
    assert refused(text) == reason


def test_a_code_cut_short_or_mistyped_is_damaged():
    text = CODE.encode()
    assert refused(text[:-3]) == DAMAGED
    middle = len(text) // 2
    typo = "B" if text[middle] != "B" else "C"
    assert refused(text[:middle] + typo + text[middle + 1 :]) == DAMAGED


def _with_checksum(payload: bytes) -> str:
    import hashlib

    body = payload + hashlib.sha256(payload).digest()[:4]
    return PREFIX + base64.urlsafe_b64encode(body).decode().rstrip("=")


@pytest.mark.parametrize(
    "payload",
    [
        bytes(32) + b"\x05abc",  # a field longer than what is left
        bytes(32) + b"\x03a:1\x01t\x00extra",  # bytes after the three fields
        bytes(32) + b"\x09no-a-port\x01t\x00",  # not HOST:PORT
        bytes(32) + b"\x06h:8443\x00\x00",  # no token
        bytes(32) + b"\x06h:8443\x02\xff\xfe\x00",  # not UTF-8
    ],
)
def test_well_formed_codes_with_unusable_contents_are_refused(payload):
    assert refused(_with_checksum(payload)) == BAD_CONTENTS


def test_a_field_too_long_cannot_be_encoded():
    with pytest.raises(EnrolmentCodeError):
        EnrolmentCode("h:1", FINGERPRINT, "t" * 300, "").encode()


@given(st.text(max_size=400))
def test_no_text_crashes_the_parser(text):
    try:
        parse_code(text)
    except EnrolmentCodeError:
        pass


@given(st.binary(max_size=300))
def test_no_payload_crashes_the_parser(payload):
    for text in (_with_checksum(payload), PREFIX + base64.urlsafe_b64encode(payload).decode()):
        try:
            parse_code(text)
        except EnrolmentCodeError:
            pass
