"""Asyncio adapter over :class:`core.protocol.relay_link.RelayLink`: read messages, send them.

It only moves bytes between the socket and the sans-I/O link; all rules live in the link. The
bytes come from any :class:`ByteReader` and go to any :class:`ByteWriter`: asyncio's streams
(the apps), or one :class:`transport.tls_protocol.TlsConnection` as both (the relay).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Protocol

from core.auth.lockout import source_key
from core.errors import Error
from core.protocol.control import ControlMessage
from core.protocol.relay_link import LinkState, RelayLink, Side
from transport.tls_protocol import TlsConnection

READ_CHUNK_BYTES = 16 * 1024


class PeerGone(Error):
    """The peer closed the connection or went silent past its timeout."""


class ByteReader(Protocol):
    """The reading half of a byte stream, as :class:`asyncio.StreamReader` has it."""

    async def read(self, n: int = -1) -> bytes: ...


class ByteWriter(Protocol):
    """The writing half of a byte stream, as :class:`asyncio.StreamWriter` has it."""

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def close(self) -> None: ...

    def is_closing(self) -> bool: ...

    async def wait_closed(self) -> None: ...

    def get_extra_info(self, name: str, default: Any = None) -> Any: ...


class LinkStream:
    def __init__(self, reader: ByteReader, writer: ByteWriter, side: Side) -> None:
        self.reader = reader
        self.writer = writer
        self.link = RelayLink(side)
        self._pending: list[ControlMessage] = []
        self.source = peer_address(writer)  # as the audit log shows it
        self.source_key = source_key(self.source)  # as lockouts count it

    async def next_message(self, timeout: float | None) -> ControlMessage:
        """The next validated message; :class:`PeerGone` on close, or if it has not arrived
        whole within ``timeout`` (one deadline for the message: a peer trickling a byte at a
        time cannot hold the connection open)."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not self._pending:
            if self.link.state in (LinkState.FORWARDING, LinkState.CLOSED):
                raise PeerGone("link no longer carries messages")
            left = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                data = await asyncio.wait_for(self.reader.read(READ_CHUNK_BYTES), left)
            except (TimeoutError, ConnectionError) as exc:
                raise PeerGone("peer silent or reset") from exc
            if not data:
                raise PeerGone("peer closed the connection")
            self._pending.extend(self.link.receive_data(data))
        return self._pending.pop(0)

    async def send(self, message: ControlMessage) -> None:
        self.writer.write(self.link.send(message))
        await self.writer.drain()

    def send_nowait(self, message: ControlMessage, encoded: bytes | None = None) -> None:
        """Send without waiting for the write buffer to drain (a keepalive: a peer that does
        not read is found dead by its silence, not waited for); ``encoded``: its bytes, if
        already encoded."""
        self.writer.write(self.link.send(message, encoded))

    async def serve_messages(self, handle: Callable[[ControlMessage], None]) -> None:
        """Call ``handle`` with each message as it arrives, until the peer leaves
        (:class:`PeerGone`), sends what the link refuses (its ProtocolError), or ``handle``
        raises. On a :class:`TlsConnection` this runs in the connection's callback: no task
        switch and no timer per message (the relay's many idle control channels)."""
        while self._pending:
            handle(self._pending.pop(0))
        connection = self.reader
        if not isinstance(connection, TlsConnection):
            while True:
                handle(await self.next_message(timeout=None))
        ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def end(exc: BaseException) -> None:
            if not ended.done():
                ended.set_exception(exc)
                connection.set_receiver(None)

        def on_data(data: bytes) -> None:
            if ended.done():
                return
            try:
                for message in self.link.receive_data(data):
                    handle(message)
            except Exception as exc:  # raised where the caller awaits, as next_message would
                end(exc)
                return
            if connection.writing_paused:  # answers the peer does not take: stop reading it
                connection.pause_reading()
                connection.on_drained = drained

        def drained() -> None:
            connection.on_drained = None
            connection.resume_reading()

        connection.set_receiver(on_data, lambda: end(PeerGone("peer closed the connection")))
        try:
            await ended
        finally:
            connection.set_receiver(None)

    def take_trailing(self) -> bytes:
        return self.link.take_trailing()

    async def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer.wait_closed(), 2.0)


def peer_address(writer: ByteWriter) -> str:
    """The peer's IP address (what lockouts and connection caps count by)."""
    peer = writer.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
