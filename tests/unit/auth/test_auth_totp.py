"""TOTP: accepted step, drift of one step, replay refusal, malformed input."""

from __future__ import annotations

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.auth.errors import AuthArgumentError
from core.auth.totp import (
    TOTP_SECRET_CHARS,
    new_totp_secret,
    normalise_totp,
    provisioning_uri,
    verify_totp,
)

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_700_000_015.0  # step 56_666_667, 15 s into it
STEP = int(NOW // 30)


def code_at(step: int) -> str:
    return pyotp.TOTP(SECRET).generate_otp(step)


def test_new_secret_is_base32_of_160_bits() -> None:
    secret = new_totp_secret()
    assert len(secret) == TOTP_SECRET_CHARS
    assert secret != new_totp_secret()
    assert len(pyotp.TOTP(secret).now()) == 6


def test_provisioning_uri() -> None:
    uri = provisioning_uri(SECRET, "taro@yokohama", "Telework")
    assert uri.startswith("otpauth://totp/Telework:taro%40yokohama?")
    assert f"secret={SECRET}" in uri and "issuer=Telework" in uri


def test_current_code_returns_its_step() -> None:
    assert verify_totp(SECRET, code_at(STEP), NOW, None) == STEP


@pytest.mark.parametrize("offset", [-1, 1])
def test_one_step_of_drift_is_accepted(offset: int) -> None:
    assert verify_totp(SECRET, code_at(STEP + offset), NOW, None) == STEP + offset


@pytest.mark.parametrize("offset", [-2, 2, 100])
def test_more_drift_is_refused(offset: int) -> None:
    assert verify_totp(SECRET, code_at(STEP + offset), NOW, None) is None


def test_replay_is_refused() -> None:
    code = code_at(STEP)
    used = verify_totp(SECRET, code, NOW, None)
    assert used == STEP
    assert verify_totp(SECRET, code, NOW, used) is None
    assert verify_totp(SECRET, code, NOW + 10, used) is None


def test_older_step_after_newer_one_is_refused() -> None:
    assert verify_totp(SECRET, code_at(STEP - 1), NOW, STEP) is None
    assert verify_totp(SECRET, code_at(STEP + 1), NOW, STEP) == STEP + 1


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "12345a", "abcdef", "12 345", "-12345"])
def test_malformed_codes_are_refused(bad: str) -> None:
    assert normalise_totp(bad) is None
    assert verify_totp(SECRET, bad, NOW, None) is None


def test_full_width_digits_and_outer_spaces_are_accepted() -> None:
    code = code_at(STEP)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert verify_totp(SECRET, full_width, NOW, None) == STEP
    assert verify_totp(SECRET, f" {code} ", NOW, None) == STEP


def test_non_ascii_digits_are_refused() -> None:
    assert normalise_totp("١٢٣٤٥٦") is None  # Arabic-Indic digits: isdigit() but not ours


def test_bad_secret_is_a_local_error() -> None:
    with pytest.raises(AuthArgumentError):
        verify_totp("not base32 !!", "123456", NOW, None)


@given(st.text(max_size=40))
def test_any_input_is_none_or_a_step(code: str) -> None:
    result = verify_totp(SECRET, code, NOW, None)
    assert result is None or STEP - 1 <= result <= STEP + 1
