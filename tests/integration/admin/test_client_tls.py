"""The console's admin client over real TLS on loopback: it speaks TLS 1.3 only, refuses a
certificate that is not the pinned one, and sends no request byte (so no bearer token) to a
server it has not verified."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading

import pytest

from apps.admin.api import AdminClient, ApiFailure, relay_context
from core.crypto.certs import Identity, fingerprint, generate_identity
from core.crypto.tls import server_context

TOKEN = "secret-bearer-token"
# Bound on every blocking step of the test server, so a broken client fails the test instead
# of hanging it.
SERVER_STEP_TIMEOUT_S = 10.0
ANSWER = b'{"ok": true}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(ANSWER), ANSWER)
)


class OneConnectionServer:
    """A TLS server on loopback, in a thread, for exactly one connection: it records every
    application byte it receives and answers one request with a JSON 200."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(SERVER_STEP_TIMEOUT_S)
        self.received = b""
        self.tls_version: str | None = None
        self.handshake_error: Exception | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self) -> None:
        with self.listener:
            try:
                conn, _ = self.listener.accept()
            except OSError as exc:
                self.handshake_error = exc
                return
        conn.settimeout(SERVER_STEP_TIMEOUT_S)
        with conn:
            try:
                tls = self.context.wrap_socket(conn, server_side=True)
            except OSError as exc:  # ssl.SSLError included
                self.handshake_error = exc
                return
            with tls:
                self.tls_version = tls.version()
                try:
                    while b"\r\n\r\n" not in self.received:
                        chunk = tls.recv(4096)
                        if not chunk:
                            return
                        self.received += chunk
                    tls.sendall(RESPONSE)
                except OSError:
                    return

    async def finished(self) -> None:
        await asyncio.to_thread(self.thread.join, SERVER_STEP_TIMEOUT_S)
        assert not self.thread.is_alive()


def tls12_only_context(identity: Identity) -> ssl.SSLContext:
    context = server_context(identity)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


async def call_with_token(server: OneConnectionServer, pin: str) -> object:
    client = AdminClient(server.url, pin)
    client.token = TOKEN
    try:
        return await client.call("GET", "/api/v1/tenants")
    finally:
        await client.close()
        await server.finished()


@pytest.fixture(scope="module")
def identity() -> Identity:
    return generate_identity("relay")


async def test_the_pinned_tls13_relay_is_reached(identity):
    server = OneConnectionServer(server_context(identity))
    answer = await call_with_token(server, fingerprint(identity.cert_der))
    assert answer == {"ok": True}
    assert server.tls_version == "TLSv1.3"
    assert f"Bearer {TOKEN}".encode() in server.received


async def test_a_tls12_only_relay_is_refused_before_any_request_byte(identity):
    server = OneConnectionServer(tls12_only_context(identity))
    with pytest.raises(ApiFailure) as refused:
        await call_with_token(server, fingerprint(identity.cert_der))
    assert refused.value.status == 0
    assert "TLS 1.3" in refused.value.message
    assert server.tls_version is None and server.received == b""


async def test_a_wrong_fingerprint_is_refused_before_any_request_byte(identity):
    server = OneConnectionServer(server_context(identity))
    other = generate_identity("impostor")
    with pytest.raises(ApiFailure) as refused:
        await call_with_token(server, fingerprint(other.cert_der))
    assert refused.value.status == 0
    assert "fingerprint" in refused.value.message
    assert server.received == b""


def test_the_client_context_offers_tls13_only():
    context = relay_context(fingerprint(generate_identity("relay").cert_der))
    assert context.minimum_version == ssl.TLSVersion.TLSv1_3


def test_no_application_byte_can_be_written_before_the_pin_is_checked():
    # The guarantee must not depend on the event loop calling do_handshake() first: an
    # SSLObject from the relay context refuses to write (which would also drive the handshake
    # implicitly) until its pin check has passed.
    context = relay_context(fingerprint(generate_identity("relay").cert_der))
    tls = context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="127.0.0.1")
    with pytest.raises(ssl.SSLError, match="pin"):
        tls.write(f"Authorization: Bearer {TOKEN}".encode())
