"""Admin-issued single-use codes ("emergency OTP"): high entropy, typable, stored hashed.

A code looks like ``4821-0937-5512``: 12 random decimal digits (~40 bits) in groups of four.
Dashes and spaces are ignored when typed, and full-width digits count (NFKC), so the form is
forgiving while the entropy stays fixed. Each code is hashed with salted scrypt at
:data:`CODE_COST`, so a leaked database does not give the codes away to an offline search.
Single use is the store's job (mark used in the same atomic step that accepts the code).
"""

from __future__ import annotations

import secrets
import unicodedata
from enum import Enum

from core.auth.errors import AuthArgumentError
from core.auth.passwords import ScryptCost, hash_password, verify_password
from core.auth.totp import normalise_totp

# Digits per group and groups per code: 3 x 4 = 12 digits, log2(10**12) ~ 40 bits. With the
# per-user lockout (5 tries per 15 min) an online guess succeeds with odds ~1e-11 per window.
CODE_GROUP_DIGITS = 4
CODE_GROUPS = 3
CODE_DIGITS = CODE_GROUP_DIGITS * CODE_GROUPS
# Most codes one issue may create. The store checks a presented code against every live code
# of the user (salted hashes cannot be looked up), so this bounds the work of one login.
MAX_CODES_PER_ISSUE = 10
# scrypt at 4 MiB (~10 ms): MAX_CODES_PER_ISSUE of them per login stays ~0.1 s, while an offline
# search of 10**12 codes would take ~300 CPU-years per code.
CODE_COST = ScryptCost(log2_n=12, r=8, p=1)
# Longest raw input looked at; anything longer is not a code and is not worth normalising.
MAX_CODE_INPUT_CHARS = 64

# A hash of a code nobody holds, at CODE_COST, for equal work when a user has fewer live codes.
DUMMY_CODE_HASH = (
    "scrypt$ln=12,r=8,p=1$Cl7hMFoRY20lQUK3t27o4w==$qU2z7mo2YBKivIMmkLbIt84x1vnLgdBZmhzgauWMzKk="
)


# Dash-like characters people (and IMEs) type between groups: ASCII, hyphens, minus sign.
_DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2212")


class OtpShape(Enum):
    """What kind of one-time password a login form's input looks like."""

    TOTP = "totp"
    CODE = "code"
    INVALID = "invalid"


def generate_codes(count: int) -> list[str]:
    """``count`` fresh random codes, formatted ``dddd-dddd-dddd``."""
    if not 1 <= count <= MAX_CODES_PER_ISSUE:
        raise AuthArgumentError(f"count must be between 1 and {MAX_CODES_PER_ISSUE}, not {count}")
    codes = []
    for _ in range(count):
        digits = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        starts = range(0, CODE_DIGITS, CODE_GROUP_DIGITS)
        codes.append("-".join(digits[i : i + CODE_GROUP_DIGITS] for i in starts))
    return codes


def normalise_code(text: str) -> str:
    """``text`` after NFKC with spaces and dashes removed (not validated: see :func:`shape_of`)."""
    if not isinstance(text, str) or len(text) > MAX_CODE_INPUT_CHARS:
        return ""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if not ch.isspace() and ch not in _DASHES)


def _is_code(normalised: str) -> bool:
    return len(normalised) == CODE_DIGITS and normalised.isascii() and normalised.isdigit()


def shape_of(text: str) -> OtpShape:
    """Tell a TOTP (6 digits) from a one-time code (12 digits, dashes/spaces allowed)."""
    if normalise_totp(text) is not None:
        return OtpShape.TOTP
    return OtpShape.CODE if _is_code(normalise_code(text)) else OtpShape.INVALID


def hash_code(code: str, *, cost: ScryptCost = CODE_COST) -> str:
    """Salted scrypt hash of the normalised ``code``."""
    normalised = normalise_code(code)
    if not _is_code(normalised):
        raise AuthArgumentError("not a one-time code")
    return hash_password(normalised, cost=cost)


def verify_code(code: str, hashed: str) -> bool:
    """True if ``code`` (any accepted typing of it) matches ``hashed``. Never raises."""
    normalised = normalise_code(code)
    # Hash even a malformed input, against the real hash, to keep the time the same.
    return verify_password(normalised, hashed) and _is_code(normalised)
