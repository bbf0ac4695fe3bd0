"""Opaque forwarding between a joined viewer and host, paced and counted.

The relay reads a chunk, waits what the session's token bucket says, writes it, and only
reads again once the destination has drained: a slow viewer therefore stops the host's side
from being read instead of growing the relay's memory (backpressure).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from core.ratelimit import TokenBucket
from relay.settings import FORWARD_CHUNK_BYTES, FORWARD_STALL_TIMEOUT_S

CLOSED = "closed"  # the source ended its side
STALLED = "stalled"  # the destination stopped taking bytes (FORWARD_STALL_TIMEOUT_S)


async def pump(
    source: asyncio.StreamReader,
    destination: asyncio.StreamWriter,
    bucket: TokenBucket,
    count: Callable[[int], None],
    first: bytes = b"",
    clock: Callable[[], float] = time.monotonic,
    stall_timeout_s: float = FORWARD_STALL_TIMEOUT_S,
) -> str:
    """Copy ``source`` to ``destination`` until the source ends (:data:`CLOSED`) or the
    destination stops taking bytes for ``stall_timeout_s`` (:data:`STALLED`)."""
    data = first
    while True:
        if data:
            delay = bucket.delay_for(len(data), clock())
            if delay > 0:
                await asyncio.sleep(delay)
            destination.write(data)
            count(len(data))
            try:
                await asyncio.wait_for(destination.drain(), stall_timeout_s)
            except TimeoutError:
                return STALLED
        data = await source.read(FORWARD_CHUNK_BYTES)
        if not data:
            return CLOSED
