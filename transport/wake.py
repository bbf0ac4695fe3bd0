"""Wake-on-LAN on the office PC's side: which network card it reaches the relay through, and
sending a magic packet to a sleeping office PC of its LAN (core/wake.py reasons about both)."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable

import psutil

from core.wake import WAKE_PORTS, LanCard, RecentWakes, WakeError, magic_packet, wake_target

log = logging.getLogger(__name__)


def lan_card_for(local_ip: str) -> LanCard | None:
    """The network card holding ``local_ip`` (the address a connection to the relay left
    from), or None when no card with a MAC has it (loopback, a VPN tunnel without one)."""
    for addresses in psutil.net_if_addrs().values():
        ipv4 = next(
            (a for a in addresses if a.family == socket.AF_INET and a.address == local_ip), None
        )
        link = next((a for a in addresses if a.family == psutil.AF_LINK), None)
        if ipv4 is None or link is None or not ipv4.netmask:
            continue
        prefix = _prefix_of(ipv4.netmask)
        return LanCard.optional(link.address, f"{ipv4.address}/{prefix}")
    return None


def lan_card_of_socket(sockname: object) -> LanCard | None:
    """The card of a connected socket's local address (``get_extra_info("sockname")``)."""
    if not isinstance(sockname, tuple) or not sockname or not isinstance(sockname[0], str):
        return None
    return lan_card_for(sockname[0])


def _prefix_of(netmask: str) -> int:
    return sum(bin(int(part)).count("1") for part in netmask.split("."))


class Waker:
    """Sends magic packets for the relay, only to its own LAN and not too often to one MAC."""

    def __init__(
        self,
        own: LanCard | None = None,
        clock: Callable[[], float] = time.monotonic,
        send: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self.own = own  # set by each control channel: the card it left through
        self._clock = clock
        self._send = send or send_magic_packet
        self._recent = RecentWakes()

    def wake(self, mac: str, address: str) -> bool:
        """Send the magic packet for ``mac`` (last seen at ``address``); False when refused
        (no known card, another LAN, sent to it moments ago) or the send failed."""
        if self.own is None:
            log.warning("wake refused: this office PC's network card is not known")
            return False
        try:
            target = wake_target(self.own, mac, address)
        except WakeError as exc:
            log.warning("wake refused: %s", exc)
            return False
        now = self._clock()
        ago = self._recent.seconds_since(target.mac, now)
        if ago is not None:
            log.info("wake of %s skipped: sent %.0f s ago", target.mac, ago)
            return False
        try:
            self._send(target.mac, target.broadcast(), str(self.own.address.ip))
        except OSError as exc:
            log.warning("wake of %s not sent: %s", target.mac, exc)
            return False
        self._recent.record(target.mac, now)
        log.info("magic packet sent to %s on %s", target.mac, target.broadcast())
        return True


def send_magic_packet(mac: str, broadcast: str, source_ip: str) -> None:
    """One magic packet for ``mac`` to ``broadcast`` on each of :data:`WAKE_PORTS`, sent from
    the card holding ``source_ip`` (so it leaves on the LAN, not the default route)."""
    packet = magic_packet(mac)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sender.bind((source_ip, 0))
        for port in WAKE_PORTS:
            sender.sendto(packet, (broadcast, port))
