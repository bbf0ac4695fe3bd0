"""Central registration of home PCs, signed by a tenant admin key the relay does not hold.

An office PC's own list of home-PC codes (:mod:`core.hostpolicy.devices`) is edited at the
office PC. Admins can also register home PCs centrally, from the admin console, but the relay
that carries the registration to the office PC must not be able to forge one: each office PC's
**central list** is a snapshot signed with the tenant's **signing key** (Ed25519), which lives
only on the admins' PCs, sealed by a passphrase. The relay stores and pushes the signed
snapshot; the office PC checks it against the key fingerprint it pinned at enrolment (the
enrolment code the console printed carries it, so the relay cannot substitute its own key).

A snapshot names one tenant and one office PC (host ID) and carries a **serial** that only
grows: the office PC applies a snapshot only if its serial is higher than the one it applied
last, so a relay cannot replay an older snapshot (one that still had a home PC an admin has
since removed). The effective list is the office PC's own list and its verified central one.

Wire form (:class:`SignedDeviceList`): the snapshot as canonical JSON text (``payload``), the
Ed25519 signature over :data:`SIGNATURE_CONTEXT` + payload bytes, and the signer's public key
(raw, base64), which must match the pinned fingerprint (SHA-256 of the raw key, 64 hex digits).

Pure (no Qt, no sockets, no files): the apps store what these functions produce. Every refusal
is a :class:`SignedListError` whose ``reason`` (one of :data:`REASONS`) the apps word for people.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.errors import Error
from core.hostpolicy.devices import (
    MAX_DEVICE_LABEL_CHARS,
    MAX_DEVICES,
    RegisteredDevice,
    parse_device_code,
)
from core.policy import PolicyError

FORMAT_VERSION = 1
# Signed together with the payload, so a signature made for anything else never passes as one.
SIGNATURE_CONTEXT = b"telework central device list v1\n"
PUBLIC_KEY_BYTES = 32
KEY_FINGERPRINT_HEX_CHARS = 64
# The snapshot travels as one control-message string (core.protocol.control.MAX_STRING_CHARS);
# MAX_DEVICES entries with full labels fit in it, and signing refuses anything longer.
MAX_SIGNED_PAYLOAD_CHARS = 8 * 1024
# A passphrase for the tenant's signing key: long enough that a stolen key file resists
# guessing (the file is sealed with scrypt-derived AES, cryptography's BestAvailableEncryption);
# bounded so a paste of a whole document is refused rather than hashed.
MIN_PASSPHRASE_CHARS = 12
MAX_PASSPHRASE_CHARS = 1024
# The key file an admin exports for another admin of the tenant: a few hundred bytes.
MAX_KEY_FILE_BYTES = 16 * 1024

_FINGERPRINT_RE = re.compile(r"^[0-9a-f]{64}$")


class SignedListError(Error):
    """A signed device list or a signing key was refused; ``reason`` says why (see REASONS)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


# Why: the message is not a signed list of ours; it is signed by a key other than the pinned
# one; the signature does not verify; it is for another tenant or office PC; its serial is not
# above the last applied (a replay); it would be too long; no tenant key is pinned; the key
# file or passphrase is wrong; the passphrase is too short or too long.
MALFORMED = "malformed"
UNKNOWN_KEY = "unknown_key"
BAD_SIGNATURE = "bad_signature"
WRONG_TENANT = "wrong_tenant"
WRONG_HOST = "wrong_host"
REPLAYED = "replayed"
TOO_LARGE = "too_large"
NOT_PINNED = "not_pinned"
BAD_KEY_FILE = "bad_key_file"
WRONG_PASSPHRASE = "wrong_passphrase"  # noqa: S105 - a reason code
WEAK_PASSPHRASE = "weak_passphrase"  # noqa: S105 - a reason code
REASONS = (
    MALFORMED,
    UNKNOWN_KEY,
    BAD_SIGNATURE,
    WRONG_TENANT,
    WRONG_HOST,
    REPLAYED,
    TOO_LARGE,
    NOT_PINNED,
    BAD_KEY_FILE,
    WRONG_PASSPHRASE,
    WEAK_PASSPHRASE,
)


