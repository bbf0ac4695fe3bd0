"""The relay's forwarding on real TLS connections: paced, stopped by a destination that stops
reading (backpressure, then the stall), ended by a source that ends."""

from __future__ import annotations

import asyncio
import time

from core.ratelimit import TokenBucket
from relay.forwarding import CLOSED, STALLED, pump
from relay.settings import MAX_HELD_BYTES
from tests.integration.tls_pairs import tls_pairs
from transport.tls_protocol import MAX_UNREAD_BYTES

FAST_BUCKET_BPS = 1e9  # pacing is not under test here
STALL_S = 0.3
CHUNK = b"x" * 16 * 1024


async def test_a_destination_that_stops_reading_ends_the_pump_as_stalled():
    async with tls_pairs(2) as [(source, sender), (destination, receiver)]:
        receiver.pause_reading()  # the viewer takes nothing
        for _ in range(2000):  # ~32 MB due: far more than the socket buffers hold
            sender.write(CHUNK)
        counted: list[int] = []
        bucket = TokenBucket(FAST_BUCKET_BPS, 1e9, 0.0)
        result = await asyncio.wait_for(
            pump(source, destination, bucket, counted.append, stall_timeout_s=STALL_S), 30
        )
        assert result == STALLED and 0 < sum(counted) < 2000 * len(CHUNK)
        # Backpressure: the source was not read on while the destination was full, so what
        # the relay holds is bounded by the write buffer and the socket's, not the 32 MB.
        assert sum(counted) < 8 * 1024 * 1024


async def test_a_source_that_ends_ends_the_pump_as_closed():
    async with tls_pairs(2) as [(source, sender), (destination, receiver)]:
        sender.write(b"hello")
        sender.close()
        counted: list[int] = []
        bucket = TokenBucket(FAST_BUCKET_BPS, 1e9, 0.0)
        assert await pump(source, destination, bucket, counted.append) == CLOSED
        assert counted == [5]
        assert await receiver.read() == b"hello"


async def test_bytes_before_the_switch_go_first_and_all_arrive_in_order():
    async with tls_pairs(2) as [(source, sender), (destination, receiver)]:
        data = bytes(range(256)) * 400
        sender.write(data)
        sender.close()
        await asyncio.sleep(0.1)  # buffered in the source before forwarding starts
        bucket = TokenBucket(FAST_BUCKET_BPS, 1e9, 0.0)
        assert await pump(source, destination, bucket, lambda n: None, b"first:") == CLOSED
        destination.close()
        received = bytearray()
        while chunk := await receiver.read():
            received += chunk
        assert received == b"first:" + data


async def test_forwarding_is_paced_by_the_bucket():
    rate, burst = 40_000.0, 4_000.0
    async with tls_pairs(2) as [(source, sender), (destination, _)]:
        sender.write(b"y" * 20_000)
        sender.close()
        bucket = TokenBucket(rate, burst, time.monotonic())
        started = time.monotonic()
        assert await pump(source, destination, bucket, lambda n: None) == CLOSED
        # 20 kB at 40 kB/s with 4 kB of burst: the last byte is due after ~0.4 s.
        assert time.monotonic() - started >= (20_000 - burst) / rate - 0.05


async def test_unread_plaintext_stops_the_socket_being_read():
    async with tls_pairs(1) as [(served, client)]:
        for _ in range(64):
            client.write(CHUNK)  # 1 MiB that nobody reads yet
        await asyncio.sleep(0.3)
        assert served._paused and len(served._buffer) <= MAX_UNREAD_BYTES + len(CHUNK)
        received = 0
        while received < 64 * len(CHUNK):
            received += len(await asyncio.wait_for(served.read(), 5))
        assert received == 64 * len(CHUNK)


async def test_a_source_faster_than_its_pace_is_held_up_to_a_bound_then_not_read():
    async with tls_pairs(2) as [(source, sender), (destination, _)]:
        for _ in range(64):
            sender.write(CHUNK)  # 1 MiB due at 10 kB/s
        bucket = TokenBucket(10_000.0, 1_000.0, time.monotonic())
        forwarding = asyncio.create_task(pump(source, destination, bucket, lambda n: None))
        await asyncio.sleep(0.5)
        assert source._paused  # stopped being read
        (forwarder,) = [f for f in _forwarders(source)]
        assert forwarder._held_bytes <= MAX_HELD_BYTES + len(CHUNK)
        forwarding.cancel()


def _forwarders(connection):
    receiver = connection._receiver
    return [receiver.__self__] if receiver is not None else []
