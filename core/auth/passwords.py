"""Password hashing with scrypt, a memory-hard KDF (``hashlib.scrypt``, backed by OpenSSL).

The encoded form is self-describing, so the cost can be raised later without breaking old
hashes: ``scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt, base64>$<hash, base64>``.

:func:`verify_password` never raises on malformed or hostile encodings and refuses cost
parameters above :data:`MAX_LOG2_N` / :data:`MAX_R` / :data:`MAX_P`, so a tampered row cannot make
us allocate gigabytes. :data:`DUMMY_HASH` lets a caller spend the same time on an unknown user.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass

from core.admin_api import has_invisible
from core.auth.errors import AuthArgumentError

# Cost: 128 * N * r bytes = 128 * 2**15 * 8 = 32 MiB per hash, ~0.1 s on one core here. Memory
# hardness is what makes GPU/ASIC guessing expensive; 32 MiB is OWASP's scrypt floor x4.
SCRYPT_LOG2_N = 15
# Block size 8 is the standard value the memory figure above assumes.
SCRYPT_R = 8
# One lane: parallelism would let an attacker trade memory for cores just as well as us.
SCRYPT_P = 1
# 16 random bytes of salt make precomputed tables useless (NIST SP 800-132 asks >= 128 bits).
SALT_BYTES = 16
# 32 bytes of output: a 256-bit digest, more than the entropy of any password.
HASH_BYTES = 32
# Upper bounds accepted when *verifying* a stored encoding: 8x the memory we write today leaves
# room to raise the cost later; anything larger is a corrupted or hostile row, not a password.
MAX_SCRYPT_MEMORY_BYTES = 256 * 1024 * 1024
MAX_LOG2_N = 20
MAX_R = 32
# p multiplies time (lanes run one after another in OpenSSL); 4 keeps a tampered row under ~1 s.
MAX_P = 4
# Longest password accepted, in UTF-8 bytes after normalisation. scrypt hashes any length, but a
# bound keeps a hostile client from feeding megabytes into the KDF.
MAX_PASSWORD_BYTES = 1024
# Shortest password an admin may choose (in characters, after normalisation): NIST SP 800-63B
# asks at least 8 of a password chosen by its user; 12 for an account that governs others.
# The initial ones the relay makes are 20 random characters.
MIN_CHOSEN_PASSWORD_CHARS = 12
# Memory OpenSSL may use: the largest cost we accept plus headroom for its bookkeeping.
_SCRYPT_MAXMEM = MAX_SCRYPT_MEMORY_BYTES + (1 << 24)

_ENCODING = re.compile(
    r"scrypt\$ln=(?P<ln>[0-9]{1,2}),r=(?P<r>[0-9]{1,2}),p=(?P<p>[0-9]{1,2})"
    r"\$(?P<salt>[A-Za-z0-9+/]+={0,2})\$(?P<hash>[A-Za-z0-9+/]+={0,2})"
)


@dataclass(frozen=True)
class ScryptCost:
    """scrypt parameters. Production uses :data:`DEFAULT_COST`; tests may pass a cheaper one."""

    log2_n: int = SCRYPT_LOG2_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    def __post_init__(self) -> None:
        in_range = 1 <= self.log2_n <= MAX_LOG2_N and 1 <= self.r <= MAX_R and 1 <= self.p <= MAX_P
        if not in_range or self.memory_bytes > MAX_SCRYPT_MEMORY_BYTES:
            raise AuthArgumentError(f"scrypt cost out of range: {self}")

    @property
    def memory_bytes(self) -> int:
        """Memory one hash needs: 128 * N * r bytes."""
        return 128 * (1 << self.log2_n) * self.r


DEFAULT_COST = ScryptCost()

# A hash of a random password nobody knows, at DEFAULT_COST: verify against it when the user does
# not exist so that the answer takes as long as for a real user. (A test checks its cost matches.)
DUMMY_HASH = (
    "scrypt$ln=15,r=8,p=1$z4tEXogYE+gg4qaUfksRNw==$nTy/i/rHg0PyN1k3sbzu9Z4K18xVDHWTj19vpolPcOA="
)


def _encode_password(password: str) -> bytes | None:
    """NFKC-normalise (full-width and half-width input type the same) and encode, or None."""
    try:
        data = unicodedata.normalize("NFKC", password).encode("utf-8")
    except (UnicodeError, TypeError):
        return None
    return data if len(data) <= MAX_PASSWORD_BYTES else None


class PasswordRule(enum.Enum):
    """Why :func:`chosen_password_problem` refuses a password someone chose."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    NOT_TEXT = "not_text"  # control or other invisible characters


def chosen_password_problem(password: str) -> PasswordRule | None:
    """What is wrong with ``password`` as a new password chosen by its user (None: nothing):
    at least :data:`MIN_CHOSEN_PASSWORD_CHARS` characters, at most :data:`MAX_PASSWORD_BYTES`
    bytes, and only characters that can be typed and seen (no controls: a tab or a newline
    pasted by mistake would lock the admin out)."""
    data = _encode_password(password)
    if data is None:
        return PasswordRule.TOO_LONG
    text = data.decode("utf-8")
    if has_invisible(text):
        return PasswordRule.NOT_TEXT
    if len(text) < MIN_CHOSEN_PASSWORD_CHARS:
        return PasswordRule.TOO_SHORT
    return None


def _scrypt(data: bytes, salt: bytes, cost: ScryptCost, length: int) -> bytes:
    return hashlib.scrypt(
        data, salt=salt, n=1 << cost.log2_n, r=cost.r, p=cost.p, maxmem=_SCRYPT_MAXMEM, dklen=length
    )


def hash_password(password: str, *, cost: ScryptCost = DEFAULT_COST) -> str:
    """Hash ``password`` with a fresh salt; returns the self-describing encoded string."""
    data = _encode_password(password)
    if data is None:
        raise AuthArgumentError(f"password must be text of at most {MAX_PASSWORD_BYTES} bytes")
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(data, salt, cost, HASH_BYTES)
    b64 = base64.b64encode
    return (
        f"scrypt$ln={cost.log2_n},r={cost.r},p={cost.p}${b64(salt).decode()}${b64(digest).decode()}"
    )


def verify_password(password: str, encoded: str) -> bool:
    """True if ``password`` matches ``encoded``. Constant-time compare; False for any bad input."""
    if not isinstance(encoded, str):
        return False
    match = _ENCODING.fullmatch(encoded)
    if match is None:
        return False
    try:
        cost = ScryptCost(int(match["ln"]), int(match["r"]), int(match["p"]))
        salt = base64.b64decode(match["salt"], validate=True)
        expected = base64.b64decode(match["hash"], validate=True)
    except (AuthArgumentError, binascii.Error, ValueError):
        return False
    if len(salt) < SALT_BYTES or not 16 <= len(expected) <= 64:
        return False
    data = _encode_password(password)
    # Hash even a rejected password so that the time taken does not say which check failed.
    actual = _scrypt(data if data is not None else b"", salt, cost, len(expected))
    return hmac.compare_digest(actual, expected) and data is not None


def needs_rehash(encoded: str, cost: ScryptCost = DEFAULT_COST) -> bool:
    """True if ``encoded`` was made with parameters other than ``cost`` (or is malformed)."""
    match = _ENCODING.fullmatch(encoded) if isinstance(encoded, str) else None
    if match is None:
        return True
    return (int(match["ln"]), int(match["r"]), int(match["p"])) != (cost.log2_n, cost.r, cost.p)
