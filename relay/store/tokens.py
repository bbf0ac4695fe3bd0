"""The 256-bit random tokens of the directory (enrolment tokens, host secrets, resume tickets).

They are stored only as SHA-256 digests: for secrets of that entropy a plain digest is enough,
and a stolen database gives nothing to present.
"""

from __future__ import annotations

import hashlib
import secrets

# Random bytes in enrolment tokens, host secrets and resume tickets: 256 bits, beyond guessing,
# which is why a plain SHA-256 digest is a safe way to store them.
TOKEN_BYTES = 32
# Longest token/secret/ticket text looked at; ours are 43 characters, anything longer is junk.
MAX_TOKEN_INPUT_LEN = 256

# Compared against when no stored digest exists, so a miss costs what a hit costs.
UNMATCHABLE_DIGEST = hashlib.sha256(secrets.token_bytes(TOKEN_BYTES)).hexdigest()


def new_token() -> str:
    """A fresh token; never one that starts with "-", which a command line (``telework-host
    --enroll TOKEN``) would take for an option (1 in 64 did; the entropy lost is negligible)."""
    while (token := secrets.token_urlsafe(TOKEN_BYTES)).startswith("-"):
        pass
    return token


def token_digest(token: object) -> str | None:
    """SHA-256 hex of a presented token, or None if it cannot be one of ours."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_INPUT_LEN:
        return None
    if not token.isascii():
        return None
    return hashlib.sha256(token.encode("ascii")).hexdigest()
