"""TLS 1.3-only contexts and the pin checks that go with them.

Nothing here ever lowers the protocol version or turns verification into a warning: a link
that cannot be secured as configured is refused.
"""

from __future__ import annotations

import ssl
import tempfile
from pathlib import Path

from core.crypto.certs import Identity, fingerprint, host_id_for_certificate, pem_to_der
from core.errors import PinMismatch

MINIMUM_TLS_VERSION = ssl.TLSVersion.TLSv1_3


def _load_identity(context: ssl.SSLContext, identity: Identity) -> None:
    # ssl only loads keys from files; a private temporary directory keeps the key unreadable
    # by others for the instant it exists on disk.
    with tempfile.TemporaryDirectory(prefix="telework-tls-") as tmp:
        cert_path, key_path = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert_path.write_bytes(identity.cert_pem)
        key_path.touch(mode=0o600)
        key_path.write_bytes(identity.key_pem)
        context.load_cert_chain(cert_path, key_path)


def _tls13_only(context: ssl.SSLContext) -> ssl.SSLContext:
    context.minimum_version = MINIMUM_TLS_VERSION
    context.options |= ssl.OP_NO_COMPRESSION
    return context


def server_context(identity: Identity, client_cert_pem: bytes | None = None) -> ssl.SSLContext:
    """A TLS 1.3 server. With ``client_cert_pem`` the client must present exactly that
    (self-signed) certificate: it is the only trust anchor loaded (a bundle is refused with
    CryptoError, never loaded whole)."""
    context = _tls13_only(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
    _load_identity(context, identity)
    if client_cert_pem is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata=pem_to_der(client_cert_pem))
    return context


def pinned_client_context(client_identity: Identity | None = None) -> ssl.SSLContext:
    """A TLS 1.3 client for a self-signed peer. Chain checks are off because trust comes from
    the pin, which the caller MUST check with :func:`check_pin` or :func:`check_host_id`
    before sending a single byte."""
    context = _tls13_only(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if client_identity is not None:
        _load_identity(context, client_identity)
    return context


def ca_client_context(cafile: Path) -> ssl.SSLContext:
    """A TLS 1.3 client that verifies the relay's chain to an operator-configured CA."""
    context = _tls13_only(ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(cafile)))
    return context


def peer_certificate(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> bytes:
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        raise PinMismatch("peer presented no certificate")
    return der


def check_pin(ssl_object: ssl.SSLObject | ssl.SSLSocket, expected_fingerprint: str) -> None:
    if ssl_object.version() != "TLSv1.3":  # defence in depth: the context already insists
        raise PinMismatch("peer did not negotiate TLS 1.3")
    actual = fingerprint(peer_certificate(ssl_object))
    if actual != expected_fingerprint:
        raise PinMismatch("peer certificate does not match the pinned fingerprint")


def check_host_id(ssl_object: ssl.SSLObject | ssl.SSLSocket, expected_host_id: str) -> None:
    if ssl_object.version() != "TLSv1.3":
        raise PinMismatch("peer did not negotiate TLS 1.3")
    if host_id_for_certificate(peer_certificate(ssl_object)) != expected_host_id:
        raise PinMismatch("office PC certificate does not match its host ID")
