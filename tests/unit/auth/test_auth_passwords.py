"""Password hashing: round trip, cost encoding, malformed encodings never raise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.auth import passwords
from core.auth.errors import AuthArgumentError
from core.auth.passwords import (
    DEFAULT_COST,
    DUMMY_HASH,
    MAX_PASSWORD_BYTES,
    ScryptCost,
    hash_password,
    needs_rehash,
    verify_password,
)

CHEAP = ScryptCost(log2_n=4, r=8, p=1)


def test_round_trip_and_wrong_password() -> None:
    encoded = hash_password("correct horse", cost=CHEAP)
    assert encoded.startswith("scrypt$ln=4,r=8,p=1$")
    assert verify_password("correct horse", encoded)
    assert not verify_password("correct horsE", encoded)
    assert not verify_password("", encoded)


def test_salt_makes_hashes_differ() -> None:
    assert hash_password("pw", cost=CHEAP) != hash_password("pw", cost=CHEAP)


def test_full_width_input_is_the_same_password() -> None:
    encoded = hash_password("Pass123", cost=CHEAP)
    assert verify_password("Ｐａｓｓ１２３", encoded)


def test_default_cost_is_32_mib_and_dummy_hash_uses_it() -> None:
    assert DEFAULT_COST.memory_bytes == 32 * 1024 * 1024
    assert not needs_rehash(DUMMY_HASH)
    assert not verify_password("anything", DUMMY_HASH)


def test_default_cost_round_trip() -> None:
    encoded = hash_password("pw")
    assert verify_password("pw", encoded)
    assert not needs_rehash(encoded)
    assert needs_rehash(hash_password("pw", cost=CHEAP))


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "scrypt",
        "plain-text-password",
        "scrypt$ln=4,r=8,p=1$$",
        "scrypt$ln=4,r=8,p=1$c2FsdA==$aGFzaA==",  # salt and hash too short
        "scrypt$ln=4,r=8,p=1$!!!!$????",
        "scrypt$ln=99,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$ln=20,r=32,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$ln=4,r=8,p=99$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$ln=0,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "bcrypt$2b$12$abcdefghijklmnopqrstuv",
        "scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA\n",
    ],
)
def test_malformed_encodings_are_false_not_errors(encoded: str) -> None:
    assert verify_password("pw", encoded) is False


def test_non_string_inputs_are_false() -> None:
    encoded = hash_password("pw", cost=CHEAP)
    assert verify_password(None, encoded) is False  # type: ignore[arg-type]
    assert verify_password("pw", None) is False  # type: ignore[arg-type]
    assert verify_password("\ud800", encoded) is False  # lone surrogate cannot be encoded


def test_overlong_password() -> None:
    with pytest.raises(AuthArgumentError):
        hash_password("x" * (MAX_PASSWORD_BYTES + 1), cost=CHEAP)
    encoded = hash_password("x" * MAX_PASSWORD_BYTES, cost=CHEAP)
    assert verify_password("x" * MAX_PASSWORD_BYTES, encoded)
    assert not verify_password("x" * (MAX_PASSWORD_BYTES + 1), encoded)


@pytest.mark.parametrize("cost", [(0, 8, 1), (21, 8, 1), (18, 32, 1), (4, 8, 5)])
def test_cost_out_of_range(cost: tuple[int, int, int]) -> None:
    with pytest.raises(AuthArgumentError):
        ScryptCost(*cost)


@given(st.text(max_size=200))
def test_any_text_as_encoding_is_false_not_error(encoded: str) -> None:
    assert verify_password("pw", encoded) is False


@given(st.text(max_size=18))  # NFKC can grow a character to 54 bytes: stay under the cap
def test_any_password_round_trips(password: str) -> None:
    assert verify_password(password, hash_password(password, cost=CHEAP))


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("hosoku-kaisei-2026", None),
        ("ほそくかいせいにせんにじゅうろく", None),
        ("x" * (passwords.MIN_CHOSEN_PASSWORD_CHARS - 1), passwords.PasswordRule.TOO_SHORT),
        # Full-width letters count as their half-width selves (NFKC), still 12 characters.
        ("ＡＢＣＤＥＦＧＨＩＪＫＬ", None),
        ("𠮷" * 257, passwords.PasswordRule.TOO_LONG),  # 1028 bytes
        ("hosoku\nkaisei-2026", passwords.PasswordRule.NOT_TEXT),
        ("hosoku\u200bkaisei-2026", passwords.PasswordRule.NOT_TEXT),
    ],
)
def test_chosen_password_rules(password: str, problem: object) -> None:
    assert passwords.chosen_password_problem(password) is problem
