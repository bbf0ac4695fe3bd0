"""Wake-on-LAN, as every party reasons about it (no sockets here: transport/wake.py sends).

A switched-off office PC is woken the way the peer does it: by another office PC of the same
municipality on the same LAN, which sends the magic packet (six 0xFF bytes, then the sleeping
PC's MAC sixteen times) as a UDP broadcast. Office PCs report their network card towards the
relay (:class:`LanCard`: MAC and IPv4 address with prefix); the relay picks a waker whose card is
on the same IPv4 network as the sleeping PC's last one; the waker checks that again itself
before it sends anything, and sends to a MAC no more often than :data:`WAKE_MIN_INTERVAL_S`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from core.errors import Error
from core.policy import PolicyError, normalise_mac

# The ports magic packets go to: 9 ("discard") is the usual one, 7 ("echo") what older network
# cards listen on; both cost nothing to a PC that is awake.
WAKE_PORTS = (9, 7)
# A waker sends to one MAC at most this often, however often the relay asks (a relay that is
# not trusted cannot turn an office PC into a packet cannon), and the relay asks no more often
# for one office PC (concurrent wake logins share the wait).
WAKE_MIN_INTERVAL_S = 30.0
# How long a wake login waits for the woken office PC to come online: a PC that boots and logs
# its agent on (auto-logon or a service) takes one to three minutes.
WAKE_WAIT_S = 240.0
# While it waits, the relay tells the viewer it is still waking the PC this often (each note
# also keeps the viewer's wait for a reply from running out).
WAKE_PROGRESS_INTERVAL_S = 10.0
# Wake requests of one tenant, per minute, across its office PCs: a stolen account cannot wake
# a whole town hall at night.
MAX_WAKES_PER_TENANT_PER_MIN = 30
# The longest IPv4 networks that are LANs (a /31 or /32 has no broadcast to reach others by).
MAX_LAN_PREFIX = 30
MAGIC_PREFIX = b"\xff" * 6
MAC_REPEATS = 16


class RecentWakes:
    """When each office PC (by MAC or host ID) was last woken, for :data:`WAKE_MIN_INTERVAL_S`:
    older entries are forgotten on each record, so the map holds one interval's wakes only."""

    def __init__(self) -> None:
        self._at: dict[str, float] = {}

    def seconds_since(self, key: str, now: float) -> float | None:
        """How long ago ``key`` was woken, if within the interval; None otherwise."""
        at = self._at.get(key)
        return None if at is None or now - at >= WAKE_MIN_INTERVAL_S else now - at

    def record(self, key: str, now: float) -> None:
        for old in [k for k, at in self._at.items() if now - at >= WAKE_MIN_INTERVAL_S]:
            del self._at[old]
        self._at[key] = now


class WakeError(Error):
    """A MAC or LAN address is malformed, or a wake would leave the sender's own LAN."""


@dataclass(frozen=True)
class LanCard:
    """An office PC's network card towards the relay: normalised MAC and IPv4 interface."""

    mac: str
    address: ipaddress.IPv4Interface

    @classmethod
    def parse(cls, mac: str, address: str) -> LanCard:
        try:
            normalised = normalise_mac(mac)
        except PolicyError as exc:
            raise WakeError(str(exc)) from exc
        if int(normalised.replace(":", ""), 16) == 0 or normalised == "FF:FF:FF:FF:FF:FF":
            raise WakeError(f"not a network card's MAC address: {normalised}")
        if not isinstance(address, str) or len(address) > 18:
            raise WakeError("a LAN address is an IPv4 address with prefix, as 192.0.2.7/24")
        try:
            interface = ipaddress.IPv4Interface(address)
        except ValueError as exc:
            raise WakeError(f"not an IPv4 address with prefix: {address[:18]!r}") from exc
        if interface.network.prefixlen > MAX_LAN_PREFIX or "/" not in address:
            raise WakeError(
                f"{address} is not on a LAN others can be reached on (/{MAX_LAN_PREFIX} at most)"
            )
        if interface.ip.is_loopback or interface.ip.is_multicast or interface.ip.is_unspecified:
            raise WakeError(f"{interface.ip} is not a LAN address")
        return cls(normalised, interface)

    @classmethod
    def optional(cls, mac: str, address: str) -> LanCard | None:
        """The card an office PC reported, or None when it reported none or a malformed one
        (Wake-on-LAN is then not offered for it; its login goes on)."""
        if not mac and not address:
            return None
        try:
            return cls.parse(mac, address)
        except WakeError:
            return None

    @property
    def wire_address(self) -> str:
        return self.address.with_prefixlen

    def same_lan(self, other: LanCard) -> bool:
        return self.address.network == other.address.network

    def broadcast(self) -> str:
        """Where the magic packet for this card goes: its network's broadcast address."""
        return str(self.address.network.broadcast_address)


def magic_packet(mac: str) -> bytes:
    """The Wake-on-LAN magic packet for ``mac`` (any notation :func:`normalise_mac` reads)."""
    try:
        digits = bytes.fromhex(normalise_mac(mac).replace(":", ""))
    except PolicyError as exc:
        raise WakeError(str(exc)) from exc
    return MAGIC_PREFIX + digits * MAC_REPEATS


def woken_mac(packet: bytes) -> str | None:
    """The MAC a magic packet wakes (as AA:BB:...), or None if it is not one."""
    if len(packet) < len(MAGIC_PREFIX) + 6 * MAC_REPEATS or not packet.startswith(MAGIC_PREFIX):
        return None
    body = packet[len(MAGIC_PREFIX) : len(MAGIC_PREFIX) + 6 * MAC_REPEATS]
    mac = body[:6]
    if body != mac * MAC_REPEATS:
        return None
    return ":".join(f"{b:02X}" for b in mac)


def wake_target(own: LanCard, mac: str, address: str) -> LanCard:
    """The card a relay's :class:`~core.protocol.control.Wake` names, checked by the waker:
    well formed and on the waker's own LAN, or :class:`WakeError`."""
    target = LanCard.parse(mac, address)
    if not own.same_lan(target):
        raise WakeError(
            f"{target.wire_address} is not on this office PC's LAN {own.address.network}"
        )
    return target
