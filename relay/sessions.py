"""Joined sessions: the live ones (which the admin API and metrics read), and running one
from the join to its end, with its audit records, its resume ticket and its byte counts."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.protocol.notices import HOST_CUTS, TICKET_ENDING
from core.ratelimit import TokenBucket
from relay.cleanup import run_each
from relay.cluster.local import Cluster
from relay.context import RelayContext
from relay.errors import StoreUnavailable
from relay.forwarding import end_reason, pump
from relay.host_channels import HostChannels, HostRef
from relay.settings import HOST_CUT_REPORT_WINDOW_S
from relay.tickets import ResumeTickets
from transport.link_stream import LinkStream
from transport.tls_protocol import TlsConnection


@dataclass
class LiveSession:
    """A joined viewer-host pair; the admin API and metrics read these."""

    session_id: str
    tenant: str
    user: str
    host_id: str
    device_fingerprint: str
    source: str
    started_at: float  # wall clock, for records
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)  # durations
    started_mono: float = field(init=False)
    bytes_to_viewer: int = 0
    bytes_to_host: int = 0
    end_requested: asyncio.Event = field(default_factory=asyncio.Event)
    end_reason: str = ""
    buckets: tuple[TokenBucket, ...] = ()  # (to viewer, to host), set when forwarding starts
    resume_ticket: str = ""  # the viewer's, renewed while the session lives; never shown
    resumed: bool = False  # logged in with a resume ticket: it may continue a cut session
    cut: bool = False  # ended without telling either side why (the relay is shutting down)
    cut_by_host: bool = False  # the office PC ended it and said why: it needs no telling

    def request_end(self, reason: str) -> None:
        self.end_reason = reason
        self.end_requested.set()

    def __post_init__(self) -> None:
        self.started_mono = self.clock()

    @property
    def duration_s(self) -> float:
        return self.clock() - self.started_mono


class LiveSessions:
    """The relay's joined sessions by session ID, and how each one runs."""

    def __init__(
        self,
        context: RelayContext,
        channels: HostChannels,
        tickets: ResumeTickets,
        session_rate_bps: Callable[[str], int | None],
        cluster: Cluster | None = None,
    ) -> None:
        self._context = context
        self._cluster = cluster or Cluster()
        self._channels = channels
        self._tickets = tickets
        self._session_rate_bps = session_rate_bps
        self.live: dict[str, LiveSession] = {}
        # Session ID -> (host ID, resume ticket, monotonic time of the end) of the sessions
        # that ended in the last HOST_CUT_REPORT_WINDOW_S, oldest first: for a late cut report.
        self._ended: dict[str, tuple[str, str, float]] = {}
        self._ending_tickets: set[asyncio.Task[None]] = set()

    def end(self, session_id: str, reason: str) -> bool:
        """Ask a live session to end (an admin's action); False if there is no such session.
        A reason in TICKET_ENDING ends its resume ticket at once, not after the grace."""
        session = self.live.get(session_id)
        if session is None:
            return False
        session.request_end(reason)
        self._end_ticket(session.resume_ticket, reason)
        return True

    def host_cut(self, host_id: str, session_id: str, reason: str) -> bool:
        """The office PC ``host_id`` reports it cut its session (a reason in HOST_CUTS): the
        session ends with that reason and its resume ticket ends now, also if the session
        ended here moments ago. False (nothing done) for another reason, another office PC's
        session, or a session this relay does not know (in a cluster: another node's)."""
        if reason not in HOST_CUTS:
            return False
        session = self.live.get(session_id)
        if session is not None and session.host_id == host_id:
            session.cut_by_host = True
            return self.end(session_id, reason)
        self._forget_old_ends()
        ended = self._ended.get(session_id)
        if ended is None or ended[0] != host_id:
            return False
        self._end_ticket(ended[1], reason)
        return True

    def _end_ticket(self, ticket: str, reason: str) -> None:
        if not ticket or reason not in TICKET_ENDING:
            return
        task = asyncio.create_task(self._end_ticket_now(ticket, reason))
        self._ending_tickets.add(task)
        task.add_done_callback(self._ending_tickets.discard)

    async def _end_ticket_now(self, ticket: str, reason: str) -> None:
        # A full disk is counted where it failed; a live session's end tries once more.
        with contextlib.suppress(StoreUnavailable):
            await self._tickets.start_lifetime(ticket, reason)

    def _remember_end(self, session: LiveSession) -> None:
        self._forget_old_ends()
        if session.resume_ticket:
            self._ended[session.session_id] = (
                session.host_id,
                session.resume_ticket,
                self._context.monotonic(),
            )

    def _forget_old_ends(self) -> None:
        oldest = self._context.monotonic() - HOST_CUT_REPORT_WINDOW_S
        for session_id, (_, _, ended_at) in list(self._ended.items()):
            if ended_at > oldest:
                break
            del self._ended[session_id]

    def cut_all(self, reason: str) -> None:
        """The relay is shutting down: cut every live session as a crash would, so that its
        viewer and office PC reconnect (to this relay once it is back, or to another) and
        resume with the ticket. Telling them the session is over would make the viewer stop."""
        for session in list(self.live.values()):
            session.cut = True
            session.request_end(reason)

    def limit_tenant_rate(self, tenant: str, rate_bps: int) -> None:
        """Lower (or restore) the pace of a tenant's live sessions, without cutting them."""
        rate = min(rate_bps, self._context.settings.session_rate_bps) / 8
        now = self._context.monotonic()
        for session in self.live.values():
            if session.tenant == tenant:
                for bucket in session.buckets:
                    bucket.set_rate(rate, now)

    async def run(
        self, session: LiveSession, viewer: LinkStream, host: LinkStream, channel: HostRef
    ) -> None:
        """Forward between the joined viewer and host until either leaves or stalls, or the
        session is asked to end; then record how it went."""
        context = self._context
        self.live[session.session_id] = session
        context.metrics.sessions_started += 1
        session.buckets = self._buckets(session.tenant)

        def to_viewer(n: int) -> None:
            session.bytes_to_viewer += n
            context.metrics.bytes_to_viewer += n

        def to_host(n: int) -> None:
            session.bytes_to_host += n
            context.metrics.bytes_to_host += n

        tasks = [
            asyncio.create_task(
                pump(
                    tls_connection(host),
                    tls_connection(viewer),
                    session.buckets[0],
                    to_viewer,
                    host.take_trailing(),
                    clock=context.monotonic,
                )
            ),
            asyncio.create_task(
                pump(
                    tls_connection(viewer),
                    tls_connection(host),
                    session.buckets[1],
                    to_host,
                    viewer.take_trailing(),
                    clock=context.monotonic,
                )
            ),
            asyncio.create_task(session.end_requested.wait()),
        ]
        renewing = asyncio.create_task(self._tickets.keep_alive(session.resume_ticket))
        told_host = False
        try:
            start_detail: dict[str, Any] = {"session": session.session_id}
            if session.resumed:
                start_detail["resumed"] = True
            await self._audit("session_start", session, start_detail)
            await self._cluster.session_started(session)
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if tasks[2] in done and session.cut:
                told_host = True  # nobody is told: both sides see a drop and resume
            elif tasks[2] in done:
                # Ended on request (an admin): ask the host to close the session itself, so
                # the viewer hears why (and does not just reconnect); cut it after a grace.
                # An office PC that cut the session itself closes it already.
                told_host = session.cut_by_host or await self._tell_host(channel, session)
                await asyncio.wait(
                    tasks[:2],
                    timeout=context.settings.end_grace_s,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            elif not session.end_reason:
                session.end_reason = end_reason(tasks[0], tasks[1])
        finally:
            # Each step runs whatever the others did: a ticket that cannot be written (a full
            # disk) must not leave the session listed, the office PC untold or the end unrecorded.
            await run_each(
                [
                    ("stop_forwarding", lambda: _cancel_all((*tasks, renewing))),
                    (
                        "ticket_lifetime",
                        lambda: self._tickets.start_lifetime(
                            session.resume_ticket, session.end_reason
                        ),
                    ),
                    ("leave_live", lambda: self.live.pop(session.session_id, None)),
                    ("remember_end", lambda: self._remember_end(session)),
                    ("leave_cluster", lambda: self._cluster.session_ended(session.session_id)),
                    ("tell_host", lambda: told_host or self._tell_host(channel, session)),
                    ("session_end_audit", lambda: self._audit_end(session)),
                ],
                context.metrics,
            )

    async def _audit_end(self, session: LiveSession) -> None:
        await self._audit(
            "session_end",
            session,
            {
                "session": session.session_id,
                "reason": session.end_reason,
                "bytes_to_viewer": session.bytes_to_viewer,
                "bytes_to_host": session.bytes_to_host,
                "duration_s": round(session.duration_s, 3),
            },
        )

    def _buckets(self, tenant: str) -> tuple[TokenBucket, TokenBucket]:
        """The pace of a starting session, each way: the tenant's budget if it has one, never
        above the relay's own."""
        settings = self._context.settings
        tenant_bps = self._session_rate_bps(tenant)
        rate_bps = settings.session_rate_bps
        if tenant_bps is not None:
            rate_bps = min(tenant_bps, rate_bps)
        now, rate, burst = self._context.monotonic(), rate_bps / 8, settings.session_burst_bytes
        return TokenBucket(rate, burst, now), TokenBucket(rate, burst, now)

    async def _audit(self, event: str, session: LiveSession, detail: dict[str, Any]) -> None:
        # Queued if the directory cannot take it now: a session runs and ends on a full disk.
        await self._context.audit(
            event,
            tenant=session.tenant,
            user=session.user,
            host_id=session.host_id,
            source=session.source,
            detail=detail,
            fact=True,
        )

    async def _tell_host(self, channel: HostRef, session: LiveSession) -> bool:
        return await self._channels.tell_session_ended(
            channel, session.session_id, session.end_reason
        )


def tls_connection(stream: LinkStream) -> TlsConnection:
    """The relay's connection under a link: forwarding runs on its callbacks."""
    assert isinstance(stream.reader, TlsConnection)
    return stream.reader


async def _cancel_all(tasks: tuple[asyncio.Task[Any], ...]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
