"""Host control channels: how the relay keeps each office PC reachable, pushes its policy
(and its signed central list of home PCs),
offers it a viewer and takes the data connection the office PC attaches for an accepted one.

Tens of thousands of office PCs sit idle on their channels, so an idle one costs no task, no
timer and no task switch of its own: its messages are handled in its connection's callback
(:meth:`LinkStream.serve_messages`), and one keepalive wheel pings every channel once per
interval (a slot of them per tick, one encoding of the ping for all) and finds the silent ones
from the time each was last heard.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.errors import LocalError
from core.homecheck.report import Check
from core.hostpolicy.signed_devices import SignedDeviceList
from core.policy import hours_from_wire
from core.protocol.control import (
    Attach,
    ControlMessage,
    DeviceList,
    Ping,
    Policy,
    Pong,
    RefusalReason,
    SessionAnswer,
    SessionEnd,
    SessionOffer,
    Wake,
    encode_control,
)
from relay.cluster.local import Cluster, HostElsewhere
from relay.context import AuditWho, RelayContext
from relay.errors import Refusal
from relay.hooks import no_device_list
from relay.settings import OFFICE_PC_SOURCE_WINDOW_S
from transport.link_stream import LinkStream, PeerGone

# Reasons a host may give for refusing a viewer that the viewer is told as they are; any other
# text from a host becomes the generic REFUSED_BY_HOST (a host's free text never reaches users).
HOST_REASONS = frozenset(
    {
        RefusalReason.MAC_NOT_REGISTERED,
        RefusalReason.DEVICE_NOT_REGISTERED,
        RefusalReason.OUTSIDE_HOURS,
        RefusalReason.HOST_PAUSED,
        RefusalReason.HOST_BUSY,
        RefusalReason.HOME_PC_CHECK_FAILED,
        RefusalReason.HOME_PC_UNCHECKED,
        RefusalReason.VIEWER_TOO_OLD,
    }
)
# The check names a host may give with a home-PC refusal (anything else is dropped).
HOST_CHECK_NAMES = frozenset(Check)
# The keepalive interval is cut into this many ticks; each channel is pinged at one of them.
KEEPALIVE_SLOTS = 16


def host_hours(reason: RefusalReason, hours: list[str]) -> tuple[str, ...]:
    """The allowed hours an office PC gave with its refusal, as the viewer may be told them:
    only with OUTSIDE_HOURS, at most MAX_HOURS_SPANS spans each of the strict form
    ``mon-fri 08:30-18:00`` and rewritten by the relay from their parsed values (any other
    text from the office PC, or too many, and the viewer is told none)."""
    if reason is not RefusalReason.OUTSIDE_HOURS:
        return ()
    return tuple(span.to_wire() for span in hours_from_wire(hours))


@dataclass(eq=False)
class HostChannel:
    """A host agent's control channel: how the relay reaches the host to offer sessions."""

    host_id: str
    tenant: str
    stream: LinkStream
    answers: dict[str, asyncio.Future[SessionAnswer]] = field(default_factory=dict)
    last_heard: float = 0.0  # event loop time of the last message from the host
    slot: int = 0  # its tick of the keepalive wheel
    online_since: float = 0.0  # wall clock: which of two channels of one office PC is newer

    def fail_pending(self) -> None:
        for future in self.answers.values():
            if not future.done():
                future.set_exception(PeerGone("office PC went offline"))
        self.answers.clear()


@dataclass
class PendingAttach:
    """An accepted session waiting for the host's data connection."""

    host_id: str
    stream: asyncio.Future[LinkStream]
    over: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class RemoteHost:
    """An office PC whose control channel another relay node holds (a cluster)."""

    host_id: str
    node_id: str


HostRef = HostChannel | RemoteHost
"""Where an office PC a login asks for is: on this relay, or on another node."""


