"""A source locked out for failed logins is closed before its TLS handshake: it costs the
relay no TLS work and holds no half-open slot. Office PCs are never locked out by address, so
a source an office PC is online from is still let through to the TLS handshake (and its
logins are refused after their first message, with the time the lock ends).

Real relay on loopback; the failing viewer logs in from 127.0.0.1 with the real client.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

import pytest

from core.auth import lockout as lockout_limits
from core.crypto.certs import generate_identity, host_id_for_certificate, pem_to_der
from core.crypto.tls import pinned_client_context
from core.protocol.control import RefusalReason
from relay.admission import LOCKED_BEFORE_TLS
from tests.integration.relay_harness import HostAgent, login
from transport.client import RefusedByRelay, host_login


async def lock_the_source(relay, host_id: str) -> None:
    """Wrong OTPs from 127.0.0.1 until the source itself is locked (the name locks first)."""
    lockout = relay.server.context.lockouts.source.local
    for _ in range(lockout_limits.SOURCE_MAX_FAILURES):
        with pytest.raises(RefusedByRelay):
            await login(relay, host_id, "000000")
    assert lockout.locked_until("127.0.0.1") is not None


def tls_handshake(relay) -> tuple[bytes, type[BaseException] | None]:
    """A TLS client's handshake from 127.0.0.1: the bytes the relay sent before closing, and
    what the handshake raised (None: it completed)."""
    with socket.create_connection((relay.endpoint.host, relay.endpoint.port), 5) as raw:
        raw.settimeout(5)
        tls_context = pinned_client_context()
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = tls_context.wrap_bio(incoming, outgoing, server_hostname=None)
        received = b""
        try:
            while True:
                try:
                    tls.do_handshake()
                    raw.sendall(outgoing.read())  # the client's Finished
                    return received, None
                except ssl.SSLWantReadError:
                    raw.sendall(outgoing.read())
                    chunk = raw.recv(65536)
                    if not chunk:
                        return received, ConnectionAbortedError
                    received += chunk
                    incoming.write(chunk)
        except (ssl.SSLError, OSError) as exc:
            return received, type(exc)


async def test_a_locked_source_is_closed_before_its_tls_handshake(relay):
    nowhere = host_id_for_certificate(pem_to_der(generate_identity("pc").cert_pem.decode()))
    received, failure = await asyncio.to_thread(tls_handshake, relay)
    assert received and failure is None  # not locked: the handshake runs
    await lock_the_source(relay, nowhere)
    audited = len(relay.directory.list_audit(limit=10_000))
    handshakes_failed = relay.server.metrics.refusals["tls_handshake"]
    for attempt in range(1, 4):
        received, failure = await asyncio.to_thread(tls_handshake, relay)
        assert received == b"" and failure is not None  # not one byte of TLS from the relay
        assert relay.server.metrics.refusals[LOCKED_BEFORE_TLS] == attempt
    assert relay.server.metrics.refusals["tls_handshake"] == handshakes_failed  # none begun
    assert len(relay.directory.list_audit(limit=10_000)) == audited  # no record per knock
    assert relay.server.admission._half_open == 0


async def test_a_source_an_office_pc_is_online_from_still_reaches_tls(relay):
    host = await HostAgent(relay).start()  # online from 127.0.0.1, like a town hall's NAT
    try:
        await lock_the_source(relay, host.host_id)
        received, failure = await asyncio.to_thread(tls_handshake, relay)
        assert failure is None and received  # the handshake ran
        assert relay.server.metrics.refusals[LOCKED_BEFORE_TLS] == 0
        with pytest.raises(RefusedByRelay) as refused:  # the viewer still hears it is locked
            await login(relay, host.host_id, relay.totp_now())
        assert refused.value.reason == RefusalReason.LOCKED_OUT and refused.value.retry_after
        # Another office PC of the same address comes back online.
        stream, ready = await host_login(relay.endpoint, host.host_id, host.secret, "test")
        assert ready.host_id == host.host_id
        await stream.close()
    finally:
        await host.stop()
