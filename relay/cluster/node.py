"""A relay node's part in the cluster: its lease, where its office PCs are, offers to and from
the node holding an office PC, and the end of dead nodes' sessions.

How a viewer reaches an office PC held by another node: the node that takes the login checks
it (OTP or ticket, grant) as a lone relay would, finds the office PC's node in the directory
(``host_locations``), and sends it the offer over the bus. That node asks the office PC on its
control channel, naming this node's advertised address as where to attach, and sends back the
answer. The office PC attaches its data connection here, and the session is forwarded here:
viewers need only the one public address, and a session's bytes cross one node.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from core.errors import LocalError
from core.protocol.control import RefusalReason, SessionAnswer, SessionOffer, Wake
from core.protocol.notices import HOST_CUTS
from relay.cluster.bus import BusError, ClusterBus
from relay.cluster.local import Cluster, HostElsewhere
from relay.context import RelayContext
from relay.errors import StoreUnavailable
from relay.store.nodes import ClusterSession
from transport.link_stream import PeerGone

if TYPE_CHECKING:
    from relay.host_channels import HostChannels
    from relay.sessions import LiveSession, LiveSessions

log = logging.getLogger("telework.relay.cluster")

T = TypeVar("T")

# A node renews its lease this often; a node whose lease (NODE_LEASE_S) ran out is dead for the
# others. The lease is long against the heartbeat so that a node busy for a few seconds is not
# declared dead while it serves; a dead node's office PCs do not wait for it (they reconnect to
# other nodes as soon as their link drops), only the end of its sessions in the records does.
NODE_HEARTBEAT_S = 1.0
NODE_LEASE_S = 10.0
# Live sessions' byte counts are written to the directory every this many heartbeats (for the
# admin API of every node).
SESSION_BYTES_EVERY_BEATS = 2
# Dead nodes are looked for every this many heartbeats.
REAP_EVERY_BEATS = 2
# Office PCs a node holds at most by default; a full node refuses more (they retry elsewhere).
NODE_MAX_HOSTS = 5_000
# The reason in the session_end records of a dead node's sessions (usage reports read it).
RELAY_NODE_LOST = "relay_node_lost"


@dataclass(frozen=True)
class NodeOptions:
    """How a relay joins a cluster (``serve --node-id``)."""

    node_id: str
    conninfo: str  # the directory's PostgreSQL, as libpq takes it (the bus listens there)
    advertise: str = ""  # HOST:PORT office PCs reach this node at; "": the listening address
    max_hosts: int = NODE_MAX_HOSTS
    lease_s: float = NODE_LEASE_S  # tests shorten it


class ClusterNode(Cluster):
    """This relay as a node of a cluster sharing one PostgreSQL directory."""

    def __init__(
        self,
        context: RelayContext,
        node_id: str,
        address: str,
        conninfo: str,
        max_hosts: int = NODE_MAX_HOSTS,
        lease_s: float = NODE_LEASE_S,
    ) -> None:
        self._context = context
        self.lease_s = lease_s
        self.node_id = node_id
        self.address = address
        self.max_hosts = max_hosts
        self.draining = False
        self.bus = ClusterBus(conninfo, node_id, self._on_message)
        self._channels: HostChannels | None = None
        self._sessions: LiveSessions | None = None
        self._answers: dict[str, asyncio.Future[SessionAnswer]] = {}
        # Office PC ID -> the answers awaited from other nodes for it, and the node asked each.
        self._asking: dict[str, dict[asyncio.Future[SessionAnswer], str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._beating: asyncio.Task[None] | None = None
        # The lease's directory calls (heartbeats, looking for dead nodes) run on a thread of
        # their own: behind the node's other directory calls (thousands queue when office PCs
        # reconnect in a wave) a heartbeat came later than the lease, and the other nodes took
        # this busy node for dead, dropped where its office PCs are and ended its sessions.
        self._lease_thread = ThreadPoolExecutor(1, thread_name_prefix="telework-lease")
        self.sessions_lost_ended = 0  # sessions of dead nodes this node recorded the end of

    @property
    def attach_address(self) -> str:
        return self.address

    def bind(self, channels: HostChannels, sessions: LiveSessions) -> None:
        self._channels, self._sessions = channels, sessions

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        await self._register()
        await self.bus.start()
        self._beating = asyncio.create_task(self._heartbeat())

    async def close(self) -> None:
        if self._beating is not None:
            self._beating.cancel()
            await asyncio.gather(self._beating, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.bus.close()
        try:
            await self._context.db(self._context.directory.remove_node, self.node_id)
        except StoreUnavailable:
            pass  # its lease runs out instead
        # After a heartbeat still running there (the directory is closed after this).
        await asyncio.get_running_loop().run_in_executor(None, self._lease_thread.shutdown)

    async def _lease_db(self, function: Callable[..., T], *args: Any) -> T:
        """A directory call of the lease's, as :meth:`RelayContext.db` but on the lease's
        thread, so that it never waits behind the node's other directory calls."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._lease_thread, partial(function, *args))
        except sa.exc.OperationalError as exc:
            self._context.store_faults.report(exc)
            raise StoreUnavailable("the directory cannot be used now") from exc

    async def _register(self) -> None:
        context = self._context
        # A previous run under this ID that was killed: its sessions end now, as a dead node's
        # (only its: the others' leases may have run out in an outage they are coming back from).
        await context.db(context.directory.expire_node, self.node_id)
        await self._reap(only=self.node_id)
        await self._write_own_row()

    async def _write_own_row(self) -> None:
        """This node's row in the directory, with a fresh lease."""
        context = self._context
        await context.db(
            context.directory.register_node,
            self.node_id,
            self.address,
            self.max_hosts,
            self.lease_s,
            context.wall(),
        )

    async def _heartbeat(self) -> None:
        beat = 0
        loop = asyncio.get_running_loop()
        # Since when this node's heartbeats have reached the directory without a failure. Dead
        # nodes are looked for only once that is a whole lease ago: after an outage of the
        # database every lease has run out, and the others must have had the time to renew
        # theirs before one is taken for dead (and its sessions ended on record).
        reachable_since = loop.time()
        while True:
            await asyncio.sleep(NODE_HEARTBEAT_S)
            beat += 1
            try:
                await self._beat(with_bytes=beat % SESSION_BYTES_EVERY_BEATS == 0)
                settled = loop.time() - reachable_since >= self.lease_s
                if settled and beat % REAP_EVERY_BEATS == 0:
                    await self._reap()
            except StoreUnavailable:
                reachable_since = loop.time()  # counted where it failed; the lease allows retries

    async def _beat(self, *, with_bytes: bool) -> None:
        context = self._context
        channels, sessions = self._bound()
        live = list(sessions.live.values())
        counts = [(s.session_id, s.bytes_to_viewer, s.bytes_to_host) for s in live]
        renewed = await self._lease_db(
            partial(
                context.directory.node_heartbeat,
                self.node_id,
                hosts=len(channels.online),
                sessions=len(live),
                draining=self.draining,
                lease_s=self.lease_s,
                now=context.wall(),
                session_bytes=counts if with_bytes else (),
            )
        )
        if not renewed:
            await self._rejoin()

    async def _rejoin(self) -> None:
        """Another node took this one for dead (it was stalled past its lease) and ended its
        sessions' records: register again, and say again where its office PCs and sessions are."""
        log.warning("node %s was taken for dead by the cluster; joining again", self.node_id)
        channels, sessions = self._bound()
        await self._write_own_row()
        for host_id, channel in list(channels.online.items()):
            await self.host_online(host_id, channel.online_since)
        for session in list(sessions.live.values()):
            await self.session_started(session)

    async def _reap(self, only: str | None = None) -> None:
        """End the records of the sessions dead nodes (or the dead node ``only``) were running."""
        context = self._context
        directory = context.directory
        now = context.wall()

        def take_and_record() -> list[ClusterSession]:
            with directory.atomic():
                lost = directory.take_dead_nodes(now, only)
                for session in lost:
                    end = max(session.updated_at, session.started_at)
                    directory.audit(
                        "session_end",
                        tenant=session.tenant,
                        user=session.user,
                        host_id=session.host_id,
                        source=session.source,
                        detail={
                            "session": session.session_id,
                            "reason": RELAY_NODE_LOST,
                            "node": session.node_id,
                            "bytes_to_viewer": session.bytes_to_viewer,
                            "bytes_to_host": session.bytes_to_host,
                            "duration_s": round(end - session.started_at, 3),
                            "recorded_at": now,
                        },
                        now=end,
                    )
            return lost

        if only is None and not await self._lease_db(directory.any_dead_node, now):
            return
        lost = await self._lease_db(take_and_record)
        if lost:
            self.sessions_lost_ended += len(lost)
            log.warning("%d sessions of dead relay nodes ended (%s)", len(lost), RELAY_NODE_LOST)

    # -- office PCs ------------------------------------------------------------------------

    async def host_online(self, host_id: str, since: float) -> None:
        self._moved(host_id, self.node_id)
        context = self._context
        try:
            await context.db(context.directory.set_host_location, host_id, self.node_id, since)
            await self.bus.broadcast({"op": "host_online", "host_id": host_id, "since": since})
        except (StoreUnavailable, BusError):
            log.warning("could not tell the cluster that an office PC is here")

    async def host_offline(self, host_id: str) -> None:
        context = self._context
        try:
            await context.db(context.directory.clear_host_location, host_id, self.node_id)
        except StoreUnavailable:
            pass  # its location names this node, which answers "not here" until it is cleared

    async def locate(self, host_id: str) -> str | None:
        context = self._context
        node = await context.db(context.directory.host_node, host_id, context.wall())
        if node is None or node.node_id == self.node_id:
            return None
        return node.node_id

    async def ask(self, node_id: str, host_id: str, offer: SessionOffer) -> SessionAnswer:
        future: asyncio.Future[SessionAnswer] = asyncio.get_running_loop().create_future()
        self._answers[offer.session_id] = future
        asking = self._asking.setdefault(host_id, {})
        asking[future] = node_id
        try:
            await self.bus.send(
                node_id,
                {
                    "op": "offer",
                    "host_id": host_id,
                    "session_id": offer.session_id,
                    "tenant": offer.tenant,
                    "user": offer.user,
                    "device_cert": offer.device_cert,
                    "macs": offer.macs,
                    "source": offer.source,
                    "attach_to": offer.attach_to,
                    "home_check": offer.home_check,
                },
            )
            answer = await future
        except BusError as exc:
            raise HostElsewhere(host_id) from exc
        finally:
            self._answers.pop(offer.session_id, None)
            asking.pop(future, None)
            if not asking and self._asking.get(host_id) is asking:
                del self._asking[host_id]
        if not answer.accept and answer.reason == RefusalReason.HOST_OFFLINE:
            raise HostElsewhere(host_id)
        return answer

    async def tell_session_ended(self, host_id: str, session_id: str, reason: str) -> bool:
        node_id = await self._locate_quietly(host_id)
        if node_id is None:
            return False
        message = {"op": "session_end", "host_id": host_id, "session_id": session_id}
        return await self._send_quietly(node_id, {**message, "reason": reason})

    async def push_policy(self, host_id: str) -> bool:
        node_id = await self._locate_quietly(host_id)
        if node_id is None:
            return False
        return await self._send_quietly(node_id, {"op": "push_policy", "host_id": host_id})

    async def push_device_list(self, host_id: str) -> bool:
        node_id = await self._locate_quietly(host_id)
        if node_id is None:
            return False
        return await self._send_quietly(node_id, {"op": "push_device_list", "host_id": host_id})

    async def wake(self, host_id: str, wake: Wake) -> bool:
        node_id = await self._locate_quietly(host_id)
        if node_id is None or node_id == self.node_id:
            return False
        message = {"op": "wake", "host_id": host_id, "mac": wake.mac, "address": wake.address}
        return await self._send_quietly(node_id, message)

    # -- sessions --------------------------------------------------------------------------

    async def session_started(self, session: LiveSession) -> None:
        context = self._context
        row = ClusterSession(
            session.session_id,
            self.node_id,
            session.tenant,
            session.user,
            session.host_id,
            session.source,
            session.started_at,
            session.bytes_to_viewer,
            session.bytes_to_host,
            context.wall(),
        )
        try:
            await context.db(context.directory.add_cluster_session, row)
        except StoreUnavailable:
            pass  # the admin API of other nodes misses it; the session runs on

    async def session_ended(self, session_id: str) -> None:
        context = self._context
        try:
            await context.db(context.directory.remove_cluster_session, session_id)
        except StoreUnavailable:
            pass  # removed with this node, or when its heartbeat rewrites the list

    async def end_session(self, session_id: str, reason: str) -> bool:
        context = self._context
        session = await context.db(
            context.directory.find_cluster_session, session_id, context.wall()
        )
        if session is None or session.node_id == self.node_id:
            return False
        message = {"op": "end_session", "session_id": session_id, "reason": reason}
        return await self._send_quietly(session.node_id, message)

    def host_cut(self, host_id: str, session_id: str, reason: str) -> None:
        if reason in HOST_CUTS:
            self._spawn(self._pass_host_cut(host_id, session_id, reason))

    async def _pass_host_cut(self, host_id: str, session_id: str, reason: str) -> None:
        context = self._context
        try:
            session = await context.db(
                context.directory.find_cluster_session, session_id, context.wall()
            )
        except StoreUnavailable:
            return  # counted where it failed: the ticket keeps its ordinary lifetime
        if session is not None and session.node_id != self.node_id:
            message = {
                "op": "host_cut",
                "host_id": host_id,
                "session_id": session_id,
                "reason": reason,
            }
            await self._send_quietly(session.node_id, message)

    # -- what other nodes ask ----------------------------------------------------------------

    def _on_message(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        channels, sessions = self._bound()
        if op == "answer":
            future = self._answers.get(str(message["session_id"]))
            if future is not None and not future.done():
                future.set_result(
                    SessionAnswer(
                        str(message["session_id"]),
                        bool(message["accept"]),
                        str(message.get("reason", "")),
                        [str(check) for check in message.get("checks", [])],
                        [str(span) for span in message.get("hours", [])],
                    )
                )
        elif op == "offer":
            self._spawn(self._answer_offer(message))
        elif op == "host_online":
            self._moved(str(message["host_id"]), str(message["from"]))
            channels.arrived_elsewhere(str(message["host_id"]), float(message["since"]))
        elif op == "session_end":
            self._spawn(
                channels.tell_session_ended_here(
                    str(message["host_id"]), str(message["session_id"]), str(message["reason"])
                )
            )
        elif op == "end_session":
            sessions.end(str(message["session_id"]), str(message["reason"]))
        elif op == "host_cut":
            sessions.host_cut(
                str(message["host_id"]), str(message["session_id"]), str(message["reason"])
            )
        elif op == "push_policy":
            self._spawn(channels.push_current_policy(str(message["host_id"])))
        elif op == "push_device_list":
            self._spawn(channels.push_current_device_list(str(message["host_id"])))
        elif op == "wake":
            wake = Wake(str(message["mac"]), str(message["address"]))
            self._spawn(channels.send_wake_here(str(message["host_id"]), wake))
        else:
            log.warning("cluster bus: unknown message %r ignored", op)

    async def _answer_offer(self, message: dict[str, Any]) -> None:
        """Ask the office PC held here, for a login on another node, and send its answer."""
        channels, _ = self._bound()
        offer = SessionOffer(
            str(message["session_id"]),
            str(message["tenant"]),
            str(message["user"]),
            str(message["device_cert"]),
            [str(mac) for mac in message["macs"]],
            str(message["source"]),
            str(message["attach_to"]),
            dict(message.get("home_check") or {}),
        )
        channel = channels.online.get(str(message["host_id"]))
        if channel is None or channel.tenant != offer.tenant or self.draining:
            answer = SessionAnswer(offer.session_id, False, RefusalReason.HOST_OFFLINE)
        else:
            try:
                answer = await asyncio.wait_for(
                    channels.answer_of(channel, offer),
                    self._context.settings.host_answer_timeout_s,
                )
            except (TimeoutError, PeerGone, ConnectionError, OSError, LocalError):
                answer = SessionAnswer(offer.session_id, False, RefusalReason.HOST_TIMEOUT)
        reply = {"op": "answer", "session_id": offer.session_id, "accept": answer.accept}
        reply |= {"reason": answer.reason, "checks": answer.checks, "hours": answer.hours}
        await self._send_quietly(str(message["from"]), reply)

    def _moved(self, host_id: str, node_id: str) -> None:
        """The office PC came online on ``node_id``: an offer for it awaiting the answer of
        another node will get none (that node died, or its channel there is stale), so the
        login hears now that it is elsewhere, instead of after the whole answer timeout, and
        its viewer retries with its ticket (a killed node's office PCs come back on the others
        within seconds, while its lease still names it as where they are)."""
        for future, asked in list(self._asking.get(host_id, {}).items()):
            if asked != node_id and not future.done():
                future.set_exception(HostElsewhere(host_id))

    # -- helpers ---------------------------------------------------------------------------

    def _bound(self) -> tuple[HostChannels, LiveSessions]:
        assert self._channels is not None and self._sessions is not None, "bind() first"
        return self._channels, self._sessions

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _locate_quietly(self, host_id: str) -> str | None:
        try:
            return await self.locate(host_id)
        except StoreUnavailable:
            return None

    async def _send_quietly(self, node_id: str, message: dict[str, Any]) -> bool:
        try:
            await self.bus.send(node_id, message)
        except BusError:
            log.warning("cluster bus: %r to node %s not sent", message.get("op"), node_id)
            return False
        return True
