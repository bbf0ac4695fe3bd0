"""Waking a switched-off office PC for a login that asked to (``Login.wake``).

The relay has an office PC of the same tenant, that the admin lets wake others and that was
last seen on the sleeping one's LAN (:meth:`Directory.wake_plan`), send the magic packet
(:class:`~core.protocol.control.Wake`), then waits for the sleeping one to come online, telling
the viewer it is still waking it (``Progress("waking_host")``). Bounded: one packet per office
PC per :data:`~core.wake.WAKE_MIN_INTERVAL_S` (logins in that time share the wait) and at most
:data:`~core.wake.MAX_WAKES_PER_TENANT_PER_MIN` packets per tenant, on this node.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import NoReturn

from core.protocol.control import Progress, ProgressStage, RefusalReason, Wake
from core.wake import MAX_WAKES_PER_TENANT_PER_MIN, RecentWakes
from relay.context import AuditWho, RelayContext
from relay.errors import Refusal
from relay.host_channels import HostChannels, HostRef
from transport.link_stream import LinkStream

# The window the per-tenant count of wakes runs over.
TENANT_WAKE_WINDOW_S = 60.0
# Tenants whose recent wakes this node remembers (each a few floats): beyond it, the oldest go.
MAX_TENANTS_TRACKED = 10_000


class Wakes:
    """The wakes this relay node asked for, and the waiting for the woken."""

    def __init__(self, context: RelayContext, channels: HostChannels) -> None:
        self._context = context
        self._channels = channels
        self._recent = RecentWakes()  # by host ID: when its packet was last asked for
        self._sending: dict[str, asyncio.Future[str | None]] = {}  # host ID -> its send now
        self._by_tenant: dict[str, deque[float]] = {}

    async def wake_and_wait(self, viewer: LinkStream, host_id: str, who: AuditWho) -> HostRef:
        """Have ``host_id`` woken (unless it was moments ago) and wait for it to come online;
        the :class:`Refusal` WAKE_UNAVAILABLE or WAKE_TIMEOUT if it cannot be or does not.
        Logins asking at once share one packet: the first sends, the others wait with it."""
        sending = self._sending.get(host_id)
        now = self._context.monotonic()
        if sending is None and self._recent.seconds_since(host_id, now) is None:
            sending = asyncio.ensure_future(self._send(host_id, who, now))
            self._sending[host_id] = sending
            sending.add_done_callback(lambda _: self._sending.pop(host_id, None))
        if sending is not None:
            why_not = await asyncio.shield(sending)
            if why_not is not None:
                await self._refuse(who, why_not)
        return await self._wait(viewer, host_id, who)

    async def _send(self, host_id: str, who: AuditWho, now: float) -> str | None:
        """Have a waker send the packet: None when one did, else why none could."""
        context = self._context
        plan = await context.db(context.directory.wake_plan, host_id)
        if plan is None:
            return "lan_unknown"
        target, wakers = plan
        lan = target.lan
        if lan is None or target.tenant != who["tenant"]:
            return "lan_unknown"
        if not self._tenant_may_wake(target.tenant, now):
            return "tenant_wake_limit"
        wake = Wake(lan.mac, lan.wire_address)
        for waker in wakers:
            if await self._channels.send_wake(waker, wake):
                self._recent.record(host_id, now)
                detail = {"waker": waker, "mac": lan.mac, "lan": lan.wire_address}
                await context.audit("host_wake", **who, detail=detail)
                return None
        return "no_waker_online" if wakers else "no_waker"

    async def _wait(self, viewer: LinkStream, host_id: str, who: AuditWho) -> HostRef:
        settings = self._context.settings
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.wake_wait_s
        while (remaining := deadline - loop.time()) > 0:
            await viewer.send(Progress(ProgressStage.WAKING_HOST))
            found = await self._channels.locate(
                host_id, min(remaining, settings.wake_progress_interval_s)
            )
            if found is not None:
                await self._context.audit("host_woken", **who)
                return found
        await self._context.audit(
            "login_refused", **who, detail={"reason": RefusalReason.WAKE_TIMEOUT.value}
        )
        raise Refusal(RefusalReason.WAKE_TIMEOUT)

    async def _refuse(self, who: AuditWho, why: str) -> NoReturn:
        detail = {"reason": RefusalReason.WAKE_UNAVAILABLE.value, "why": why}
        await self._context.audit("login_refused", **who, detail=detail)
        raise Refusal(RefusalReason.WAKE_UNAVAILABLE)

    def _tenant_may_wake(self, tenant: str, now: float) -> bool:
        """Count a wake of ``tenant`` now, unless it had its fill in the last minute."""
        recent = self._by_tenant.pop(tenant, None) or deque()
        while recent and recent[0] <= now - TENANT_WAKE_WINDOW_S:
            recent.popleft()
        self._by_tenant[tenant] = recent  # last touched, last in order
        while len(self._by_tenant) > MAX_TENANTS_TRACKED:
            del self._by_tenant[next(iter(self._by_tenant))]
        if len(recent) >= MAX_WAKES_PER_TENANT_PER_MIN:
            return False
        recent.append(now)
        return True
