"""A relay's part in a cluster, and what it is for a relay that is alone (the default)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.protocol.control import SessionAnswer, SessionOffer, Wake

if TYPE_CHECKING:
    from relay.host_channels import HostChannels
    from relay.sessions import LiveSession, LiveSessions


class HostElsewhere(Exception):
    """The node said to hold an office PC does not (any more), or cannot be reached."""


class Cluster:
    """What the relay's parts ask of the cluster. Alone, nothing is anywhere else: every office
    PC online is on this relay, and so is every session."""

    node_id = ""
    draining = False
    max_hosts = 2**63  # no cap of its own: the relay's connection limits apply

    @property
    def attach_address(self) -> str:
        """Where office PCs attach sessions joined here ("": the address they connect to)."""
        return ""

    def bind(self, channels: HostChannels, sessions: LiveSessions) -> None:
        """The parts whose work the cluster's messages ask for."""

    async def start(self) -> None:
        """Join the cluster (before the relay listens)."""

    async def close(self) -> None:
        """Leave the cluster (after the relay's connections are closed)."""

    async def host_online(self, host_id: str, since: float) -> None:
        """An office PC's control channel came online here at ``since`` (wall clock)."""

    async def host_offline(self, host_id: str) -> None:
        """An office PC's control channel here ended."""

    async def locate(self, host_id: str) -> str | None:
        """The other node holding the office PC, or None."""
        return None

    async def ask(self, node_id: str, host_id: str, offer: SessionOffer) -> SessionAnswer:
        """The office PC's answer to ``offer``, through the node holding it."""
        raise HostElsewhere(host_id)

    async def tell_session_ended(self, host_id: str, session_id: str, reason: str) -> bool:
        """Tell the office PC (held by another node) that its session ended."""
        return False

    async def session_started(self, session: LiveSession) -> None:
        """A session joined here (for the admin API of every node)."""

    async def session_ended(self, session_id: str) -> None:
        """A session here ended."""

    async def end_session(self, session_id: str, reason: str) -> bool:
        """Ask the node running ``session_id`` to end it; False if no node does."""
        return False

    def host_cut(self, host_id: str, session_id: str, reason: str) -> None:
        """Pass office PC ``host_id``'s report that it cut ``session_id`` to the node running
        that session (it ends the session's resume ticket there)."""

    async def push_policy(self, host_id: str) -> bool:
        """Ask the node holding ``host_id`` to push its policy now; False if none does."""
        return False

    async def push_device_list(self, host_id: str) -> bool:
        """Ask the node holding ``host_id`` to push its signed list of home PCs now; False if
        none does."""
        return False

    async def wake(self, host_id: str, wake: Wake) -> bool:
        """Ask the node holding office PC ``host_id`` to have it send ``wake``; False if none
        does."""
        return False
