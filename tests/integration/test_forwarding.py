"""The relay's forwarding pump on real sockets: a destination that stops reading ends it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from core.ratelimit import TokenBucket
from relay.forwarding import CLOSED, STALLED, pump

FAST_BUCKET_BPS = 1e9  # pacing is not under test here
STALL_S = 0.3
CHUNK = b"x" * 16 * 1024


@contextlib.asynccontextmanager
async def peer_that_never_reads() -> AsyncIterator[asyncio.StreamWriter]:
    """A connection to a local server that accepts and then reads nothing until the end."""
    done = asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await done.wait()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield writer
    finally:
        done.set()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
        server.close()
        await server.wait_closed()


async def test_a_destination_that_stops_reading_ends_the_pump_as_stalled():
    async with peer_that_never_reads() as destination:
        destination.transport.set_write_buffer_limits(high=64 * 1024)
        source = asyncio.StreamReader()
        for _ in range(2000):  # ~32 MB due: far more than the socket buffers hold
            source.feed_data(CHUNK)
        counted: list[int] = []
        bucket = TokenBucket(FAST_BUCKET_BPS, 1e9, 0.0)
        result = await asyncio.wait_for(
            pump(source, destination, bucket, counted.append, stall_timeout_s=STALL_S), 30
        )
        assert result == STALLED and 0 < sum(counted) < 2000 * len(CHUNK)


async def test_a_source_that_ends_ends_the_pump_as_closed():
    async with peer_that_never_reads() as destination:
        source = asyncio.StreamReader()
        source.feed_data(b"hello")
        source.feed_eof()
        counted: list[int] = []
        bucket = TokenBucket(FAST_BUCKET_BPS, 1e9, 0.0)
        assert await pump(source, destination, bucket, counted.append) == CLOSED
        assert counted == [5]