# -- keys -----------------------------------------------------------------------------------------
def public_key_text(key: Ed25519PublicKey) -> str:
    """The raw public key in base64, as the relay stores it and a signed list carries it."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A public key in :func:`public_key_text` form; :class:`SignedListError` if it is none."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise SignedListError(MALFORMED, "the public key is not base64") from None
    if len(raw) != PUBLIC_KEY_BYTES:
        raise SignedListError(MALFORMED, f"a public key is {PUBLIC_KEY_BYTES} bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def key_fingerprint(public_key: str) -> str:
    """The SHA-256 of the raw public key (given as :func:`public_key_text`), 64 hex digits:
    what office PCs pin and people compare."""
    key = parse_public_key(public_key)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def parse_key_fingerprint(text: str) -> str:
    """A key fingerprint as typed (spaces, colons, any case) as 64 lowercase hex digits."""
    bare = re.sub(r"[\s:]", "", text).lower()
    if not _FINGERPRINT_RE.match(bare):
        raise SignedListError(MALFORMED, "a tenant key fingerprint is 64 hex digits")
    return bare


def check_passphrase(passphrase: str) -> None:
    if not MIN_PASSPHRASE_CHARS <= len(passphrase) <= MAX_PASSPHRASE_CHARS:
        raise SignedListError(
            WEAK_PASSPHRASE,
            f"a passphrase has {MIN_PASSPHRASE_CHARS} to {MAX_PASSPHRASE_CHARS} characters",
        )


@dataclass(frozen=True)
class TenantKeyFile:
    """The tenant's signing key as the console keeps it: the private key sealed by the
    passphrase (encrypted PKCS#8 PEM) beside its public key, which is readable without it."""

    tenant: str
    public_key: str  # public_key_text form
    sealed_private_key: str  # encrypted PKCS#8 PEM

    @classmethod
    def create(cls, tenant: str, passphrase: str) -> TenantKeyFile:
        """A new signing key for ``tenant``, sealed by ``passphrase``."""
        check_passphrase(passphrase)
        key = Ed25519PrivateKey.generate()
        sealed = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase.encode()),
        )
        return cls(tenant, public_key_text(key.public_key()), sealed.decode())

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(self.public_key)

    def unseal(self, passphrase: str) -> Ed25519PrivateKey:
        """The private key; :class:`SignedListError` (WRONG_PASSPHRASE) if it does not open."""
        if len(passphrase) > MAX_PASSPHRASE_CHARS:
            raise SignedListError(WRONG_PASSPHRASE)
        try:
            key = serialization.load_pem_private_key(
                self.sealed_private_key.encode(), passphrase.encode()
            )
        except (ValueError, TypeError):
            raise SignedListError(WRONG_PASSPHRASE) from None
        if not isinstance(key, Ed25519PrivateKey) or public_key_text(
            key.public_key()
        ) != public_key_text(parse_public_key(self.public_key)):
            raise SignedListError(BAD_KEY_FILE, "the private key does not match its public key")
        return key

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "telework-tenant-signing-key",
            "version": FORMAT_VERSION,
            "tenant": self.tenant,
            "public_key": self.public_key,
            "fingerprint": self.fingerprint,
            "sealed_private_key": self.sealed_private_key,
        }

    @classmethod
    def from_bytes(cls, data: bytes) -> TenantKeyFile:
        """A key file as read from disk; :class:`SignedListError` (BAD_KEY_FILE) if it is none."""
        if len(data) > MAX_KEY_FILE_BYTES:
            raise SignedListError(BAD_KEY_FILE, "too long")
        try:
            raw = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise SignedListError(BAD_KEY_FILE, "not JSON") from None
        if not isinstance(raw, dict) or raw.get("format") != "telework-tenant-signing-key":
            raise SignedListError(BAD_KEY_FILE, "not a tenant signing key file")
        fields = [raw.get(name) for name in ("tenant", "public_key", "sealed_private_key")]
        if not all(isinstance(value, str) for value in fields):
            raise SignedListError(BAD_KEY_FILE, "incomplete")
        tenant, public_key, sealed = (str(value) for value in fields)
        try:
            parse_public_key(public_key)
        except SignedListError:
            raise SignedListError(BAD_KEY_FILE, "its public key is malformed") from None
        return cls(tenant, public_key, sealed)


