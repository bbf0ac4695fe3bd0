"""The PROXY v2 header a trusted balancer puts before TLS."""

from __future__ import annotations

import struct

import pytest

from core.errors import ProtocolError
from core.protocol.proxy_header import (
    MAX_PROXY_HEADER_REST,
    SIGNATURE,
    encode_proxy_v2,
    parse_proxy_v2,
)


def test_an_ipv4_header_names_the_client_and_its_length():
    header = encode_proxy_v2(("203.0.113.7", 51000), ("10.0.0.11", 8443))
    assert parse_proxy_v2(header + b"\x16\x03\x01") == (len(header), ("203.0.113.7", 51000))


def test_an_ipv6_header_names_the_client():
    header = encode_proxy_v2(("2001:db8::5", 443), ("2001:db8::1", 8443))
    assert parse_proxy_v2(header) == (len(header), ("2001:db8::5", 443))


@pytest.mark.parametrize("cut", [1, 5, 12, 15, 16, 20])
def test_a_header_cut_short_asks_for_more(cut):
    header = encode_proxy_v2(("203.0.113.7", 1), ("10.0.0.11", 2))
    assert parse_proxy_v2(header[:cut]) is None


def test_a_local_header_is_the_balancers_own_connection():
    local = SIGNATURE + bytes([0x20, 0x00]) + struct.pack("!H", 0)
    assert parse_proxy_v2(local) == (16, None)


@pytest.mark.parametrize(
    "data",
    [
        b"\x16\x03\x01\x02\x00",  # a TLS ClientHello straight away
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n",  # version 1 (text) is not read
        SIGNATURE + bytes([0x10, 0x11]) + struct.pack("!H", 12) + bytes(12),  # version 1 binary
        SIGNATURE + bytes([0x2F, 0x11]) + struct.pack("!H", 12) + bytes(12),  # unknown command
        SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", 4) + bytes(4),  # short addresses
        SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", MAX_PROXY_HEADER_REST + 1),
    ],
)
def test_anything_else_is_a_protocol_error(data):
    with pytest.raises(ProtocolError):
        parse_proxy_v2(data)
