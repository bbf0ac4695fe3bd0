"""Directory writes that want nothing back but their commit (audit records, an office PC's
last-seen time), gathered into one transaction while the one before is committing.

On SQLite every commit waits for the disk (``synchronous=FULL``: a committed audit record
survives a crash), a few milliseconds each. One commit per write held a relay restart, with
thousands of office PCs coming back at once, to a few hundred writes a second, and the office
PCs queued behind the disk for their HostReady; leaving was as slow. Gathered, the writes that
arrive during one commit share the next: as many a second as the disk takes commits, times the
group's size. Each write is still all or nothing on its own, and no caller hears "written"
before its commit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

from relay.errors import StoreUnavailable
from relay.store.directory import Directory

# Most writes one commit carries: enough to take a reconnect storm in a few commits, few enough
# that one transaction holds the writer lock (and its thread) for milliseconds, not seconds.
MAX_GROUP_COMMIT_WRITES = 500
# Most writes queued for commits to come: a directory that stalls (a lost database server) must
# not let the queue grow until memory runs out. Past it a write fails at once (StoreUnavailable):
# a fact's audit record then waits in the bounded audit backlog, a decision is refused.
MAX_QUEUED_WRITES = 50_000

Change = Callable[[], None]
# Runs a blocking call off the event loop, raising StoreUnavailable if the database fails.
Runner = Callable[[Callable[[], list[Exception | None]]], Awaitable[list[Exception | None]]]


class GroupCommit:
    """The queue of writes for the next commit, and the task that commits them."""

    def __init__(self, directory: Directory, run: Runner) -> None:
        self._directory = directory
        self._run = run
        self._waiting: list[tuple[Change, asyncio.Future[None]]] = []
        self._committing: asyncio.Task[None] | None = None
        self._in_commit = 0
        self._commits = 0  # groups committed (or failed) so far

    def __len__(self) -> int:
        """Writes not yet committed (waiting, or in the commit under way)."""
        return len(self._waiting) + self._in_commit

    def add(self, change: Change) -> asyncio.Future[None]:
        """Queue ``change`` (a blocking directory write) for the next commit. The future is
        done once it is committed, or holds its error: what ``change`` raised (nothing of it
        was written), or StoreUnavailable (the commit failed: nothing of the group was).
        The write is made whether or not anyone waits for the future. StoreUnavailable at
        once if ``MAX_QUEUED_WRITES`` are waiting already."""
        future = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieved)  # a write nobody waits for has its error seen
        if len(self._waiting) >= MAX_QUEUED_WRITES:
            future.set_exception(StoreUnavailable("the directory is not keeping up with writes"))
            return future
        self._waiting.append((change, future))
        if self._committing is None or self._committing.done():
            self._committing = asyncio.create_task(self._commit_waiting())
        return future

    async def write(self, change: Change) -> None:
        """:meth:`add` ``change`` and wait until it is committed; a caller cancelled meanwhile
        stops waiting, but the write is still made."""
        await asyncio.shield(self.add(change))

    async def flushed(self, timeout_s: float) -> bool:
        """Wait until no write is waiting or being committed, as long as the directory keeps
        committing: False if one commit took longer than ``timeout_s`` (writes still wait)."""
        while self._committing is not None and not self._committing.done():
            commits = self._commits
            await asyncio.wait([self._committing], timeout=timeout_s)
            if self._commits == commits and not self._committing.done():
                return False
        return True

    async def _commit_waiting(self) -> None:
        while self._waiting:
            group = self._waiting[:MAX_GROUP_COMMIT_WRITES]
            del self._waiting[:MAX_GROUP_COMMIT_WRITES]
            self._in_commit = len(group)
            changes = [change for change, _ in group]
            outcomes: list[Exception | None]
            try:
                outcomes = await self._run(partial(self._directory.write_group, changes))
            except StoreUnavailable as exc:
                outcomes = [exc] * len(group)
            except asyncio.CancelledError:
                for _, future in group:
                    future.cancel()
                raise
            finally:
                self._in_commit = 0
                self._commits += 1
            for (_, future), outcome in zip(group, outcomes, strict=True):
                if outcome is None:
                    future.set_result(None)
                else:
                    future.set_exception(outcome)


def _retrieved(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()