# -- the signed list -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CentralDeviceList:
    """One office PC's centrally registered home PCs, as an admin signed them."""

    tenant: str
    host_id: str
    serial: int
    issued_at: int  # epoch seconds, for people; the serial orders snapshots
    devices: tuple[RegisteredDevice, ...] = ()

    def accepts(self, code: str) -> bool:
        return any(d.code == code for d in self.devices)

    def canonical(self) -> str:
        body = {
            "v": FORMAT_VERSION,
            "tenant": self.tenant,
            "host_id": self.host_id,
            "serial": self.serial,
            "issued_at": self.issued_at,
            "devices": [{"code": d.code, "label": d.label} for d in self.devices],
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class SignedDeviceList:
    """A central list as it travels and is stored: payload, signature, signer's public key."""

    payload: str
    signature: str  # base64
    public_key: str  # public_key_text form

    def to_json(self) -> dict[str, str]:
        return {"payload": self.payload, "signature": self.signature, "public_key": self.public_key}

    @classmethod
    def from_json(cls, raw: object) -> SignedDeviceList:
        if not isinstance(raw, dict):
            raise SignedListError(MALFORMED, "not an object")
        values = [raw.get(name) for name in ("payload", "signature", "public_key")]
        if not all(isinstance(value, str) for value in values):
            raise SignedListError(MALFORMED, "payload, signature and public_key are text")
        payload, signature, public_key = (str(value) for value in values)
        return cls(payload, signature, public_key)


def next_serial(previous: int, now: float) -> int:
    """The serial of the next snapshot: above ``previous``, and at least the time in
    milliseconds, so two admins (or a console whose relay hid the latest snapshot) still move
    forward."""
    return max(previous + 1, int(now * 1000))


def sign_device_list(central: CentralDeviceList, key: Ed25519PrivateKey) -> SignedDeviceList:
    """Sign ``central``; :class:`SignedListError` (TOO_LARGE) if it would not fit the wire."""
    payload = central.canonical()
    if len(payload) > MAX_SIGNED_PAYLOAD_CHARS:
        raise SignedListError(TOO_LARGE, f"more than {MAX_SIGNED_PAYLOAD_CHARS} characters")
    signature = key.sign(SIGNATURE_CONTEXT + payload.encode())
    return SignedDeviceList(
        payload, base64.b64encode(signature).decode(), public_key_text(key.public_key())
    )


def open_device_list(signed: SignedDeviceList, fingerprint: str) -> CentralDeviceList:
    """The list ``signed`` carries, if the key of ``fingerprint`` signed it; no host checks
    (see :func:`verify_device_list`)."""
    if len(signed.payload) > MAX_SIGNED_PAYLOAD_CHARS:
        raise SignedListError(TOO_LARGE)
    key = parse_public_key(signed.public_key)
    if key_fingerprint(signed.public_key) != fingerprint:
        raise SignedListError(UNKNOWN_KEY, "signed by a key other than the tenant's pinned one")
    try:
        signature = base64.b64decode(signed.signature.encode("ascii"), validate=True)
        key.verify(signature, SIGNATURE_CONTEXT + signed.payload.encode())
    except (UnicodeEncodeError, binascii.Error, ValueError, InvalidSignature):
        raise SignedListError(BAD_SIGNATURE) from None
    return _parse_payload(signed.payload)


def verify_device_list(
    signed: SignedDeviceList,
    *,
    pinned_fingerprint: str | None,
    tenant: str,
    host_id: str,
    last_serial: int | None,
) -> CentralDeviceList:
    """What an office PC applies: the list, if it is signed by the pinned tenant key, for this
    tenant and office PC, and newer than the one applied last (``last_serial``; None: none).
    :class:`SignedListError` says why not."""
    if not pinned_fingerprint:
        raise SignedListError(NOT_PINNED, "no tenant signing key is pinned on this office PC")
    central = open_device_list(signed, pinned_fingerprint)
    if central.tenant != tenant:
        raise SignedListError(WRONG_TENANT, f"signed for tenant {central.tenant!r}")
    if central.host_id != host_id:
        raise SignedListError(WRONG_HOST, f"signed for office PC {central.host_id}")
    if last_serial is not None and central.serial <= last_serial:
        raise SignedListError(REPLAYED, f"serial {central.serial} is not above {last_serial}")
    return central


def _parse_payload(payload: str) -> CentralDeviceList:
    try:
        raw = json.loads(payload)
    except (ValueError, RecursionError):
        raise SignedListError(MALFORMED, "the payload is not JSON") from None
    if not isinstance(raw, dict) or raw.get("v") != FORMAT_VERSION:
        raise SignedListError(MALFORMED, "not a device list of this version")
    tenant, host_id, serial, issued_at, devices = (
        raw.get(name) for name in ("tenant", "host_id", "serial", "issued_at", "devices")
    )
    if not isinstance(tenant, str) or not isinstance(host_id, str):
        raise SignedListError(MALFORMED, "tenant and host_id are text")
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (serial, issued_at)):
        raise SignedListError(MALFORMED, "serial and issued_at are integers")
    if not isinstance(devices, list) or len(devices) > MAX_DEVICES:
        raise SignedListError(MALFORMED, f"devices is a list of at most {MAX_DEVICES}")
    entries = []
    for entry in devices:
        if not isinstance(entry, dict) or not isinstance(entry.get("label", ""), str):
            raise SignedListError(MALFORMED, "a device is {code, label}")
        try:
            code = parse_device_code(str(entry.get("code", "")))
        except PolicyError:
            raise SignedListError(MALFORMED, "a device code is malformed") from None
        entries.append(RegisteredDevice(code, str(entry.get("label", ""))[:MAX_DEVICE_LABEL_CHARS]))
    assert isinstance(serial, int) and isinstance(issued_at, int)
    return CentralDeviceList(tenant, host_id, serial, issued_at, tuple(entries))


def group_key_fingerprint(fingerprint: str) -> str:
    """64 hex digits in groups of four, for comparing by eye (one line)."""
    return " ".join(fingerprint[i : i + 4].upper() for i in range(0, len(fingerprint), 4))
