"""The relay: a TLS 1.3 listener that wires admission, host enrolment and authentication, host
control channels, viewer login and session forwarding together.

An asyncio adapter over ``core``: each connection is a
:class:`~transport.tls_protocol.TlsConnection` (TLS over memory BIOs, admitted as it is made)
under a :class:`LinkStream` whose sans-I/O link enforces the handshake's state table; the
parts decide (with the directory) who is let in, ask the host, join the two streams and pump
bytes they cannot read. Every decision goes to the audit log before the peer hears of it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from core.crypto.certs import Identity, fingerprint
from core.crypto.tls import server_context
from core.errors import ProtocolError
from core.protocol.control import Attach, ControlMessage, Enroll, HostAuth, Login
from core.syslog import DEFAULT_FACILITY, Facility, SyslogDestination
from relay.admission import Admission
from relay.cluster.local import Cluster
from relay.cluster.node import ClusterNode, NodeOptions
from relay.context import RelayContext
from relay.errors import StoreUnavailable
from relay.hooks import RelayHooks
from relay.host_auth import HostAdmission
from relay.host_channels import HostChannel, HostChannels
from relay.login import ViewerLogin
from relay.metrics import RelayMetrics
from relay.restart import end_sessions_left_open
from relay.sessions import LiveSession, LiveSessions
from relay.settings import DRAIN_MOVES_PER_TICK, DRAIN_TICK_S, LISTEN_BACKLOG, RelaySettings
from relay.store.directory import Directory
from relay.store.nodes import ClusterSession
from relay.syslog import SyslogForwarder
from relay.tickets import ResumeTickets
from transport.connect import format_address
from transport.link_stream import LinkStream


class RelayServer:
    def __init__(
        self,
        directory: Directory,
        identity: Identity,
        settings: RelaySettings | None = None,
        wall_clock: Callable[[], float] = time.time,
        hooks: RelayHooks | None = None,
        monotonic_clock: Callable[[], float] = time.monotonic,
        node: NodeOptions | None = None,
        syslog: SyslogDestination | None = None,
        syslog_facility: Facility = DEFAULT_FACILITY,
    ) -> None:
        self.directory = directory
        self.identity = identity  # the admin API serves the same certificate
        self.fingerprint = fingerprint(identity.cert_der)
        self.hooks = hooks or RelayHooks()
        metrics = RelayMetrics(
            live_sessions=lambda: len(self.sessions), hosts_online=lambda: len(self.hosts)
        )
        self.context = RelayContext(
            directory, settings or RelaySettings(), wall_clock, metrics, monotonic_clock
        )
        self.cluster: Cluster = (
            Cluster()
            if node is None
            else ClusterNode(
                self.context,
                node.node_id,
                node.advertise,
                node.conninfo,
                node.max_hosts,
                node.lease_s,
            )
        )
        tickets = ResumeTickets(self.context)
        self.channels = HostChannels(
            self.context,
            self.hooks.policy_for_host,
            self.cluster,
            device_list_for_host=self.hooks.device_list_for_host,
        )
        self.live_sessions = LiveSessions(
            self.context, self.channels, tickets, self.hooks.session_rate_bps, self.cluster
        )
        self.channels.on_host_cut = self.live_sessions.host_cut
        self._host_admission = HostAdmission(self.context, self.channels)
        self._viewer_login = ViewerLogin(self.context, self.channels, self.live_sessions, tickets)
        tls = server_context(identity)
        tls.num_tickets = 0  # no client resumes a session: tickets would be work and bytes
        self.admission = Admission(
            self.context, tls, self._dispatch, self.channels.office_pc_source
        )
        self.cluster.bind(self.channels, self.live_sessions)
        # Copies of the audit log: the operator's collector (``syslog``) and the tenants'.
        self.syslog = SyslogForwarder(
            directory,
            self.context.db,
            syslog,
            hostname=node.node_id if node is not None else None,
            facility=syslog_facility,
        )
        metrics.syslog_dropped = self.syslog.dropped
        metrics.syslog_queues = self.syslog.queued
        self._server: asyncio.Server | None = None

    # -- what the admin API, the metrics and tests read ---------------------------------------

    @property
    def settings(self) -> RelaySettings:
        return self.context.settings

    @property
    def metrics(self) -> RelayMetrics:
        return self.context.metrics

    @property
    def hosts(self) -> dict[str, HostChannel]:
        return self.channels.online

    @property
    def sessions(self) -> dict[str, LiveSession]:
        return self.live_sessions.live

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> tuple[str, int]:
        await self.syslog.start()  # first: the records of the restart clean-up are copied too
        # Before listening: no session of this run can be mistaken for one left open.
        try:
            await self.context.db(end_sessions_left_open, self.directory, self.context.wall())
        except StoreUnavailable:
            pass  # counted and logged; the next start tries again, and serving matters more
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self.admission.connection,
            host,
            port,
            backlog=LISTEN_BACKLOG,
            start_serving=False,  # a cluster node joins first: nothing of it may be held before
        )
        bound = self._server.sockets[0].getsockname()
        address = str(bound[0]), int(bound[1])
        if isinstance(self.cluster, ClusterNode):
            if not self.cluster.address:
                self.cluster.address = format_address(*address)
            await self.cluster.start()
        await self._server.start_serving()
        return address

    async def drain(self, timeout_s: float) -> None:
        """Stop taking work and let live sessions finish (an upgrade, SIGTERM): stop
        listening, move the office PCs that are not in a session to other nodes (closing their
        control channels: they reconnect through the public address, which no longer leads
        here), then those whose session ends; after ``timeout_s`` the rest are cut, and their
        viewers resume elsewhere with their tickets. Call :meth:`close` after."""
        self.cluster.draining = True
        if self._server is not None:
            self._server.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            busy = {session.host_id for session in self.sessions.values()}
            moving = [c for h, c in self.hosts.items() if h not in busy]
            for channel in moving[:DRAIN_MOVES_PER_TICK]:
                channel.stream.writer.close()
            if not self.sessions and not self.hosts:
                return
            if loop.time() >= deadline:
                return
            await asyncio.sleep(DRAIN_TICK_S)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.live_sessions.cut_all("relay_shutdown")
        await self.admission.close()
        await self.channels.close()
        await self.cluster.close()
        await self.context.audit_backlog.close()
        if self._server is not None:
            await self._server.wait_closed()
        await self.context.drain()
        await self.syslog.close()  # last: the records of the sessions just ended go too

    # -- actions of the admin API -----------------------------------------------------------

    async def push_policy(self, host_id: str, policy: dict[str, Any]) -> bool:
        """Send a policy to a host now; False if the host is not online."""
        return await self.channels.push_policy(host_id, policy)

    async def push_device_list(self, host_id: str) -> bool:
        """Push the office PC's stored signed list of home PCs (here or through the node that
        holds it); False if it is not online anywhere."""
        return await self.channels.push_current_device_list(
            host_id
        ) or await self.cluster.push_device_list(host_id)

    def end_session(self, session_id: str, reason: str) -> bool:
        """Ask a live session to end (an admin's action); False if there is no such session."""
        return self.live_sessions.end(session_id, reason)

    async def leads_cluster(self) -> bool:
        """Whether this relay does what one node does for the cluster (raising bandwidth
        alerts): a lone relay does; in a cluster, the live node with the lowest ID."""
        if not isinstance(self.cluster, ClusterNode):
            return True
        nodes = await self.context.db(self.directory.live_nodes, self.context.wall())
        return not nodes or nodes[0].node_id == self.cluster.node_id

    async def sessions_elsewhere(self, tenant: str | None) -> list[ClusterSession]:
        """The tenant's (None: every tenant's) live sessions on the other nodes of a cluster
        (none for a lone relay)."""
        if not isinstance(self.cluster, ClusterNode):
            return []
        rows = await self.context.db(
            self.directory.list_cluster_sessions, self.context.wall(), tenant
        )
        return [row for row in rows if row.node_id != self.cluster.node_id]

    async def end_sessions_elsewhere(
        self, tenant: str, reason: str, *, user: str | None = None, host_id: str | None = None
    ) -> list[str]:
        """Ask the other nodes to end the tenant's sessions of ``user`` and/or on ``host_id``
        (an admin took that access away); returns their IDs."""
        ending = [
            row.session_id
            for row in await self.sessions_elsewhere(tenant)
            if (user is None or row.user == user) and (host_id is None or row.host_id == host_id)
        ]
        return [sid for sid in ending if await self.cluster.end_session(sid, reason)]

    async def hosts_online_anywhere(self, host_ids: list[str]) -> set[str]:
        """Those of ``host_ids`` online on this relay or on any node of its cluster."""
        here = {host_id for host_id in host_ids if host_id in self.hosts}
        if not isinstance(self.cluster, ClusterNode) or len(here) == len(host_ids):
            return here
        elsewhere = await self.context.db(
            self.directory.hosts_online, host_ids, self.context.wall()
        )
        return here | elsewhere

    def limit_tenant_rate(self, tenant: str, rate_bps: int) -> None:
        """Lower (or restore) the pace of a tenant's live sessions, without cutting them."""
        self.live_sessions.limit_tenant_rate(tenant, rate_bps)

    # -- the first message decides what a connection is ------------------------------------

    async def _dispatch(self, stream: LinkStream, first: ControlMessage) -> None:
        if isinstance(first, Login):
            await self._viewer_login.handle(stream, first)
        elif isinstance(first, HostAuth):
            await self._host_admission.host_auth(stream, first)
        elif isinstance(first, Attach):
            await self._host_admission.attach(stream, first)
        elif isinstance(first, Enroll):
            await self._host_admission.enroll(stream, first)
        else:  # pragma: no cover - the link's state table admits only the four above
            raise ProtocolError(f"unexpected first message {type(first).__name__}")
