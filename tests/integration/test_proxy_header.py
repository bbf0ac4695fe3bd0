"""A relay behind a trusted balancer: the client named in the PROXY v2 header is who the caps,
lockouts and audit records count; from anyone else such a header is refused, and a trusted
balancer that sends none is cut off."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace

import pytest

from core.crypto.certs import generate_identity
from core.crypto.tls import check_pin, pinned_client_context
from core.protocol.proxy_header import encode_proxy_v2
from core.protocol.relay_link import Side
from tests.integration.relay_harness import FAST, HostAgent, login_message, start_relay
from transport.client import RefusedByRelay, _reply
from transport.link_stream import LinkStream, PeerGone

BALANCER = "127.0.0.2"  # loopback, but not the address the tests' other clients come from
CLIENT = ("203.0.113.7", 40000)


@pytest.fixture
async def relay(tmp_path):
    relay = await start_relay(tmp_path, replace(FAST, trusted_proxies=frozenset({BALANCER})))
    yield relay
    await relay.close()


async def link_from(relay, bind: str, preamble: bytes) -> LinkStream:
    """A TLS link to the relay from address ``bind``, ``preamble`` sent before TLS."""
    sock = socket.socket()
    sock.bind((bind, 0))
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (relay.endpoint.host, relay.endpoint.port))
    await asyncio.get_running_loop().sock_sendall(sock, preamble)
    reader, writer = await asyncio.open_connection(
        sock=sock, ssl=pinned_client_context(), server_hostname=""
    )
    check_pin(writer.get_extra_info("ssl_object"), relay.endpoint.fingerprint)
    return LinkStream(reader, writer, Side.CLIENT)


async def wrong_otp_from(relay, host_id: str, bind: str, preamble: bytes) -> str:
    stream = await link_from(relay, bind, preamble)
    try:
        await stream.send(login_message(relay, host_id, "000000", generate_identity("home")))
        with pytest.raises(RefusedByRelay) as refused:
            await _reply(stream)
        return refused.value.reason
    finally:
        await stream.close()


async def test_the_balancers_client_is_the_source_on_record(relay):
    host = await HostAgent(relay).start()
    try:
        header = encode_proxy_v2(CLIENT, (relay.endpoint.host, relay.endpoint.port))
        assert await wrong_otp_from(relay, host.host_id, BALANCER, header) == "wrong_otp"
        (refusal,) = relay.directory.list_audit(event="login_refused")
        assert refusal.source == CLIENT[0]
    finally:
        await host.stop()


async def test_a_header_from_an_untrusted_address_is_not_believed(relay):
    header = encode_proxy_v2(CLIENT, (relay.endpoint.host, relay.endpoint.port))
    with pytest.raises((ConnectionError, OSError, PeerGone, asyncio.IncompleteReadError)):
        await link_from(relay, "127.0.0.1", header)  # TLS cannot start after it
    assert not relay.directory.list_audit(event="login_refused")


async def test_a_trusted_balancer_without_a_header_is_cut_off(relay):
    with pytest.raises((ConnectionError, OSError, PeerGone)):
        stream = await link_from(relay, BALANCER, b"")
        await stream.close()
