"""Reports (a tenant's daily usage, its audit log searched or exported) built off the event
loop that forwards every tenant's sessions, and only a few at once.

A report reads up to a hundred thousand audit records and turns them into megabytes of JSON or
CSV: seconds of work that, on the event loop, stalled every session the relay forwards
(bench/report_stall.py). :class:`ReportJobs` runs the whole of it (the directory's query, the
rows, the encoded answer) in worker threads of its own, apart from the directory calls of
logins and sessions, so those never queue behind a report; the loop only sends the bytes.
Threads share the GIL: while a report is being made the interpreter hands it over every
REPORT_SWITCH_INTERVAL_S instead of every 5 ms, so the loop does not wait long for it.

A report asked for while its tenant already has MAX_TENANT_REPORT_JOBS running, or the relay
MAX_REPORT_JOBS, is refused at once (:class:`ReportsBusy`, 429 with Retry-After) rather than
queued: an admin who asks again in a moment gets it, and a script cannot pile work up. A job
keeps its place until its thread is done, even if its client has gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from relay.admin.errors import ApiError, ErrorCode

T = TypeVar("T")

# Reports being built at once on this relay, all tenants together: each can keep a core busy,
# and the relay's sessions need one (the service ran on two).
MAX_REPORT_JOBS = 2
# Reports being built at once for one tenant: one tenant's admins cannot take both places.
MAX_TENANT_REPORT_JOBS = 1
# What a refused report's Retry-After says: about how long a large report takes.
REPORT_RETRY_AFTER_S = 10
# How often the interpreter hands the GIL over while a report is being made (Python's default:
# 5 ms). The loop waits up to this long for the GIL each time it wakes with messages to forward
# while a report thread computes; at 5 ms those waits alone overran the loop with 50 sessions
# (bench/report_stall.py).
REPORT_SWITCH_INTERVAL_S = 0.0005


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


class _Switching:
    """The interpreter's switch interval: REPORT_SWITCH_INTERVAL_S while any report of the
    process is being made, its own otherwise."""

    def __init__(self) -> None:
        self.reports = 0
        self.own = sys.getswitchinterval()

    def report_started(self) -> None:
        if not self.reports:
            self.own = sys.getswitchinterval()
            sys.setswitchinterval(min(self.own, REPORT_SWITCH_INTERVAL_S))
        self.reports += 1

    def report_ended(self) -> None:
        self.reports -= 1
        if not self.reports:
            sys.setswitchinterval(self.own)


_switching = _Switching()


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
        async with self.job(tenant) as job:
            return await job.call(build)

    @contextlib.asynccontextmanager
    async def job(self, tenant: str) -> AsyncIterator[Job]:
        """A report of ``tenant`` whose steps (:meth:`Job.call`) run in a report thread one
        after the other (a report streamed a page at a time); :class:`ReportsBusy` at once if
        the tenant or the relay has as many reports running as it may. Its place is kept until
        its last step is done, even if its client has gone."""
        if self.running[tenant] >= self.per_tenant:
            raise ReportsBusy(
                "this tenant's reports are still being made: try again shortly",
                self.per_tenant,
            )
        if self.running.total() >= self.total:
            raise ReportsBusy("the relay is making other reports: try again shortly", self.total)
        _switching.report_started()
        self.running[tenant] += 1
        job = Job(self._executor)
        try:
            yield job
        finally:
            job.then(lambda: self._release(tenant))

    def _release(self, tenant: str) -> None:
        self.running[tenant] -= 1
        if self.running[tenant] <= 0:
            del self.running[tenant]
        _switching.report_ended()

    def close(self) -> None:
        """Stop taking reports; one being built finishes in its thread, unanswered."""
        self._executor.shutdown(wait=False, cancel_futures=True)


class Job:
    """One report's steps, each run in a report thread (see :meth:`ReportJobs.job`)."""

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self._executor = executor
        self._step: asyncio.Future[Any] | None = None

    async def call(self, step: Callable[[], T]) -> T:
        """``step()`` in a report thread. A client that leaves cancels this wait, not the
        thread: the job's place is kept until the step is done."""
        future = asyncio.get_running_loop().run_in_executor(self._executor, step)
        future.add_done_callback(_seen)
        self._step = future
        return await asyncio.shield(future)

    def then(self, release: Callable[[], None]) -> None:
        """``release()`` once no step is running any more (now, if none is)."""
        if self._step is None or self._step.done():
            release()
        else:
            self._step.add_done_callback(lambda _: release())


def _seen(step: asyncio.Future[Any]) -> None:
    if not step.cancelled():
        step.exception()  # a step whose client left must not log "never retrieved"
