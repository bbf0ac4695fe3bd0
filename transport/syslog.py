"""Sending syslog messages to one collector, over TLS (RFC 5425) or UDP (RFC 5426), without
ever making the sender wait: messages go into a bounded queue that one task empties.

While the collector is down (or unreachable) the queue holds what it can; the task reconnects
with a growing, randomised pause and sends what waited, oldest first. Past
``MAX_SYSLOG_QUEUE`` new messages are dropped and counted. A message leaves the queue only once
written to a connection that was still open; one written just before a collector dies can be
lost (syslog over TCP has no acknowledgement), which is why the collector's EOF is watched and
ends the connection at once.

TLS verifies the collector: against the CA given, or its pinned SHA-256 fingerprint, or the
system's CAs; TLS 1.2 at least (1.3 when the collector has it). A collector that cannot be
verified is never written to, and there is no fallback to plain TCP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections import deque
from collections.abc import Callable

from core.crypto.certs import fingerprint
from core.crypto.tls import peer_certificate
from core.errors import PinMismatch
from core.hostpolicy.backoff import Backoff
from core.syslog import SyslogDestination, Transport, octet_counted

log = logging.getLogger("telework.syslog")

# Messages waiting for one collector, at most: an outage of hours at a busy relay's rate of
# audit records; past it new ones are dropped (and counted).
MAX_SYSLOG_QUEUE = 10_000
# TCP connect plus TLS handshake to a collector.
SYSLOG_CONNECT_TIMEOUT_S = 10.0
# A write the collector does not take within this long (it stopped reading) ends the connection.
SYSLOG_WRITE_TIMEOUT_S = 30.0
# Waits between reconnects: growing from the first to the last, randomised.
SYSLOG_RECONNECT_FIRST_S = 1.0
SYSLOG_RECONNECT_MAX_S = 60.0
# RFC 5425 allows TLS 1.2; 1.3 is negotiated whenever the collector offers it.
SYSLOG_MIN_TLS_VERSION = ssl.TLSVersion.TLSv1_2
# Closing sends what is queued for at most this long.
SYSLOG_CLOSE_TIMEOUT_S = 2.0


def tls_context(destination: SyslogDestination) -> ssl.SSLContext:
    """The client context for a TLS collector: chain and name checked against its CA (or the
    system's), or no chain check when a fingerprint is pinned (checked after the handshake,
    before anything is sent)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = SYSLOG_MIN_TLS_VERSION
    context.options |= ssl.OP_NO_COMPRESSION
    if destination.fingerprint is not None:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif destination.ca_pem is not None:
        context.load_verify_locations(cadata=destination.ca_pem)
    else:
        context.load_default_certs()
    return context


class SyslogSender:
    """One collector's queue and the task that sends it. :meth:`send` never blocks."""

    def __init__(
        self,
        destination: SyslogDestination,
        *,
        max_queue: int = MAX_SYSLOG_QUEUE,
        backoff: Backoff | None = None,
        connect_timeout_s: float = SYSLOG_CONNECT_TIMEOUT_S,
    ) -> None:
        self.destination = destination
        self.max_queue = max_queue
        self.dropped = 0
        self.sent = 0
        self.connected = False
        self._queue: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._backoff = backoff or Backoff(SYSLOG_RECONNECT_FIRST_S, SYSLOG_RECONNECT_MAX_S)
        self._connect_timeout_s = connect_timeout_s
        self._tls = tls_context(destination) if destination.transport is Transport.TLS else None
        self._task: asyncio.Task[None] | None = None
        self._dropping = False
        self.on_change: Callable[[], None] = lambda: None  # connected or not: for tests

    def __len__(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"syslog {self.destination}")

    def send(self, message: bytes) -> None:
        """Queue a formatted message (RFC 5424 bytes, unframed); dropped if the queue is full."""
        if len(self._queue) >= self.max_queue:
            self.dropped += 1
            if not self._dropping:
                log.error(
                    "syslog queue for %s full (%d messages): dropping until it is reachable",
                    self.destination,
                    self.max_queue,
                )
                self._dropping = True
            return
        self._queue.append(message)
        self._wake.set()

    async def close(self, timeout_s: float = SYSLOG_CLOSE_TIMEOUT_S) -> None:
        """Send what is queued for at most ``timeout_s``, then stop."""
        if self._task is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self._queue and self.connected and loop.time() < deadline:
            await asyncio.sleep(0.01)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self._queue:
            log.warning("syslog %s: %d messages unsent at close", self.destination, len(self))

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            try:
                if self._tls is not None:
                    await self._serve_tls(self._tls)
                else:
                    await self._serve_udp()
            except (OSError, TimeoutError, ssl.SSLError, PinMismatch) as exc:
                self._set_connected(False)
                delay = self._backoff.next_delay()
                log.warning(
                    "syslog %s unreachable (%s); %d messages queued; retrying in %.1f s",
                    self.destination,
                    exc.__class__.__name__ if not str(exc) else exc,
                    len(self._queue),
                    delay,
                )
                await asyncio.sleep(delay)

    def _set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self.on_change()

    def _sent(self) -> None:
        self._queue.popleft()
        self.sent += 1
        self._dropping = False

    async def _serve_tls(self, context: ssl.SSLContext) -> None:
        destination = self.destination
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                destination.host,
                destination.port,
                ssl=context,
                server_hostname=destination.host,
                ssl_handshake_timeout=self._connect_timeout_s,
            ),
            self._connect_timeout_s,
        )
        try:
            if destination.fingerprint is not None:
                ssl_object = writer.get_extra_info("ssl_object")
                _check_pin(ssl_object, destination.fingerprint)
            log.info(
                "syslog %s connected (%s)",
                destination,
                writer.get_extra_info("ssl_object").version(),
            )
            self._backoff.reset()
            self._set_connected(True)
            # A collector sends nothing: anything read, or the end of the stream, means it is
            # gone, and nothing more may be written into a dead connection.
            closed = asyncio.ensure_future(reader.read(1))
            try:
                while True:
                    if not self._queue:
                        self._wake.clear()
                        waker = asyncio.ensure_future(self._wake.wait())
                        await asyncio.wait([waker, closed], return_when=asyncio.FIRST_COMPLETED)
                        waker.cancel()
                    if closed.done():
                        raise ConnectionResetError("the collector closed the connection")
                    writer.write(octet_counted(self._queue[0]))
                    await asyncio.wait_for(writer.drain(), SYSLOG_WRITE_TIMEOUT_S)
                    if closed.done():
                        raise ConnectionResetError("the collector closed the connection")
                    self._sent()
            finally:
                closed.cancel()
        finally:
            self._set_connected(False)
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _serve_udp(self) -> None:
        destination = self.destination
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(
            destination.host, destination.port, type=socket.SOCK_DGRAM, proto=socket.IPPROTO_UDP
        )
        family, _, _, _, address = infos[0]
        transport, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, remote_addr=(str(address[0]), int(address[1])), family=family
        )
        try:
            self._backoff.reset()
            self._set_connected(True)
            while True:
                if not self._queue:
                    self._wake.clear()
                    await self._wake.wait()
                transport.sendto(self._queue[0])  # one message per datagram, unframed
                self._sent()
                await asyncio.sleep(0)  # many queued: let the loop breathe between datagrams
        finally:
            self._set_connected(False)
            transport.close()


def _check_pin(ssl_object: ssl.SSLObject, expected: str) -> None:
    """The collector's certificate is the pinned one (TLS 1.2 or 1.3)."""
    if fingerprint(peer_certificate(ssl_object)) != expected:
        raise PinMismatch("the collector's certificate does not match the pinned fingerprint")
