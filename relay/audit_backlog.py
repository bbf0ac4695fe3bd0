"""Audit records of facts (an office PC came online, a session started or ended) that could not
be written: kept in a bounded queue and written again, oldest first, once the directory takes
writes. Being online, or ending a session, never waits for the disk."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from relay.errors import StoreUnavailable
from relay.metrics import RelayMetrics

log = logging.getLogger("telework.relay")

# Audit records waiting for the directory, at most; past this, new ones are dropped (and
# counted in telework_audit_records_dropped_total) so a long outage cannot exhaust memory.
MAX_AUDIT_BACKLOG = 10_000
# How often the waiting records are tried again.
AUDIT_RETRY_INTERVAL_S = 5.0


@dataclass(frozen=True)
class PendingRecord:
    """An audit record as it was decided, with the time it happened (kept when it is late)."""

    event: str
    fields: dict[str, Any]
    now: float


class AuditBacklog:
    """The queue of audit records waiting for the directory, and the task that writes them."""

    def __init__(
        self,
        write: Callable[[PendingRecord], Awaitable[None]],
        metrics: RelayMetrics,
        retry_interval_s: float = AUDIT_RETRY_INTERVAL_S,
    ) -> None:
        self._write = write
        self._metrics = metrics
        self._retry_interval_s = retry_interval_s
        self._waiting: deque[PendingRecord] = deque()
        self._retrying: asyncio.Task[None] | None = None
        self._dropping = False  # between the first drop and the next successful flush

    def __len__(self) -> int:
        return len(self._waiting)

    def add(self, record: PendingRecord) -> None:
        """Queue a record that could not be written, and make sure it is tried again."""
        if len(self._waiting) >= MAX_AUDIT_BACKLOG:
            self._metrics.audit_records_dropped += 1
            if not self._dropping:
                log.error(
                    "audit backlog full (%d records): audit records are being dropped until "
                    "the directory can be written again",
                    MAX_AUDIT_BACKLOG,
                )
                self._dropping = True
            return
        if not self._waiting:
            log.warning(
                "audit records queued: the directory cannot be written; trying again every %g s",
                self._retry_interval_s,
            )
        self._waiting.append(record)
        if self._retrying is None or self._retrying.done():
            self._retrying = asyncio.create_task(self._retry())

    async def flush(self) -> bool:
        """Write the waiting records, oldest first; False if the directory still fails."""
        written = 0
        while self._waiting:
            try:
                await self._write(self._waiting[0])
            except StoreUnavailable:
                return False
            self._waiting.popleft()
            written += 1
        if written:
            log.warning(
                "audit backlog written: %d records late; %d dropped since the relay started",
                written,
                self._metrics.audit_records_dropped,
            )
        self._dropping = False
        return True

    async def close(self) -> None:
        """Stop retrying, after one last try to write what waits (the relay is stopping)."""
        if self._retrying is not None:
            self._retrying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retrying
        if not await self.flush():
            log.error("relay stopping with %d audit records unwritten", len(self._waiting))

    async def _retry(self) -> None:
        while self._waiting:
            await asyncio.sleep(self._retry_interval_s)
            await self.flush()
