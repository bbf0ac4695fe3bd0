"""One-time codes: shape, entropy, normalisation, hashing and verification."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.auth.errors import AuthArgumentError
from core.auth.one_time_codes import (
    CODE_COST,
    DUMMY_CODE_HASH,
    MAX_CODES_PER_ISSUE,
    OtpShape,
    generate_codes,
    hash_code,
    normalise_code,
    shape_of,
    verify_code,
)
from core.auth.passwords import ScryptCost, needs_rehash

CHEAP = ScryptCost(log2_n=4, r=8, p=1)


def test_generated_codes_are_typable_and_distinct() -> None:
    codes = generate_codes(MAX_CODES_PER_ISSUE)
    assert len(codes) == MAX_CODES_PER_ISSUE == len(set(codes))
    for code in codes:
        assert re.fullmatch(r"\d{4}-\d{4}-\d{4}", code)
        assert shape_of(code) is OtpShape.CODE


@pytest.mark.parametrize("count", [0, -1, MAX_CODES_PER_ISSUE + 1])
def test_count_out_of_range(count: int) -> None:
    with pytest.raises(AuthArgumentError):
        generate_codes(count)


def test_normalise_code() -> None:
    assert normalise_code(" 4821-0937 5512 ") == "482109375512"
    assert normalise_code("４８２１‐０９３７−５５１２") == "482109375512"
    assert normalise_code("x" * 1000) == ""


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("123456", OtpShape.TOTP),
        (" 123456", OtpShape.TOTP),
        ("1234-5678-9012", OtpShape.CODE),
        ("123456789012", OtpShape.CODE),
        ("1234 5678 9012", OtpShape.CODE),
        ("12345", OtpShape.INVALID),
        ("1234-5678-901", OtpShape.INVALID),
        ("abcd-efgh-ijkl", OtpShape.INVALID),
        ("", OtpShape.INVALID),
    ],
)
def test_shape_of(text: str, shape: OtpShape) -> None:
    assert shape_of(text) is shape


def test_hash_and_verify() -> None:
    code = generate_codes(1)[0]
    hashed = hash_code(code, cost=CHEAP)
    assert code not in hashed and code.replace("-", "") not in hashed
    assert verify_code(code, hashed)
    assert verify_code(code.replace("-", " "), hashed)
    other = "0000-0000-0000" if code != "0000-0000-0000" else "1111-1111-1111"
    assert not verify_code(other, hashed)
    assert not verify_code("garbage", hashed)
    assert not verify_code(code, "not a hash")


def test_hash_code_refuses_non_codes() -> None:
    with pytest.raises(AuthArgumentError):
        hash_code("123456", cost=CHEAP)


def test_default_code_cost_and_dummy() -> None:
    code = generate_codes(1)[0]
    assert verify_code(code, hash_code(code))
    assert not needs_rehash(DUMMY_CODE_HASH, CODE_COST)
    assert not verify_code(code, DUMMY_CODE_HASH)


@given(st.text(max_size=80))
def test_shape_and_normalise_never_raise(text: str) -> None:
    assert isinstance(shape_of(text), OtpShape)
    assert isinstance(normalise_code(text), str)
