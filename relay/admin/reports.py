"""Reports (a tenant's daily usage, its audit log searched or exported) built off the event
loop that forwards every tenant's sessions, and only a few at once.

A report reads up to a hundred thousand audit records and turns them into megabytes of JSON or
CSV: seconds of work that, on the event loop, stalled every session the relay forwards
(bench/report_stall.py). :class:`ReportJobs` runs the whole of it (the directory's query, the
rows, the encoded answer) in worker threads of its own, apart from the directory calls of
logins and sessions, so those never queue behind a report; the loop only sends the bytes.

A report asked for while its tenant already has MAX_TENANT_REPORT_JOBS running, or the relay
MAX_REPORT_JOBS, is refused at once (:class:`ReportsBusy`, 429 with Retry-After) rather than
queued: an admin who asks again in a moment gets it, and a script cannot pile work up. A job
keeps its place until its thread is done, even if its client has gone.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from relay.admin.errors import ApiError, ErrorCode

T = TypeVar("T")

# Reports being built at once on this relay, all tenants together: each can keep a core busy,
# and the relay's sessions need one (the service ran on two).
MAX_REPORT_JOBS = 2
# Reports being built at once for one tenant: one tenant's admins cannot take both places.
MAX_TENANT_REPORT_JOBS = 1
# What a refused report's Retry-After says: about how long a large report takes.
REPORT_RETRY_AFTER_S = 10


class ReportsBusy(ApiError):
    status = 429

    def __init__(self, message: str, maximum: int) -> None:
        super().__init__(
            message,
            ErrorCode.REPORTS_BUSY,
            maximum=maximum,
            retry_after_s=REPORT_RETRY_AFTER_S,
        )
        self.retry_after_s = REPORT_RETRY_AFTER_S


class ReportTooLarge(ApiError):
    """A report that would need more rows than it may have: nothing of it is answered."""

    status = 413

    def __init__(self, message: str, maximum: int) -> None:
        super().__init__(message, ErrorCode.REPORT_TOO_LARGE, maximum=maximum)


class ReportJobs:
    """Where reports are built: at most ``total`` at once, ``per_tenant`` for one tenant."""

    def __init__(
        self, total: int = MAX_REPORT_JOBS, per_tenant: int = MAX_TENANT_REPORT_JOBS
    ) -> None:
        self.total = total
        self.per_tenant = per_tenant
        self.running: Counter[str] = Counter()
        self._executor = ThreadPoolExecutor(total, thread_name_prefix="telework-report")

    async def run(self, tenant: str, build: Callable[[], T]) -> T:
        """``build()`` in a report thread, for ``tenant``; :class:`ReportsBusy` at once (and
        nothing run) if the tenant or the relay has as many reports running as it may."""
        if self.running[tenant] >= self.per_tenant:
            raise ReportsBusy(
                "this tenant's reports are still being made: try again shortly",
                self.per_tenant,
            )
        if self.running.total() >= self.total:
            raise ReportsBusy("the relay is making other reports: try again shortly", self.total)
        self.running[tenant] += 1
        try:
            job = asyncio.get_running_loop().run_in_executor(self._executor, build)
        except BaseException:
            self._release(tenant)
            raise
        job.add_done_callback(lambda done: self._finished(tenant, done))
        # A client that leaves cancels its wait, not the thread: the place is kept until done.
        return await asyncio.shield(job)

    def _finished(self, tenant: str, job: asyncio.Future[T]) -> None:
        self._release(tenant)
        if not job.cancelled():
            job.exception()  # seen: a report whose client left must not log "never retrieved"

    def _release(self, tenant: str) -> None:
        self.running[tenant] -= 1
        if self.running[tenant] <= 0:
            del self.running[tenant]

    def close(self) -> None:
        """Stop taking reports; one being built finishes in its thread, unanswered."""
        self._executor.shutdown(wait=False, cancel_futures=True)
