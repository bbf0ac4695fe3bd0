"""What every part of the relay's connection handling shares: the directory (called off the
event loop, its failures reported), the audit log and its backlog, the settings, the clocks,
the metrics and the lockouts (shared with the other relay nodes through the directory)."""

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
from relay.group_commit import GroupCommit
from relay.lockouts import RelayLockouts
from relay.metrics import RelayMetrics
from relay.settings import RelaySettings
from relay.store.directory import Directory
from relay.store_faults import StoreFaults

log = logging.getLogger("telework.relay")

# Closing waits this long for directory calls still running (a session's last audit record),
# and for each group commit while queued writes remain.
STORE_DRAIN_TIMEOUT_S = 10.0
# Failures that prove nothing about who sends them (garbage on the wire, an office PC's stale
# credential or enrolment token: none can be guessed) are audited, but a source that keeps
# sending them is quieted: after this many records in the window its further ones are only
# counted (telework_audit_records_quieted_total) until the quiet time is over, so a flood
# cannot fill the disk. They never lock the source out: one office NAT address carries every
# office PC of a municipality, and a broken or hostile machine behind it must not take the
# others offline. Password guessing is what the source lockout is for.
NOISY_SOURCE_MAX_RECORDS = 25
NOISY_SOURCE_WINDOW_S = 15 * 60.0
NOISY_SOURCE_QUIET_S = 15 * 60.0
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


def unvalidated_name(text: str) -> str:
    """A peer-given name that failed validation, as records and logs keep it: cut to
    AUDIT_NAME_CHARS, every character that is not printable (a newline, a line separator,
    an escape sequence) shown as its code, so such a name cannot forge a log line."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text[:AUDIT_NAME_CHARS])


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
        noisy = Lockout(
            NOISY_SOURCE_MAX_RECORDS, NOISY_SOURCE_WINDOW_S, NOISY_SOURCE_QUIET_S, wall_clock
        )
        # Shared by every relay node on the directory; wall time, which the nodes share too.
        self.lockouts = RelayLockouts(directory, self.db, wall_clock, noisy=noisy)
        self._in_flight: set[asyncio.Future[Any]] = set()
        self.store_faults = StoreFaults(metrics, monotonic_clock)
        # Audit records and last-seen times: committed together, many to a commit.
        self.group_commit = GroupCommit(directory, self.db)
        self.audit_backlog = AuditBacklog(self._write_audit, metrics)
        metrics.audit_backlog = lambda: len(self.audit_backlog)
        metrics.directory_calls = lambda: len(self._in_flight) + len(self.group_commit)

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
        """Wait for the writes queued for a group commit (as long as each commit takes at most
        ``STORE_DRAIN_TIMEOUT_S``: thousands of office PCs leaving at once all get their audit
        record), then (at most that long) for directory calls still running."""
        if not await self.group_commit.flushed(STORE_DRAIN_TIMEOUT_S):
            log.error("%d directory writes not committed at close", len(self.group_commit))
        if self._in_flight:
            _, late = await asyncio.wait(set(self._in_flight), timeout=STORE_DRAIN_TIMEOUT_S)
            if late:
                log.error("%d directory calls still running at close", len(late))

    def check_source(self, source_key: str) -> None:
        """Refuse a source address that this node knows is locked out for failing too often
        (no directory call: see :meth:`RelayLockouts.shared_counts` for the other nodes')."""
        until = self.lockouts.source.local.locked_until(source_key)
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
        record = self.record(event, tenant, user, host_id, source, detail)
        self._log(record)
        try:
            await self._write_audit(record)
        except StoreUnavailable:
            if not fact:
                raise
            self.audit_backlog.add(record)

    async def audit_noise(
        self,
        event: str,
        source_key: str,
        *,
        source: str | None = None,
        host_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Audit a failure that proves nothing about its source (see NOISY_SOURCE_MAX_RECORDS):
        written unless ``source_key`` is being quieted (on any relay node), a fact either way."""
        noisy = self.lockouts.noisy
        if noisy.local.locked_until(source_key) is None:
            noisy.local.record_failure(source_key)
            counted = await self.lockouts.count_failures([(noisy, source_key)])
            if counted is None or counted[0].counted:
                await self.audit(event, host_id=host_id, source=source, detail=detail, fact=True)
                return
        self.metrics.audit_records_quieted += 1

    async def db_recorded(
        self,
        function: Callable[..., T],
        *args: Any,
        record: Callable[[T], PendingRecord | None],
    ) -> T:
        """Run a blocking directory call that may use something up (an OTP) and write the
        audit record its outcome calls for in the same transaction, off the event loop: both
        are committed or neither is, so nothing is used up without a trace. ``record`` makes
        the record (see :meth:`record`) from the call's result, None for none. Failures as in
        :meth:`db`."""

        def call_and_record() -> tuple[T, PendingRecord | None]:
            with self.directory.atomic():
                result = function(*args)
                made = record(result)
                if made is not None:
                    self.directory.audit(made.event, now=made.now, **made.fields)
            return result, made

        result, made = await self.db(call_and_record)
        if made is not None:
            self._log(made)
        return result

    def record(
        self,
        event: str,
        tenant: str | None = None,
        user: str | None = None,
        host_id: str | None = None,
        source: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> PendingRecord:
        """An audit record of ``event`` happening now, to write."""
        fields = {"tenant": tenant, "user": user, "host_id": host_id, "source": source}
        return PendingRecord(event, {**fields, "detail": detail}, self.wall())

    @staticmethod
    def _log(record: PendingRecord) -> None:
        fields = record.fields
        log.info(
            "audit %s tenant=%s user=%s host=%s source=%s %s",
            record.event,
            fields["tenant"],
            fields["user"],
            fields["host_id"],
            fields["source"],
            fields["detail"] or "",
        )

    async def _write_audit(self, record: PendingRecord) -> None:
        # Written even if shutdown interrupts us: a record that was decided must be.
        await self.group_commit.write(
            partial(self.directory.audit, record.event, now=record.now, **record.fields)
        )
