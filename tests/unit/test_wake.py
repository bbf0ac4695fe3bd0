"""Wake-on-LAN's reasoning (core/wake.py) and the waker's own limits (transport/wake.py): the
magic packet's shape, which cards and LANs are accepted, and that an office PC sends only to
its own LAN and to one MAC at most every WAKE_MIN_INTERVAL_S, however often it is asked."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.wake import (
    MAC_REPEATS,
    WAKE_MIN_INTERVAL_S,
    LanCard,
    RecentWakes,
    WakeError,
    magic_packet,
    wake_target,
    woken_mac,
)
from transport.wake import Waker, _prefix_of

OWN = LanCard.parse("02:77:00:00:00:02", "10.77.0.2/24")


@given(st.binary(min_size=6, max_size=6).filter(lambda b: b != b"\0" * 6))
def test_a_magic_packet_wakes_exactly_its_mac(raw):
    mac = ":".join(f"{b:02X}" for b in raw)
    packet = magic_packet(mac.lower().replace(":", "-"))
    assert packet[:6] == b"\xff" * 6 and len(packet) == 6 + 6 * MAC_REPEATS
    assert woken_mac(packet) == mac


@pytest.mark.parametrize(
    "packet",
    [
        b"",
        b"\xff" * 6 + b"\x02" * 5,
        b"\xfe" + b"\xff" * 5 + bytes(range(6)) * 16,
        b"\xff" * 6 + bytes(range(6)) * 15 + bytes(range(1, 7)),
    ],
)
def test_anything_else_wakes_nobody(packet):
    assert woken_mac(packet) is None


@pytest.mark.parametrize(
    ("mac", "address"),
    [
        ("00:00:00:00:00:00", "10.0.0.2/24"),
        ("FF:FF:FF:FF:FF:FF", "10.0.0.2/24"),
        ("not-a-mac", "10.0.0.2/24"),
        ("02:00:00:00:00:01", "10.0.0.2"),  # no prefix
        ("02:00:00:00:00:01", "10.0.0.2/31"),  # no broadcast on a point-to-point link
        ("02:00:00:00:00:01", "127.0.0.1/8"),
        ("02:00:00:00:00:01", "fe80::1/64"),
        ("02:00:00:00:00:01", "10.0.0.256/24"),
        ("02:00:00:00:00:01", "1" * 40),
    ],
)
def test_a_card_that_is_not_on_a_lan_is_refused(mac, address):
    with pytest.raises(WakeError):
        LanCard.parse(mac, address)
    assert LanCard.optional(mac, address) is None


def test_a_card_reads_any_mac_notation_and_names_its_broadcast():
    card = LanCard.parse("02-77-00-00-00-0a", "192.168.10.7/23")
    assert card.mac == "02:77:00:00:00:0A"
    assert card.wire_address == "192.168.10.7/23"
    assert card.broadcast() == "192.168.11.255"
    assert LanCard.optional("", "") is None


def test_a_waker_wakes_only_its_own_lan():
    assert wake_target(OWN, "02:77:00:00:00:03", "10.77.0.3/24").mac == "02:77:00:00:00:03"
    with pytest.raises(WakeError, match="not on this office PC's LAN"):
        wake_target(OWN, "02:77:00:00:00:03", "10.78.0.3/24")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_waker_sends_to_one_mac_at_most_every_interval():
    clock, sent = Clock(), []
    waker = Waker(OWN, clock, lambda *packet: sent.append(packet))
    assert waker.wake("02:77:00:00:00:03", "10.77.0.3/24")
    assert sent == [("02:77:00:00:00:03", "10.77.0.255", "10.77.0.2")]
    clock.now += WAKE_MIN_INTERVAL_S - 1
    assert not waker.wake("02-77-00-00-00-03", "10.77.0.3/24")  # same MAC, other spelling
    assert waker.wake("02:77:00:00:00:04", "10.77.0.4/24")  # another PC is another matter
    clock.now += 1
    assert waker.wake("02:77:00:00:00:03", "10.77.0.3/24")
    assert len(sent) == 3


@pytest.mark.parametrize(
    ("own", "mac", "address"),
    [
        (None, "02:77:00:00:00:03", "10.77.0.3/24"),  # its card is not known
        (OWN, "02:77:00:00:00:03", "10.9.0.3/24"),  # another LAN
        (OWN, "ff:ff:ff:ff:ff:ff", "10.77.0.3/24"),
        (OWN, "02:77:00:00:00:03", "garbage"),
    ],
)
def test_the_waker_refuses_what_a_relay_should_not_ask(own, mac, address):
    sent: list[tuple[str, str, str]] = []
    waker = Waker(own, Clock(), lambda *packet: sent.append(packet))
    assert not waker.wake(mac, address)
    assert sent == []


def test_a_failed_send_is_not_counted_as_sent():
    sent: list[tuple[str, ...]] = []
    down = True

    def send(*packet: str) -> None:
        if down:
            raise OSError("Network is unreachable")
        sent.append(packet)

    waker = Waker(OWN, Clock(), send)
    assert not waker.wake("02:77:00:00:00:03", "10.77.0.3/24")
    down = False
    assert waker.wake("02:77:00:00:00:03", "10.77.0.3/24")  # tried again at once
    assert len(sent) == 1


@pytest.mark.parametrize(
    ("mask", "prefix"), [("255.255.255.0", 24), ("255.255.254.0", 23), ("255.0.0.0", 8)]
)
def test_netmasks_read_as_prefixes(mask, prefix):
    assert _prefix_of(mask) == prefix


def test_recent_wakes_say_how_long_ago_and_forget_what_is_older_than_the_interval():
    recent = RecentWakes()
    recent.record("AA:BB:CC:DD:EE:01", 100.0)
    assert recent.seconds_since("AA:BB:CC:DD:EE:01", 110.0) == 10.0
    assert recent.seconds_since("AA:BB:CC:DD:EE:02", 110.0) is None
    assert recent.seconds_since("AA:BB:CC:DD:EE:01", 100.0 + WAKE_MIN_INTERVAL_S) is None
    recent.record("AA:BB:CC:DD:EE:02", 100.0 + WAKE_MIN_INTERVAL_S)
    assert list(recent._at) == ["AA:BB:CC:DD:EE:02"]  # the older wake was dropped, not kept
