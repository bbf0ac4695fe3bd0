"""Messages between relay nodes over PostgreSQL LISTEN/NOTIFY.

Chosen over a broker of its own because the cluster already depends on PostgreSQL and the rate
is small: two messages per login whose office PC is on another node, one per admin action on
another node, one per office PC coming online. NOTIFY is delivered to every listening session
once committed, in order per sender, and is lost for a node that is not listening at that
moment (a restart): every use here tolerates a lost message (an offer times out and the viewer
retries with its ticket; a stale location is overwritten when the office PC reconnects).

Each node listens on its own channel and on the cluster's broadcast channel. A message is a
JSON object with an ``op`` and the sender's ``from``; a node ignores its own broadcasts.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from core.hostpolicy.backoff import Backoff

log = logging.getLogger("telework.relay.cluster")

# The channel every node listens on for messages to all.
BROADCAST_CHANNEL = "telework_cluster"
# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; ours are a few hundred (an offer
# carries a ~1 kB certificate).
MAX_BUS_PAYLOAD_BYTES = 7900
# A lost listening connection (PostgreSQL restarted) is opened again after a growing pause.
BUS_RECONNECT_FIRST_S = 0.5
BUS_RECONNECT_MAX_S = 10.0

Handler = Callable[[dict[str, Any]], None]


def node_channel(node_id: str) -> str:
    """The channel a node listens on: a digest of its ID (IDs may hold characters, and be
    longer than, what a PostgreSQL identifier allows)."""
    return "telework_node_" + hashlib.sha256(node_id.encode()).hexdigest()[:32]


class BusError(Exception):
    """A message could not be sent (the database is unreachable, or the message too big)."""


class ClusterBus:
    """One node's end of the bus: a listening connection and a sending one."""

    def __init__(self, conninfo: str, node_id: str, handle: Handler) -> None:
        self._conninfo = conninfo
        self.node_id = node_id
        self._handle = handle
        self._listener: asyncio.Task[None] | None = None
        self._sender: psycopg.AsyncConnection[Any] | None = None
        self._send_lock = asyncio.Lock()
        self.listening = asyncio.Event()
        self.messages_in = 0
        self.messages_out = 0

    async def start(self) -> None:
        """Listen (returns once listening: a message sent to this node after it is heard)."""
        self._listener = asyncio.create_task(self._listen_forever())
        await self.listening.wait()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self._sender is not None:
            await self._sender.close()
            self._sender = None

    async def send(self, node_id: str, message: dict[str, Any]) -> None:
        """Send ``message`` to one node; BusError if it cannot be sent now."""
        await self._notify(node_channel(node_id), message)

    async def broadcast(self, message: dict[str, Any]) -> None:
        """Send ``message`` to every other node; BusError if it cannot be sent now."""
        await self._notify(BROADCAST_CHANNEL, message)

    async def _notify(self, channel: str, message: dict[str, Any]) -> None:
        payload = json.dumps({**message, "from": self.node_id}, separators=(",", ":"))
        if len(payload.encode()) > MAX_BUS_PAYLOAD_BYTES:
            raise BusError(f"message {message.get('op')!r} too big for the bus")
        async with self._send_lock:
            try:
                if self._sender is None or self._sender.closed:
                    self._sender = await psycopg.AsyncConnection.connect(
                        self._conninfo, autocommit=True
                    )
                await self._sender.execute("SELECT pg_notify(%s, %s)", (channel, payload))
            except psycopg.Error as exc:
                if self._sender is not None:
                    await self._sender.close()
                self._sender = None
                raise BusError("the cluster bus cannot be reached") from exc
        self.messages_out += 1

    async def _listen_forever(self) -> None:
        backoff = Backoff(BUS_RECONNECT_FIRST_S, BUS_RECONNECT_MAX_S)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True
                ) as conn:
                    for channel in (node_channel(self.node_id), BROADCAST_CHANNEL):
                        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    backoff.reset()
                    self.listening.set()
                    async for notify in conn.notifies():
                        self._deliver(notify.payload)
            except psycopg.Error as exc:
                self.listening.clear()
                delay = backoff.next_delay()
                log.warning("cluster bus lost (%s); listening again in %.1f s", exc, delay)
                await asyncio.sleep(delay)

    def _deliver(self, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            log.warning("cluster bus: a message that is not JSON was ignored")
            return
        if not isinstance(message, dict) or message.get("from") == self.node_id:
            return
        self.messages_in += 1
        try:
            self._handle(message)
        except Exception:  # a bug of ours must not stop the node hearing the cluster
            log.exception("cluster bus: handling %r failed", message.get("op"))
