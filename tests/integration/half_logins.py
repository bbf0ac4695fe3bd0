"""Viewers whose login the host accepts but whose session never starts, for the host's side.

Each is a real viewer on the real relay, stopping or cheating at one step after the host has
accepted: the tests then check that the host is not left holding the session.
"""

from __future__ import annotations

import asyncio

from core.crypto.certs import generate_identity
from core.errors import CryptoError
from core.protocol.control import LoginOk
from tests.integration.relay_harness import TENANT, USER, Relay, login_message
from transport.client import viewer_login
from transport.connect import open_link
from transport.link_stream import LinkStream, PeerGone

WAIT_S = 5.0  # how long these viewers wait for the relay or the host to act


async def log_in_without_securing(
    relay: Relay, host_id: str, macs: list[str]
) -> tuple[LinkStream, LoginOk]:
    """Log in up to the relay's LoginOk (the host has accepted and attached its data
    connection) and stop short of the end-to-end handshake; the caller closes the stream."""
    (code,) = relay.directory.issue_codes(TENANT, USER, 1)
    message = login_message(relay, host_id, code, generate_identity("home"), macs=macs)
    stream = await open_link(relay.endpoint)
    try:
        await stream.send(message)
        while not isinstance(reply := await stream.next_message(WAIT_S), LoginOk):
            pass  # Progress("waiting_for_host")
    except BaseException:
        await stream.close()
        raise
    return stream, reply


async def leave_before_securing(relay: Relay, host_id: str, macs: list[str]) -> None:
    stream, _ = await log_in_without_securing(relay, host_id, macs)
    await stream.close()


async def stall_securing(relay: Relay, host_id: str, macs: list[str]) -> None:
    """Never start the end-to-end handshake: return once the host gives up and the relay
    closes the stream."""
    stream, _ = await log_in_without_securing(relay, host_id, macs)
    try:
        async with asyncio.timeout(WAIT_S):
            while await stream.reader.read(4096):
                pass
    finally:
        await stream.close()


async def present_another_device(relay: Relay, host_id: str, macs: list[str]) -> None:
    """Log in naming one device certificate, then secure the channel with another one."""
    (code,) = relay.directory.issue_codes(TENANT, USER, 1)
    named, presented = generate_identity("home"), generate_identity("someone-else")
    message = login_message(relay, host_id, code, named, macs=macs)
    try:
        channel, _ = await viewer_login(relay.endpoint, message, presented)
    except (CryptoError, PeerGone):
        return
    try:  # TLS 1.3: the host judges our certificate only after our side has finished
        await channel.read()
    except PeerGone:
        pass
    finally:
        channel.close()
        await channel.wait_closed()
