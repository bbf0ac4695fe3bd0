"""Opaque forwarding between a joined viewer and host, paced and counted.

Each direction is a :class:`Forwarder` driven by the source connection's callbacks: a chunk
decrypted from the source is written to the destination in the same turn of the event loop
(no task switch, no timer) unless the session's token bucket says to wait, in which case the
chunk is held until it is due (and what follows it, up to ``MAX_HELD_BYTES``; past that the
source stops being read, so a short burst costs no pause and resume of the socket). A
destination whose write buffer passes its high-water mark stops the source being read too
(backpressure): a slow viewer stops the host's side instead of growing the relay's memory,
and one that takes nothing for ``FORWARD_STALL_TIMEOUT_S`` ends the session.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from core.ratelimit import TokenBucket
from relay.settings import FORWARD_STALL_TIMEOUT_S, MAX_HELD_BYTES
from transport.tls_protocol import TlsConnection

CLOSED = "closed"  # the source ended its side
STALLED = "stalled"  # the destination stopped taking bytes (FORWARD_STALL_TIMEOUT_S)


class Forwarder:
    """Copies one connection's plaintext to another, paced by ``bucket``; :attr:`done` gets
    :data:`CLOSED` or :data:`STALLED`."""

    __slots__ = (
        "_bucket",
        "_clock",
        "_count",
        "_destination",
        "_draining",
        "_eof",
        "_held",
        "_held_bytes",
        "_loop",
        "_source",
        "_stall_timeout_s",
        "_timer",
        "done",
    )

    def __init__(
        self,
        source: TlsConnection,
        destination: TlsConnection,
        bucket: TokenBucket,
        count: Callable[[int], None],
        clock: Callable[[], float],
        stall_timeout_s: float,
    ) -> None:
        self._source = source
        self._destination = destination
        self._bucket = bucket
        self._count = count
        self._clock = clock
        self._stall_timeout_s = stall_timeout_s
        self._loop = asyncio.get_running_loop()
        self._held: list[bytes] = []  # [0] is paid for and due when _timer fires
        self._held_bytes = 0
        self._timer: asyncio.TimerHandle | None = None
        self._draining = False  # waiting for the destination to take its buffer
        self._eof = False
        self.done: asyncio.Future[str] = self._loop.create_future()

    def start(self, first: bytes) -> None:
        if first:
            self.on_data(first)
        self._source.set_receiver(self.on_data, self.on_eof)

    def stop(self) -> None:
        """Detach from both connections (the session is over)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._held.clear()
        self._held_bytes = 0
        self._source.set_receiver(None)
        if self._destination.on_drained == self._drained:
            self._destination.on_drained = None

    def on_data(self, data: bytes) -> None:
        if self._held or self._draining:
            self._held.append(data)
            self._held_bytes += len(data)
            if self._held_bytes > MAX_HELD_BYTES:
                self._source.pause_reading()
            return
        delay = self._bucket.delay_for(len(data), self._clock())
        if delay > 0:
            self._hold(data, delay)
        else:
            self._write(data)

    def on_eof(self) -> None:
        self._eof = True
        if not self._held and not self._draining:
            self._finish(CLOSED)

    def _hold(self, data: bytes, delay: float) -> None:
        self._held.insert(0, data)
        self._held_bytes += len(data)
        if self._held_bytes > MAX_HELD_BYTES:
            self._source.pause_reading()
        self._timer = self._loop.call_later(delay, self._release)

    def _release(self) -> None:
        self._timer = None
        data = self._held.pop(0)
        self._held_bytes -= len(data)
        self._write(data)
        self._continue()

    def _write(self, data: bytes) -> None:
        destination = self._destination
        destination.write(data)
        self._count(len(data))
        if destination.writing_paused and not self.done.done():
            self._draining = True
            self._source.pause_reading()
            destination.on_drained = self._drained
            self._timer = self._loop.call_later(self._stall_timeout_s, self._finish, STALLED)

    def _drained(self) -> None:
        self._destination.on_drained = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._draining = False
        self._continue()

    def _continue(self) -> None:
        """After a hold or a drain: send what came meanwhile, then read on (or finish)."""
        while self._held and not self._draining and self._timer is None:
            data = self._held.pop(0)
            self._held_bytes -= len(data)
            delay = self._bucket.delay_for(len(data), self._clock())
            if delay > 0:
                self._hold(data, delay)
                return
            self._write(data)
        if self._held or self._draining or self._timer is not None:
            return
        if self._eof:
            self._finish(CLOSED)
        else:
            self._source.resume_reading()

    def _finish(self, result: str) -> None:
        if not self.done.done():
            self.done.set_result(result)


async def pump(
    source: TlsConnection,
    destination: TlsConnection,
    bucket: TokenBucket,
    count: Callable[[int], None],
    first: bytes = b"",
    clock: Callable[[], float] = time.monotonic,
    stall_timeout_s: float = FORWARD_STALL_TIMEOUT_S,
) -> str:
    """Copy ``source`` to ``destination`` (``first`` before all) until the source ends
    (:data:`CLOSED`) or the destination stops taking bytes for ``stall_timeout_s``
    (:data:`STALLED`)."""
    forwarder = Forwarder(source, destination, bucket, count, clock, stall_timeout_s)
    try:
        forwarder.start(first)
        return await forwarder.done
    finally:
        forwarder.stop()


def end_reason(to_viewer: asyncio.Task[Any], to_host: asyncio.Task[Any]) -> str:
    """Why forwarding ended, from the pump that finished: its source left, or its
    destination stopped reading."""
    if to_host.done() and not to_host.cancelled() and to_host.exception() is None:
        return "host_stalled" if to_host.result() == STALLED else "viewer_left"
    if to_viewer.done() and not to_viewer.cancelled() and to_viewer.exception() is None:
        return "viewer_stalled" if to_viewer.result() == STALLED else "host_left"
    return "viewer_left" if to_host.done() else "host_left"
