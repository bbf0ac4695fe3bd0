"""Pairs of real TLS connections over loopback, both ends :class:`TlsConnection`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from core.crypto.certs import generate_identity
from core.crypto.tls import pinned_client_context, server_context
from transport.tls_protocol import TlsConnection, open_tls

_IDENTITY = generate_identity("relay")


@contextlib.asynccontextmanager
async def tls_pairs(
    count: int, write_high_water: int | None = 64 * 1024
) -> AsyncIterator[list[tuple[TlsConnection, TlsConnection]]]:
    """``count`` (server end, client end) pairs, TLS done; all closed at the end."""
    accepted: asyncio.Queue[TlsConnection] = asyncio.Queue()
    context = server_context(_IDENTITY)

    def made(connection: TlsConnection) -> bool:
        accepted.put_nowait(connection)
        return True

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: TlsConnection(
            context, server_side=True, on_made=made, write_high_water=write_high_water
        ),
        "127.0.0.1",
        0,
    )
    port = server.sockets[0].getsockname()[1]
    pairs = []
    try:
        for _ in range(count):
            client = await open_tls(pinned_client_context(), "127.0.0.1", port)
            served = await accepted.get()
            await served.handshake()
            pairs.append((served, client))
        yield pairs
    finally:
        for pair in pairs:
            for end in pair:
                end.abort()
        server.close()
        await server.wait_closed()
