"""Opaque forwarding between a joined viewer and host, paced and counted.

The relay reads a chunk, waits what the session's token bucket says, writes it, and only
reads again once the destination has drained: a slow viewer therefore stops the host's side
from being read instead of growing the relay's memory (backpressure).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

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


def end_reason(to_viewer: asyncio.Task[Any], to_host: asyncio.Task[Any]) -> str:
    """Why forwarding ended, from the pump that finished: its source left, or its
    destination stopped reading."""
    if to_host.done() and not to_host.cancelled() and to_host.exception() is None:
        return "host_stalled" if to_host.result() == STALLED else "viewer_left"
    if to_viewer.done() and not to_viewer.cancelled() and to_viewer.exception() is None:
        return "viewer_stalled" if to_viewer.result() == STALLED else "host_left"
    return "viewer_left" if to_host.done() else "host_left"
