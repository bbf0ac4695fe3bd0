"""The enrolment code: everything an office PC needs to enrol, as one string to paste or scan.

The console makes it when it issues an enrolment token (and prints it with its QR code on the
enrolment sheet); the office PC's wizard reads it back, so nobody types a 64-digit fingerprint.

    TWENROLL1:<base64url, unpadded>
    TWENROLL2:<base64url, unpadded>   (with the tenant's signing key)

The payload is compact binary: the relay's SHA-256 fingerprint (32 bytes), then the relay's
address, the enrolment token and the tenant, each one length byte and UTF-8; in version 2 then
the fingerprint of the tenant's signing key for central home-PC registration (one length byte,
then 32 bytes; core.hostpolicy.signed_devices), which the office PC pins: it comes from the
console that printed the code, not from the relay, so a relay cannot put its own key there.
Then the first four bytes of the SHA-256 of all that, so that a code cut short or mistyped is
told apart from a valid one instead of enrolling against a wrong relay. Whitespace anywhere is
ignored (a printed code wraps over lines), and so is any text before the prefix.

Pure (no Qt, no I/O): a bad code raises :class:`EnrolmentCodeError` whose ``reason`` the apps
word in the user's language.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from core.crypto.certs import parse_fingerprint
from core.errors import Error
from core.hostpolicy.signed_devices import SignedListError, parse_key_fingerprint
from transport.connect import parse_host_port

VERSION = 2
# Codes without a tenant key stay version 1, so wizards older than central registration read them.
VERSIONS = (1, VERSION)
PREFIX = f"TWENROLL{VERSION}:"
# Any version of the prefix, to tell a newer code (not readable here) from no code at all.
_ANY_VERSION = re.compile(r"TWENROLL(\d+):", re.IGNORECASE)
FINGERPRINT_BYTES = 32
KEY_FINGERPRINT_BYTES = 32  # SHA-256 of the tenant's signing key
CHECKSUM_BYTES = 4
MAX_FIELD_BYTES = 255  # one length byte
# Longest text looked at: three full fields, two fingerprints and the checksum in base64, and
# room for wrapping and words around it. Anything longer is not a code of ours.
MAX_CODE_CHARS = 2000


class EnrolmentCodeError(ValueError):
    """Not a usable enrolment code; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Why a code is refused: no code in the text, a code made by a newer console, a code that is
# incomplete or mistyped (the checksum or the encoding is wrong), or one whose contents are not
# a relay address, a fingerprint and a token.
NOT_A_CODE, NEWER_VERSION, DAMAGED, BAD_CONTENTS = "not_a_code", "newer_version", "damaged", "bad"
REASONS = (NOT_A_CODE, NEWER_VERSION, DAMAGED, BAD_CONTENTS)


@dataclass(frozen=True)
class EnrolmentCode:
    relay: str  # HOST:PORT, as office PCs reach the relay
    fingerprint: str  # the relay certificate's SHA-256, 64 lowercase hex digits
    token: str  # the single-use enrolment token
    tenant: str  # the municipality the token enrols into (shown, not sent)
    # The fingerprint of the tenant's signing key (64 lowercase hex digits), pinned by the
    # office PC; "" if the tenant has none (a version 1 code).
    tenant_key: str = ""

    def encode(self) -> str:
        """The code as text: its prefix and the payload in base64url."""
        pin = parse_fingerprint(self.fingerprint)
        body = bytearray(bytes.fromhex(pin))
        for field in (self.relay, self.token, self.tenant):
            data = field.encode()
            if len(data) > MAX_FIELD_BYTES:
                raise EnrolmentCodeError(BAD_CONTENTS)
            body += bytes([len(data)]) + data
        version = 1
        if self.tenant_key:
            try:
                key = bytes.fromhex(parse_key_fingerprint(self.tenant_key))
            except SignedListError:
                raise EnrolmentCodeError(BAD_CONTENTS) from None
            body += bytes([len(key)]) + key
            version = VERSION
        body += hashlib.sha256(body).digest()[:CHECKSUM_BYTES]
        encoded = base64.urlsafe_b64encode(bytes(body)).decode().rstrip("=")
        return f"TWENROLL{version}:{encoded}"


def looks_like_code(text: str) -> bool:
    """Whether ``text`` holds an enrolment code of some version (perhaps a damaged one)."""
    return _ANY_VERSION.search(text[:MAX_CODE_CHARS]) is not None


def parse_code(text: str) -> EnrolmentCode:
    """The enrolment code in ``text``; :class:`EnrolmentCodeError` if there is none or it is
    not usable. Never anything else, whatever ``text`` is."""
    if len(text) > MAX_CODE_CHARS:
        raise EnrolmentCodeError(DAMAGED if looks_like_code(text) else NOT_A_CODE)
    compact = "".join(text.split())
    match = _ANY_VERSION.search(compact)
    if match is None:
        raise EnrolmentCodeError(NOT_A_CODE)
    version = int(match[1])
    if version not in VERSIONS:
        raise EnrolmentCodeError(NEWER_VERSION if version > VERSION else DAMAGED)
    body = _decode(compact[match.end() :])
    if len(body) < FINGERPRINT_BYTES + 3 + CHECKSUM_BYTES:
        raise EnrolmentCodeError(DAMAGED)
    payload, checksum = body[:-CHECKSUM_BYTES], body[-CHECKSUM_BYTES:]
    if hashlib.sha256(payload).digest()[:CHECKSUM_BYTES] != checksum:
        raise EnrolmentCodeError(DAMAGED)
    fingerprint = payload[:FINGERPRINT_BYTES].hex()
    fields, rest = [], payload[FINGERPRINT_BYTES:]
    for _ in range(3):
        if not rest or len(rest) < 1 + rest[0]:
            raise EnrolmentCodeError(BAD_CONTENTS)
        fields.append(rest[1 : 1 + rest[0]])
        rest = rest[1 + rest[0] :]
    tenant_key = ""
    if version >= 2:
        if len(rest) != 1 + KEY_FINGERPRINT_BYTES or rest[0] != KEY_FINGERPRINT_BYTES:
            raise EnrolmentCodeError(BAD_CONTENTS)
        tenant_key, rest = rest[1:].hex(), b""
    if rest:
        raise EnrolmentCodeError(BAD_CONTENTS)
    try:
        relay, token, tenant = (field.decode() for field in fields)
        parse_host_port(relay)
    except (UnicodeDecodeError, Error) as exc:
        raise EnrolmentCodeError(BAD_CONTENTS) from exc
    if not token.strip():
        raise EnrolmentCodeError(BAD_CONTENTS)
    return EnrolmentCode(relay, fingerprint, token, tenant, tenant_key)


def _decode(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise EnrolmentCodeError(DAMAGED)
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise EnrolmentCodeError(DAMAGED) from exc


def group_fingerprint(fingerprint: str) -> str:
    """64 hex digits in groups of four, two lines, for comparing against a printed sheet."""
    groups = [fingerprint[i : i + 4].upper() for i in range(0, len(fingerprint), 4)]
    return " ".join(groups[:8]) + "\n" + " ".join(groups[8:])
