"""The enrolment code the console prints and the office PC's wizard reads: it round-trips, and
every kind of bad text is refused with a reason, never with a crash."""

from __future__ import annotations

import base64
import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.common.enrolment_code import (
    BAD_CONTENTS,
    DAMAGED,
    NEWER_VERSION,
    NOT_A_CODE,
    EnrolmentCode,
    EnrolmentCodeError,
    looks_like_code,
    parse_code,
)

FINGERPRINT = "0123456789abcdef" * 4
V1 = "TWENROLL1:"  # a code without the tenant's signing key
V2 = "TWENROLL2:"
TENANT_KEY = "fedcba9876543210" * 4
CODE = EnrolmentCode("relay.example.lg.jp:8443", FINGERPRINT, "tok_-123ABCxyz" * 3, "example-市")


def refused(text: str) -> str:
    with pytest.raises(EnrolmentCodeError) as error:
        parse_code(text)
    return error.value.reason


def test_a_code_round_trips_and_is_short_enough_to_print():
    text = CODE.encode()
    assert text.startswith(V1) and len(text) < 200
    assert parse_code(text) == CODE


def test_a_code_with_the_tenants_signing_key_is_version_2_and_carries_it():
    code = dataclasses.replace(CODE, tenant_key=TENANT_KEY.upper())
    text = code.encode()
    assert text.startswith(V2) and len(text) < 250
    assert parse_code(text) == dataclasses.replace(CODE, tenant_key=TENANT_KEY)
    assert parse_code(CODE.encode()).tenant_key == ""  # version 1 codes still read
    with pytest.raises(EnrolmentCodeError):
        dataclasses.replace(CODE, tenant_key="not a fingerprint").encode()


@pytest.mark.parametrize(
    "tail",
    [b"", b"\x20" + bytes(31), b"\x10" + bytes(16), b"\x20" + bytes(33)],
)
def test_a_version_2_code_without_a_whole_key_fingerprint_is_refused(tail):
    import hashlib

    payload = bytes(32) + b"\x06h:8443\x01t\x00" + tail
    body = payload + hashlib.sha256(payload).digest()[:4]
    assert refused(V2 + base64.urlsafe_b64encode(body).decode().rstrip("=")) == BAD_CONTENTS


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
        ("TWENROLL3:AAAA", NEWER_VERSION),
        ("TWENROLL0:AAAA", DAMAGED),
        (V1, DAMAGED),
        (V1 + "AAAA", DAMAGED),
        (V1 + "%%%%", DAMAGED),
        (V1 + "A", DAMAGED),
        (V1 + "A" * 3000, DAMAGED),
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
    return V1 + base64.urlsafe_b64encode(body).decode().rstrip("=")


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
    for text in (_with_checksum(payload), V1 + base64.urlsafe_b64encode(payload).decode()):
        try:
            parse_code(text)
        except EnrolmentCodeError:
            pass
