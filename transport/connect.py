"""Open a TLS 1.3 link to the relay, checked against its pinned fingerprint or a CA."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from core.crypto.certs import parse_fingerprint
from core.crypto.tls import ca_client_context, check_pin, pinned_client_context
from core.errors import LocalError, PinMismatch
from core.protocol.relay_link import Side
from transport.link_stream import LinkStream

# TCP connect plus TLS handshake; a relay slower than this is treated as unreachable.
CONNECT_TIMEOUT_S = 10.0
_ADDRESS_RE = re.compile(
    r"^(?:\[(?P<v6>[0-9a-fA-F:.]+)\]|(?P<host>[^:\s\[\]]+)):(?P<port>\d{1,5})$"
)


def parse_host_port(address: str, allow_any_port: bool = False) -> tuple[str, int]:
    """``HOST:PORT`` or ``[V6]:PORT``; port 0 ("any free port") only where ``allow_any_port``."""
    match = _ADDRESS_RE.match(address.strip())
    lowest = 0 if allow_any_port else 1
    if not match or not lowest <= int(match["port"]) < 65536:
        raise LocalError(f"address must be HOST:PORT, got {address!r}")
    return match["v6"] or match["host"], int(match["port"])


def format_address(host: str, port: int) -> str:
    """``HOST:PORT`` as :func:`parse_host_port` reads it (IPv6 in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True)
class RelayEndpoint:
    """Where the relay is and how to trust it: a pinned fingerprint, or a CA bundle."""

    host: str
    port: int
    fingerprint: str | None = None
    cafile: Path | None = None

    def __post_init__(self) -> None:
        if (self.fingerprint is None) == (self.cafile is None):
            raise LocalError("give the relay's certificate fingerprint or a CA file (exactly one)")

    @classmethod
    def parse(
        cls, address: str, fingerprint: str | None = None, cafile: Path | None = None
    ) -> RelayEndpoint:
        host, port = parse_host_port(address)
        pin = parse_fingerprint(fingerprint) if fingerprint is not None else None
        return cls(host, port, pin, cafile)

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


async def open_link(endpoint: RelayEndpoint, timeout: float = CONNECT_TIMEOUT_S) -> LinkStream:
    """Connect, handshake TLS 1.3 and check the pin before any byte of ours is sent."""
    if endpoint.cafile is not None:
        context = ca_client_context(endpoint.cafile)
        server_hostname: str | None = endpoint.host
    else:
        context = pinned_client_context()
        server_hostname = None
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(
            endpoint.host, endpoint.port, ssl=context, server_hostname=server_hostname or ""
        ),
        timeout,
    )
    if endpoint.fingerprint is not None:
        try:
            check_pin(writer.get_extra_info("ssl_object"), endpoint.fingerprint)
        except PinMismatch:
            writer.close()
            raise
    return LinkStream(reader, writer, Side.CLIENT)
