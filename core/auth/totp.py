"""TOTP (RFC 6238) for staff logins: 30 s steps, 6 digits, one step of clock drift either way.

Replay protection is the caller's to store but ours to enforce: :func:`verify_totp` takes the
last time step already used and only accepts a strictly later one, so each code logs in once.
"""

from __future__ import annotations

import binascii
import hmac
import unicodedata

import pyotp

from core.auth.errors import AuthArgumentError

# RFC 6238's default step; what every authenticator app assumes.
TOTP_STEP_S = 30
# Digits per code; authenticator apps show 6 and the brief fixes it.
TOTP_DIGITS = 6
# Steps of clock drift tolerated either side of now (RFC 6238 section 5.2 recommends at most one).
TOTP_DRIFT_STEPS = 1
# 32 base32 characters = 160 bits, the HMAC-SHA1 key size RFC 4226 recommends.
TOTP_SECRET_CHARS = 32


def new_totp_secret() -> str:
    """A fresh random base32 secret of :data:`TOTP_SECRET_CHARS` characters."""
    return pyotp.random_base32(length=TOTP_SECRET_CHARS)


def _totp(secret: str) -> pyotp.TOTP:
    """A pyotp generator for ``secret``; :class:`AuthArgumentError` if it is not base32."""
    try:
        totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_S)
        totp.generate_otp(0)  # pyotp decodes lazily in some versions: fail here, not later
    except (binascii.Error, ValueError, TypeError) as exc:
        raise AuthArgumentError("TOTP secret is not valid base32") from exc
    return totp


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app scans as a QR code."""
    return _totp(secret).provisioning_uri(name=account, issuer_name=issuer)


def normalise_totp(code: str) -> str | None:
    """``code`` as exactly :data:`TOTP_DIGITS` ASCII digits, or None if it is not TOTP-shaped.

    NFKC first, so full-width digits typed through a Japanese IME count; outer spaces ignored.
    """
    if not isinstance(code, str) or len(code) > 4 * TOTP_DIGITS:
        return None
    text = unicodedata.normalize("NFKC", code).strip()
    if len(text) == TOTP_DIGITS and text.isascii() and text.isdigit():
        return text
    return None


def verify_totp(secret: str, code: str, now: float, last_used_step: int | None) -> int | None:
    """The time step ``code`` belongs to, if it is valid now and later than ``last_used_step``.

    Returns None for a wrong, malformed or replayed code. Every candidate step is computed and
    compared in constant time, so the time taken does not say which step (if any) matched.
    Raises :class:`AuthArgumentError` only if ``secret`` itself is not valid base32.
    """
    text = normalise_totp(code)
    totp = _totp(secret)
    current = int(now // TOTP_STEP_S)
    accepted: int | None = None
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        matches = hmac.compare_digest(totp.generate_otp(step), text or "")
        if matches and (last_used_step is None or step > last_used_step):
            accepted = step
    return accepted if text is not None else None