class HostChannels:
    """The online hosts (by host ID) and the sessions they accepted but have not attached yet."""

    def __init__(
        self,
        context: RelayContext,
        policy_for_host: Callable[[str], dict[str, Any]],
        cluster: Cluster | None = None,
        *,
        device_list_for_host: Callable[[str], SignedDeviceList | None] = no_device_list,
    ) -> None:
        self._context = context
        self._policy_for_host = policy_for_host
        self._device_list_for_host = device_list_for_host
        self._cluster = cluster or Cluster()
        self.online: dict[str, HostChannel] = {}
        # Online control channels by source (as lockouts count it: core.auth.lockout.source_key),
        # and when a channel last came or went from each source (monotonic, oldest first).
        self._sources: Counter[str] = Counter()
        self._source_seen: OrderedDict[str, float] = OrderedDict()
        self._awaiting_attach: dict[str, PendingAttach] = {}
        # Host ID -> set when that host's channel comes online, for logins waiting for it.
        self._arrivals: dict[str, asyncio.Event] = {}
        self._arrival_waiters: dict[str, int] = {}
        self._slots: list[set[HostChannel]] = [set() for _ in range(KEEPALIVE_SLOTS)]
        self._next_slot = 0
        self._wheel: asyncio.Task[None] | None = None
        self._nonce = 0
        # An office PC's report that it cut a session (host ID, session ID, reason): the
        # relay's sessions end it and its resume ticket (set by the server, which has both).
        self.on_host_cut: Callable[[str, str, str], bool] = lambda host, session, reason: False

    async def close(self) -> None:
        """Stop the keepalive wheel (the relay is closing)."""
        if self._wheel is not None:
            self._wheel.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._wheel

    async def serve(self, stream: LinkStream, host_id: str, tenant: str) -> None:
        """Run an authenticated host's control channel until it ends."""
        context = self._context
        channel = HostChannel(host_id, tenant, stream, online_since=context.wall())
        previous = self.online.get(host_id)
        if previous is not None:  # the host reconnected before we noticed the old channel died
            previous.fail_pending()
            await previous.stream.close()
        self.online[host_id] = channel
        self._source_seen_now(stream.source_key, +1)
        arrived = self._arrivals.get(host_id)
        if arrived is not None:
            arrived.set()
        loop = asyncio.get_running_loop()
        try:
            # Online whether or not the record can be written now (a full disk): it is queued.
            await context.audit(
                "host_online", tenant=tenant, host_id=host_id, source=stream.source, fact=True
            )
            await self._cluster.host_online(host_id, channel.online_since)
            policy = await context.db(self._policy_for_host, host_id)
            if policy:
                await stream.send(Policy(policy))
            signed = await context.db(self._device_list_for_host, host_id)
            if signed is not None:
                await stream.send(DeviceList(signed.payload, signed.signature, signed.public_key))

            def handle(message: ControlMessage) -> None:
                channel.last_heard = loop.time()
                if isinstance(message, Ping):
                    stream.send_nowait(Pong(message.nonce))
                elif isinstance(message, SessionAnswer):
                    future = channel.answers.pop(message.session_id, None)
                    if future is not None and not future.done():
                        future.set_result(message)
                elif isinstance(message, SessionEnd) and not self.on_host_cut(
                    host_id, message.session_id, message.reason
                ):  # not a session here (LiveSessions checks it is this office PC's)
                    self._cluster.host_cut(host_id, message.session_id, message.reason)

            # Pinged and timed from now: what it sent while the directory was busy is read next.
            channel.last_heard = loop.time()
            self._keep_alive(channel)
            await stream.serve_messages(handle)
        finally:
            self._source_seen_now(stream.source_key, -1)
            self._slots[channel.slot].discard(channel)
            channel.fail_pending()
            if self.online.get(host_id) is channel:
                del self.online[host_id]
                await self._cluster.host_offline(host_id)
                await context.audit(
                    "host_offline", tenant=tenant, host_id=host_id, source=stream.source, fact=True
                )

    def office_pc_source(self, source_key: str) -> bool:
        """Whether an office PC's control channel is online from this source (as lockouts
        count it), or was within OFFICE_PC_SOURCE_WINDOW_S: a municipality's NAT address,
        which admission never refuses for a lockout before the first message."""
        if source_key in self._sources:
            return True
        seen = self._source_seen.get(source_key)
        return seen is not None and self._context.monotonic() - seen < OFFICE_PC_SOURCE_WINDOW_S

    def _source_seen_now(self, source_key: str, change: int) -> None:
        self._sources[source_key] += change
        if self._sources[source_key] <= 0:
            del self._sources[source_key]
        now = self._context.monotonic()
        self._source_seen[source_key] = now
        self._source_seen.move_to_end(source_key)
        # Forget the sources gone longer than the window: the oldest first, and only those (a
        # copy of the whole, once per office PC, was quadratic when thousands came at once).
        while self._source_seen:
            oldest, seen = next(iter(self._source_seen.items()))
            if now - seen < OFFICE_PC_SOURCE_WINDOW_S:
                break
            del self._source_seen[oldest]

    async def locate(self, host_id: str, timeout_s: float) -> HostRef | None:
        """Where the office PC's control channel is (here, or on another node of a cluster),
        waiting up to ``timeout_s`` for it to come (back) online; None if it did not."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            local = self.online.get(host_id)
            if local is not None:
                return local
            node_id = await self._cluster.locate(host_id)
            if node_id is not None:
                return RemoteHost(host_id, node_id)
            remaining = deadline - loop.time()
            if remaining <= 0 or not await self._arrival(host_id, remaining):
                return self.online.get(host_id)

    async def _arrival(self, host_id: str, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the office PC to come online here or on another node."""
        arrived = self._arrivals.setdefault(host_id, asyncio.Event())
        self._arrival_waiters[host_id] = self._arrival_waiters.get(host_id, 0) + 1
        try:
            await asyncio.wait_for(arrived.wait(), timeout_s)
            return True
        except TimeoutError:
            return False
        finally:
            self._arrival_waiters[host_id] -= 1
            if not self._arrival_waiters[host_id]:
                del self._arrival_waiters[host_id], self._arrivals[host_id]

    def arrived_elsewhere(self, host_id: str, since: float) -> None:
        """Another node says the office PC came online there at ``since``: an older channel of
        it still held here is stale (it reconnected before this node noticed the old link die),
        and logins waiting for it can find it now. (A newer one here stays: the message was
        slow, and the other node hears of this one and closes its own.)"""
        held = self.online.get(host_id)
        if held is not None and held.online_since < since:
            held.stream.writer.close()  # its serve() ends and cleans up
        arrived = self._arrivals.get(host_id)
        if arrived is not None:
            arrived.set()

    def _keep_alive(self, channel: HostChannel) -> None:
        """Give ``channel`` a tick of the keepalive wheel (turning it if it stood still)."""
        channel.slot = self._next_slot
        self._next_slot = (self._next_slot + 1) % KEEPALIVE_SLOTS
        self._slots[channel.slot].add(channel)
        if self._wheel is None or self._wheel.done():
            self._wheel = asyncio.create_task(self._turn_wheel())

    async def _turn_wheel(self) -> None:
        """Each tick, ping the channels of one slot: every channel once per interval. Stops
        when no channel is left (the next one turns it again)."""
        loop = asyncio.get_running_loop()
        tick, next_at = 0, loop.time()
        while any(self._slots):
            next_at = max(
                next_at + self._context.settings.keepalive_interval_s / KEEPALIVE_SLOTS,
                loop.time(),  # a late tick is not made up
            )
            await asyncio.sleep(next_at - loop.time())
            tick = (tick + 1) % KEEPALIVE_SLOTS
            self._ping(self._slots[tick], loop)

    def _ping(self, channels: set[HostChannel], loop: asyncio.AbstractEventLoop) -> None:
        """Ping ``channels``; a channel silent for ``dead_after_s`` is declared dead now, one
        that will be before its next ping at that moment (a timer only for the silent)."""
        settings = self._context.settings
        now = loop.time()
        self._nonce += 1
        ping = Ping(self._nonce)
        encoded = encode_control(ping)
        for channel in list(channels):
            silent_until = channel.last_heard + settings.dead_after_s
            if silent_until <= now:
                self._declare_dead(channel)
                continue
            if silent_until < now + settings.keepalive_interval_s:
                loop.call_at(silent_until, self._check_silence, channel)
            with contextlib.suppress(ConnectionError, OSError, LocalError):
                channel.stream.send_nowait(ping, encoded)

    def _check_silence(self, channel: HostChannel) -> None:
        loop_time = asyncio.get_running_loop().time()
        if channel.last_heard + self._context.settings.dead_after_s <= loop_time:
            self._declare_dead(channel)

    def _declare_dead(self, channel: HostChannel) -> None:
        """End a silent channel: closing it ends its serve() (PeerGone), which cleans up."""
        self._slots[channel.slot].discard(channel)
        channel.stream.writer.close()

    async def push_policy(self, host_id: str, policy: dict[str, Any]) -> bool:
        """Send a policy to a host now; False if the host is not online."""
        channel = self.online.get(host_id)
        if channel is None:
            return False
        try:
            await channel.stream.send(Policy(policy))
        except (ConnectionError, OSError, LocalError):
            return False
        return True

    async def send_wake(self, host_id: str, wake: Wake) -> bool:
        """Have the online office PC ``host_id`` (here or on another node) send ``wake``'s
        magic packet; False if it is not online anywhere."""
        return await self.send_wake_here(host_id, wake) or await self._cluster.wake(host_id, wake)

    async def send_wake_here(self, host_id: str, wake: Wake) -> bool:
        channel = self.online.get(host_id)
        if channel is None:
            return False
        try:
            await channel.stream.send(wake)
        except (ConnectionError, OSError, LocalError):
            return False
        return True

    @property
    def attach_address(self) -> str:
        """What offers name as where to attach (this node's address in a cluster, else "")."""
        return self._cluster.attach_address

    @property
    def full(self) -> bool:
        """Whether this relay holds as many office PCs as its node may (a cluster)."""
        return len(self.online) >= self._cluster.max_hosts

    async def push_current_policy(self, host_id: str) -> bool:
        """Push the office PC's effective policy now, if it is online here."""
        if host_id not in self.online:
            return False
        policy = await self._context.db(self._policy_for_host, host_id)
        return bool(policy) and await self.push_policy(host_id, policy)

    async def push_current_device_list(self, host_id: str) -> bool:
        """Push the office PC's stored signed list of home PCs now, if it is online here."""
        channel = self.online.get(host_id)
        if channel is None:
            return False
        signed = await self._context.db(self._device_list_for_host, host_id)
        if signed is None:
            return False
        try:
            await channel.stream.send(
                DeviceList(signed.payload, signed.signature, signed.public_key)
            )
        except (ConnectionError, OSError, LocalError):
            return False
        return True

    async def answer_of(self, channel: HostChannel, offer: SessionOffer) -> SessionAnswer:
        """Offer the session to the office PC on ``channel`` and wait for its answer."""
        future: asyncio.Future[SessionAnswer] = asyncio.get_running_loop().create_future()
        channel.answers[offer.session_id] = future
        try:
            await channel.stream.send(offer)
            return await future
        finally:
            channel.answers.pop(offer.session_id, None)

    async def ask(
        self, host: HostRef, offer: SessionOffer, who: AuditWho
    ) -> tuple[LinkStream, PendingAttach]:
        """Offer the session to the host; return its data connection once it accepts, and the
        attach to release (``over``) when the session ends. ``who`` names the login in the
        audit records of a refusal."""
        context = self._context
        loop = asyncio.get_running_loop()
        session_id = offer.session_id
        pending = PendingAttach(host.host_id, loop.create_future())
        self._awaiting_attach[session_id] = pending
        attached = False
        try:
            answering = (
                self.answer_of(host, offer)
                if isinstance(host, HostChannel)
                else self._cluster.ask(host.node_id, host.host_id, offer)
            )
            answer = await asyncio.wait_for(answering, context.settings.host_answer_timeout_s)
            if not answer.accept:
                reason = (
                    RefusalReason(answer.reason)
                    if answer.reason in HOST_REASONS
                    else RefusalReason.REFUSED_BY_HOST
                )
                checks = tuple(c for c in answer.checks if c in HOST_CHECK_NAMES)
                hours = host_hours(reason, answer.hours)
                detail: dict[str, object] = {"reason": reason.value}
                if checks:
                    detail["checks"] = list(checks)
                if hours:
                    detail["hours"] = list(hours)
                await context.audit("login_refused", **who, detail=detail)
                raise Refusal(reason, checks=checks, hours=hours)
            host_stream = await asyncio.wait_for(pending.stream, context.settings.attach_timeout_s)
            attached = True
        except HostElsewhere as exc:  # it left the node the directory named: offline now
            await context.audit("login_refused", **who, detail={"reason": "host_offline"})
            raise Refusal(RefusalReason.HOST_OFFLINE) from exc
        except (TimeoutError, PeerGone, ConnectionError, OSError) as exc:
            await context.audit("login_refused", **who, detail={"reason": "host_timeout"})
            raise Refusal(RefusalReason.HOST_TIMEOUT) from exc
        finally:
            # Gone on every path: an attach that never came (its future cancelled by the
            # timeout) must not stay behind, one entry per abandoned session.
            self._awaiting_attach.pop(session_id, None)
            if not attached:
                pending.over.set()  # a host that attached in the last instant is let go
        return host_stream, pending

    async def attach(self, stream: LinkStream, message: Attach) -> None:
        """Hand an authenticated host's data connection to the login waiting for it, and hold
        it until that session is over."""
        pending = self._awaiting_attach.get(message.session_id)
        if pending is None or pending.host_id != message.host_id or pending.stream.done():
            raise Refusal(RefusalReason.HOST_TIMEOUT)
        pending.stream.set_result(stream)
        await pending.over.wait()  # the viewer's handler runs the session and sets this

    async def tell_session_ended(self, host: HostRef, session_id: str, reason: str) -> bool:
        """Tell the office PC a session ended: on its channel here if that is still its live
        one, else through the node holding it now (a cluster)."""
        if isinstance(host, HostChannel) and self.online.get(host.host_id) is host:
            return await self._send_session_end(host, session_id, reason)
        if host.host_id in self.online:
            return False  # reconnected here since: the new channel never had this session
        return await self._cluster.tell_session_ended(host.host_id, session_id, reason)

    async def tell_session_ended_here(self, host_id: str, session_id: str, reason: str) -> bool:
        """Another node's session with this office PC ended: tell it on its channel here."""
        channel = self.online.get(host_id)
        return channel is not None and await self._send_session_end(channel, session_id, reason)

    @staticmethod
    async def _send_session_end(channel: HostChannel, session_id: str, reason: str) -> bool:
        with contextlib.suppress(ConnectionError, OSError, LocalError):
            await channel.stream.send(SessionEnd(session_id, reason))
            return True
        return False
