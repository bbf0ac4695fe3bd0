"""Self-signed certificates, their fingerprints, and host IDs derived from them (kept on disk
by :mod:`storage.identity`).

Trust here is by pinning, not by a CA: the relay's certificate is pinned by its SHA-256
fingerprint; a host's certificate is pinned by its **host ID**, which *is* a digest of the
host's public key, so a viewer that knows the host ID can check it is talking to that host
even through a relay it does not trust.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core.errors import CryptoError

# Self-signed certificates are pinned, so expiry adds no safety; ten years avoids a silent
# outage when nobody remembers to renew an office PC's certificate.
CERT_VALIDITY = dt.timedelta(days=3650)
# 100 bits of the key digest: a second-preimage search is out of reach, and 20 base32
# characters can still be read aloud or typed from the admin's records.
HOST_ID_BITS = 100
HOST_ID_GROUP = 5
FINGERPRINT_HEX_CHARS = 64

_FINGERPRINT_RE = re.compile(r"^(?:sha256:)?([0-9a-f]{2}(?::?[0-9a-f]{2}){31})$")
_HOST_ID_RE = re.compile(r"^[A-Z2-7]{20}$")


@dataclass(frozen=True, slots=True)
class Identity:
    """A key pair and its self-signed certificate, in PEM."""

    cert_pem: bytes
    key_pem: bytes

    @property
    def cert_der(self) -> bytes:
        return x509.load_pem_x509_certificate(self.cert_pem).public_bytes(
            serialization.Encoding.DER
        )


def generate_identity(common_name: str) -> Identity:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64] or "telework")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + CERT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("telework.invalid")]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return Identity(
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def fingerprint(cert_der: bytes) -> str:
    """SHA-256 of the DER certificate as 64 lowercase hex digits: the one printed form."""
    return hashlib.sha256(cert_der).hexdigest()


def parse_fingerprint(text: str) -> str:
    """Accept a fingerprint as printed, or with colons, any case, or a ``sha256:`` prefix."""
    match = _FINGERPRINT_RE.match(text.strip().lower())
    if not match:
        raise CryptoError("a certificate fingerprint is 64 hexadecimal digits (SHA-256)")
    return match.group(1).replace(":", "")


def pem_to_der(cert_pem: bytes | str) -> bytes:
    """The DER form of exactly one PEM certificate. A bundle is refused: whoever reads the
    first certificate (the relay, for its records) and whoever trusts them all (TLS) would
    not agree on which device this is."""
    data = cert_pem.encode() if isinstance(cert_pem, str) else cert_pem
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise CryptoError("not a PEM certificate") from exc
    if len(certs) != 1:
        raise CryptoError("exactly one PEM certificate expected")
    return certs[0].public_bytes(serialization.Encoding.DER)


def host_id_for_certificate(cert_der: bytes) -> str:
    """The host ID: base32 of the first 100 bits of SHA-256 over the public key (SPKI)."""
    try:
        cert = x509.load_der_x509_certificate(cert_der)
    except ValueError as exc:
        raise CryptoError("not a DER certificate") from exc
    try:  # the key is parsed only now: an unknown curve or a bad point fails here
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CryptoError("certificate key is not usable") from exc
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashlib.sha256(spki).digest()
    return base64.b32encode(digest)[: HOST_ID_BITS // 5].decode()


def format_host_id(host_id: str) -> str:
    """Group a host ID for display and records: ``ABCDE-FGHIJ-KLMNO-PQRST``."""
    return "-".join(host_id[i : i + HOST_ID_GROUP] for i in range(0, len(host_id), HOST_ID_GROUP))


def parse_host_id(text: str) -> str:
    """Accept a host ID with or without dashes or spaces, any case; return the bare form."""
    bare = re.sub(r"[\s-]", "", text).upper()
    if not _HOST_ID_RE.match(bare):
        raise CryptoError("a host ID is 20 letters and digits (A-Z, 2-7), dashes optional")
    return bare
