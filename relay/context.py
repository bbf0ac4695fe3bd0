"""What every part of the relay's connection handling shares: the directory (called off the
event loop, its failures reported), the audit log and its backlog, the settings, the clocks,
the metrics and the lockouts."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypedDict, TypeVar

import sqlalchemy as sa

from core.auth.lockout import Lockout
from core.protocol.control import RefusalReason
from relay.audit_backlog import AuditBacklog, PendingRecord
from relay.errors import Refusal, StoreUnavailable
from relay.metrics import RelayMetrics
from relay.settings import RelaySettings
from relay.store.directory import Directory
from relay.store_faults import StoreFaults

log = logging.getLogger("telework.relay")

# Closing waits this long for directory calls still running (a session's last audit record).
STORE_DRAIN_TIMEOUT_S = 10.0
T = TypeVar("T")


class AuditWho(TypedDict, total=False):
    """Whom an audit record is about, as :meth:`RelayContext.audit` takes it (``**who``)."""

    tenant: str | None
    user: str | None
    host_id: str | None
    source: str | None


# Peer-given names that name nothing (a typed login, a host ID) are kept in the audit log cut
# to this many characters.
AUDIT_NAME_CHARS = 64


class RelayContext:
    """Handed to each part of the relay at construction; holds no connection state."""

    def __init__(
        self,
        directory: Directory,
        settings: RelaySettings,
        wall_clock: Callable[[], float],
        metrics: RelayMetrics,
        monotonic_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = directory
        self.settings = settings  # read at each use: tests change timings on a running relay
        self.wall = wall_clock  # dates, for records and lockouts
        self.monotonic = monotonic_clock  # durations and pacing
        self.metrics = metrics
        self.user_lockout = Lockout.per_user(wall_clock)
        self.source_lockout = Lockout.per_source(wall_clock)
        self._in_flight: set[asyncio.Future[Any]] = set()
        self.store_faults = StoreFaults(metrics, monotonic_clock)
        self.audit_backlog = AuditBacklog(self._write_audit, metrics)
        metrics.audit_backlog = lambda: len(self.audit_backlog)
        metrics.directory_calls = lambda: len(self._in_flight)

    async def db(self, function: Callable[..., T], *args: Any) -> T:
        """Run a blocking directory call off the event loop (scrypt and SQLite both block).

        A caller cancelled meanwhile (the relay closing) stops waiting, but the call itself
        runs on in its thread; it is kept in :attr:`_in_flight` so :meth:`drain` can wait for
        it — a session's last audit record must land before the store is closed. A database
        that fails (a full disk, a lost connection) raises StoreUnavailable, after the failure
        was counted and (at most once a minute) logged."""
        call = asyncio.ensure_future(asyncio.to_thread(partial(function, *args)))
        self._in_flight.add(call)
        call.add_done_callback(self._call_done)
        try:
            return await asyncio.shield(call)
        except sa.exc.OperationalError as exc:
            self.store_faults.report(exc)
            raise StoreUnavailable("the directory cannot be used now") from exc

    def _call_done(self, call: asyncio.Future[Any]) -> None:
        self._in_flight.discard(call)
        if not call.cancelled():
            call.exception()  # retrieved: its awaiter (if still there) got it already

    async def drain(self) -> None:
        """Wait (at most ``STORE_DRAIN_TIMEOUT_S``) for directory calls still running."""
        if self._in_flight:
            _, late = await asyncio.wait(set(self._in_flight), timeout=STORE_DRAIN_TIMEOUT_S)
            if late:
                log.error("%d directory calls still running at close", len(late))

    def check_source(self, source_key: str) -> None:
        """Refuse a source address that is locked out for failing too often."""
        until = self.source_lockout.locked_until(source_key)
        if until is not None:
            raise Refusal(RefusalReason.LOCKED_OUT, int(until) + 1)

    async def audit(
        self,
        event: str,
        *,
        tenant: str | None = None,
        user: str | None = None,
        host_id: str | None = None,
        source: str | None = None,
        detail: dict[str, Any] | None = None,
        fact: bool = False,
    ) -> None:
        """Write an audit record. A decision's record (``fact`` false) is written before the
        peer hears of it: StoreUnavailable if the directory cannot take it, and the decision
        is then refused. A fact's (online, session start or end) stands either way: if the
        directory cannot take it now it waits in the backlog."""
        record = self._record(event, tenant, user, host_id, source, detail)
        try:
            await self._write_audit(record)
        except StoreUnavailable:
            if not fact:
                raise
            self.audit_backlog.add(record)

    def _record(
        self,
        event: str,
        tenant: str | None,
        user: str | None,
        host_id: str | None,
        source: str | None,
        detail: dict[str, Any] | None,
    ) -> PendingRecord:
        log.info(
            "audit %s tenant=%s user=%s host=%s source=%s %s",
            event,
            tenant,
            user,
            host_id,
            source,
            detail or "",
        )
        fields = {"tenant": tenant, "user": user, "host_id": host_id, "source": source}
        return PendingRecord(event, {**fields, "detail": detail}, self.wall())

    async def _write_audit(self, record: PendingRecord) -> None:
        # Shielded: a record that was decided must be written even if shutdown interrupts us.
        await asyncio.shield(
            self.db(partial(self.directory.audit, record.event, now=record.now, **record.fields))
        )
