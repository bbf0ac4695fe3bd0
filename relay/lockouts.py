"""The relay's lockouts, the same on every relay node sharing one directory.

Each lockout is this node's in-memory :class:`~core.auth.lockout.Lockout` in front and the
directory's shared count behind (:mod:`relay.store.lockouts`):

- the front answers without a directory call for a key it knows is locked (a source hammering
  a locked name costs no query), and counts the attempts under way on this node;
- the directory is the truth across nodes: a login reads its source's and user's shared
  counts and locks in one query, and a failure is counted there too (one write, for all the
  keys it counts against); a lock found there is adopted by the front, and failures the
  shared count no longer has (a success on another node) are forgotten by it.

A tenant's policy may set its staff's count and lock length (``lockout_failures``,
``lockout_minutes``): read at each login (:meth:`RelayLockouts.user_of`), they make the front
(a view of the same table, :meth:`Lockout.with_limits`) and the rule counted in the directory
alike, so every node locks the same account at the same count for the same time.

A directory that cannot be used (counted and logged by :meth:`RelayContext.db`) leaves each
node with its own count, as a single relay has; nothing that needs the directory (an OTP check,
an audit record) succeeds meanwhile anyway.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from core.auth.lockout import Lockout, user_window_s
from relay.errors import StoreUnavailable
from relay.store.directory import Directory
from relay.store.lockouts import NOT_LOCKED, CountedFailure, LockoutRule, SharedCount

# The kinds of shared count, as the directory stores them.
USER_KIND = "user"
SOURCE_KIND = "source"
NOISY_KIND = "noisy"
ADMIN_KIND = "admin"  # admin sign-ins, per login (relay.admin.service)
ADMIN_SOURCE_KIND = "admin_source"  # and per source address


class SharedLockout:
    """One lockout shared by every node: this node's front and the rule the directory counts by."""

    def __init__(self, kind: str, local: Lockout) -> None:
        self.local = local
        self.rule = LockoutRule(kind, local.max_failures, local.window_s, local.lock_s)

    @property
    def kind(self) -> str:
        return self.rule.kind

    def with_limits(self, max_failures: int, window_s: float, lock_s: float) -> SharedLockout:
        """The same lockout (the same keys, here and in the directory) with other limits, for
        keys whose limits differ: this node's front and the shared count lock alike."""
        return SharedLockout(self.kind, self.local.with_limits(max_failures, window_s, lock_s))


class LockoutSharing:
    """Reads and counts shared lockouts in the directory, on one clock."""

    def __init__(
        self,
        directory: Directory,
        db: Callable[..., Awaitable[Any]],
        clock: Callable[[], float],
    ) -> None:
        self._directory = directory
        self._db = db  # runs a blocking directory call off the event loop
        self._clock = clock
        # (kind, key) -> this node's failures being written to the shared count now (bounded
        # by the attempts under way; a key leaves at zero).
        self._writing: Counter[tuple[str, str]] = Counter()

    async def shared_counts(self, *wanted: tuple[SharedLockout, str]) -> tuple[SharedCount, ...]:
        """Each (lockout, key)'s shared count, in one directory read; the locks it finds are
        adopted by the fronts. Without the directory, nothing is known beyond this node."""
        before = [self._settled(lockout, key) for lockout, key in wanted]
        try:
            counts = await self._db(
                self._directory.lockout_counts,
                [(lockout.kind, key) for lockout, key in wanted],
                self._clock(),
            )
        except StoreUnavailable:
            return tuple(NOT_LOCKED for _ in wanted)
        found = tuple(counts[(lockout.kind, key)] for lockout, key in wanted)
        for (lockout, key), count, settled in zip(wanted, found, before, strict=True):
            if count.locked_until is not None:
                lockout.local.adopt_lock(key, count.locked_until)
            after = self._settled(lockout, key)
            if settled is not None and after == settled and settled > count.failures:
                # The read has every failure this node counted (none was being written, none
                # came meanwhile), yet fewer: a success on another node forgot them, and the
                # front must not lock on them alone.
                lockout.local.record_success(key)
        return found

    def _settled(self, lockout: SharedLockout, key: str) -> int | None:
        """The front's failures of ``key`` if all of them are in the shared count by now (none
        is being written), else None."""
        if self._writing[(lockout.kind, key)]:
            return None
        return lockout.local.failures(key)

    async def count_failures(
        self, failed: Sequence[tuple[SharedLockout, str]]
    ) -> list[CountedFailure] | None:
        """Count a failure for each (lockout, key) in the shared counts (one directory write;
        the fronts count theirs apart, see :meth:`Lockout.end`); the locks they reach are
        adopted by the fronts. None if the directory cannot be used now."""
        writing = Counter((lockout.kind, key) for lockout, key in failed)
        self._writing.update(writing)
        try:
            outcomes: list[CountedFailure] = await self._db(
                self._directory.count_lockout_failures,
                [(lockout.rule, key) for lockout, key in failed],
                self._clock(),
            )
        except StoreUnavailable:
            return None
        finally:
            self._writing.subtract(writing)
            for done in writing:
                if self._writing[done] <= 0:
                    del self._writing[done]
        for (lockout, key), outcome in zip(failed, outcomes, strict=True):
            if outcome.locked_until is not None:
                lockout.local.adopt_lock(key, outcome.locked_until)
        return outcomes

    async def failed(
        self, counted_by: Sequence[tuple[SharedLockout, str]], local_until: float | None
    ) -> float | None:
        """Count a failed attempt in the shared counts (see :meth:`count_failures`); when the
        latest lock it caused or met ends, here (``local_until``, from :meth:`Attempt.end`) or
        in the shared counts. None if none."""
        outcomes = await self.count_failures(counted_by) or ()
        ends = [local_until, *(outcome.locked_until for outcome in outcomes)]
        return max((end for end in ends if end is not None), default=None)

    async def succeeded(self, lockout: SharedLockout, key: str, shared: SharedCount) -> None:
        """Forget ``key``'s failures here, and in the shared count if it had any when read
        (``shared``): a login without earlier failures writes nothing."""
        lockout.local.record_success(key)
        if shared.failures:
            try:
                await self._db(self._directory.forget_lockout_failures, lockout.kind, key)
            except StoreUnavailable:
                pass  # they leave the window in time; a lock is never lifted early either way


class RelayLockouts(LockoutSharing):
    """Per-user and per-source lockouts of viewer logins, and the quieting of noisy sources."""

    def __init__(
        self,
        directory: Directory,
        db: Callable[..., Awaitable[Any]],
        clock: Callable[[], float],
        *,
        noisy: Lockout,
    ) -> None:
        super().__init__(directory, db, clock)  # db: RelayContext.db, its failures counted
        self.user = SharedLockout(USER_KIND, Lockout.per_user(clock))
        self.source = SharedLockout(SOURCE_KIND, Lockout.per_source(clock))
        self.noisy = SharedLockout(NOISY_KIND, noisy)

    async def user_of(self, tenant: str | None) -> SharedLockout:
        """The per-user lockout of ``tenant``'s staff (as stored; None: a name no account can
        have): the tenant's own count and lock length if its policy sets them, else the
        defaults. Without the directory the defaults (nothing needing it succeeds meanwhile).
        A lock already set keeps its end; a changed count counts the failures already in."""
        if tenant is None:
            return self.user
        try:
            max_failures, lock_s = await self._db(self._directory.tenant_lockout, tenant)
        except StoreUnavailable:
            return self.user
        default = self.user.local
        if (max_failures, lock_s) == (default.max_failures, default.lock_s):
            return self.user
        return self.user.with_limits(max_failures, user_window_s(max_failures), lock_s)
