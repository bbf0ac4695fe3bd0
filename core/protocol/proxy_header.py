"""The PROXY protocol's version 2 header (HAProxy's ``send-proxy-v2``), read by a relay node
behind a load balancer in TCP mode: the balancer opens the connection, so without the header
every viewer and office PC would seem to come from the balancer's address, and per-source
limits and lockouts would count everyone as one source.

Only the binary version 2 is read (no text version 1: a fixed-size, unambiguous header), and
only from the addresses the operator trusts (``serve --trusted-proxy``): anyone else could
claim any address with it.
"""

from __future__ import annotations

import ipaddress
import struct

from core.errors import ProtocolError

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
# The fixed part: signature, version and command, family and transport, length of the rest.
FIXED_BYTES = 16
# Longest rest we accept: the addresses (36 bytes for IPv6) and the TLVs a balancer may add
# (ALPN, authority, a unique ID); a longer header is not from a balancer we configured.
MAX_PROXY_HEADER_REST = 512
_VERSION_2 = 0x2
_COMMAND_LOCAL, _COMMAND_PROXY = 0x0, 0x1
_TCP_OVER_IPV4, _TCP_OVER_IPV6 = 0x11, 0x21


def parse_proxy_v2(data: bytes) -> tuple[int, tuple[str, int] | None] | None:
    """Read a version 2 header at the start of ``data``.

    Returns None while more bytes are needed; else (its length, the client's (address, port)),
    the address None for a LOCAL header (the balancer's own health check) or a family other
    than TCP over IPv4/IPv6. Raises ProtocolError if ``data`` does not start with one."""
    prefix = data[: len(SIGNATURE)]
    if not SIGNATURE.startswith(prefix):
        raise ProtocolError("expected a PROXY protocol v2 header from the trusted balancer")
    if len(data) < FIXED_BYTES:
        return None
    version, command = data[12] >> 4, data[12] & 0x0F
    if version != _VERSION_2 or command not in (_COMMAND_LOCAL, _COMMAND_PROXY):
        raise ProtocolError("PROXY header: not version 2 LOCAL or PROXY")
    (rest,) = struct.unpack_from("!H", data, 14)
    if rest > MAX_PROXY_HEADER_REST:
        raise ProtocolError("PROXY header: longer than a balancer sends")
    if len(data) < FIXED_BYTES + rest:
        return None
    total = FIXED_BYTES + rest
    if command == _COMMAND_LOCAL:
        return total, None
    family, body = data[13], data[FIXED_BYTES:total]
    if family == _TCP_OVER_IPV4 and rest >= 12:
        return total, (str(ipaddress.IPv4Address(body[0:4])), struct.unpack_from("!H", body, 8)[0])
    if family == _TCP_OVER_IPV6 and rest >= 36:
        return total, (
            str(ipaddress.IPv6Address(body[0:16])),
            struct.unpack_from("!H", body, 32)[0],
        )
    if family in (_TCP_OVER_IPV4, _TCP_OVER_IPV6):
        raise ProtocolError("PROXY header: address block too short")
    return total, None  # UNSPEC or a socket family without addresses: the balancer's own


def encode_proxy_v2(client: tuple[str, int], server: tuple[str, int]) -> bytes:
    """A PROXY v2 header for a TCP connection from ``client`` to ``server`` (tests, benches)."""
    source, destination = ipaddress.ip_address(client[0]), ipaddress.ip_address(server[0])
    family = _TCP_OVER_IPV4 if source.version == 4 else _TCP_OVER_IPV6
    body = source.packed + destination.packed + struct.pack("!HH", client[1], server[1])
    return (
        SIGNATURE
        + bytes([(_VERSION_2 << 4) | _COMMAND_PROXY, family])
        + struct.pack("!H", len(body))
        + body
    )
