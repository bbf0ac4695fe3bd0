"""Lockout after repeated failures, keyed by anything (a user, a source address).

A key that fails ``max_failures`` times within a sliding ``window_s`` is locked for ``lock_s``.
Memory is bounded: at most ``max_keys`` keys with failures are tracked, the least recently
touched forgotten first, and apart from them at most ``max_keys`` locks. Locks live in their own
table so that a flood of failures under fresh keys cannot push a locked key out (and unlock
it); when even the lock table is full, the lock that ends soonest goes. Time comes from an
injected clock, so tests simulate hours without sleeping.

Keys whose limits differ (the staff of tenants with a lockout of their own) share one table and
its bound: :meth:`Lockout.with_limits` counts the same keys by other limits.

Processes that share their counts (relay nodes, through their directory) keep one of these each
as a fast front that also counts the attempts under way: they pass the shared count to
:meth:`Lockout.begin` and adopt the shared locks (:meth:`Lockout.adopt_lock`); the sharing
itself (I/O) is theirs.
"""

from __future__ import annotations

import heapq
import ipaddress
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence

from core.auth.errors import AuthArgumentError

# Per user: 5 wrong OTPs in 15 minutes lock the account for 15 minutes. Against a 6-digit TOTP
# (3 valid codes per attempt with drift) that is ~1.5e-5 odds per window, ~1.4 % per year of
# nonstop guessing; tight enough, yet a user fumbling the app is not locked out for a day.
USER_MAX_FAILURES = 5
USER_WINDOW_S = 15 * 60.0
USER_LOCK_S = 15 * 60.0
# A tenant may set its own count and lock length (its policy's lockout_failures and
# lockout_minutes, checked by core.policy), within these bounds and never so that a guesser gets
# more tries per hour than the defaults give (5 per 15 minutes: 20). Fewer than 3 locks staff out
# for one slip of a finger; more than 10 is no lockout a tenant should want. That rate lets even
# 3 failures lock for no less than 9 minutes: 10 is the round floor. A lock longer than a day
# would let anyone who knows a staff ID keep that person out for more than a working day.
MIN_TENANT_LOCKOUT_FAILURES = 3
MAX_TENANT_LOCKOUT_FAILURES = 10
MIN_TENANT_LOCK_MINUTES = 10
MAX_TENANT_LOCK_MINUTES = 24 * 60
MAX_USER_GUESSES_PER_HOUR = 20
# Per source address: looser, because one office NAT address carries many honest staff, but it
# stops one address from spraying guesses across many user names.
SOURCE_MAX_FAILURES = 20
SOURCE_WINDOW_S = 15 * 60.0
SOURCE_LOCK_S = 15 * 60.0
# An IPv6 client normally holds a whole /64 (SLAAC, privacy addresses) and may use any address
# in it, so per-source limits count IPv6 sources by their /64; IPv4 sources by the address.
IPV6_SOURCE_PREFIX = 64
# An attempt refused because the ones already under way could lock the key may retry after
# this long (they will have finished, and the count tells).
IN_FLIGHT_RETRY_S = 1.0
# Keys tracked at once. Each costs well under 1 KiB, so 100,000 is < 100 MiB worst case while
# covering far more than the ~2,000 daily terminals of the largest deployment we model.
DEFAULT_MAX_KEYS = 100_000


class Lockout:
    """Counts failures per key and locks a key that fails too often."""

    def __init__(
        self,
        max_failures: int,
        window_s: float,
        lock_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        if max_failures < 1 or window_s <= 0 or lock_s <= 0 or max_keys < 1:
            raise AuthArgumentError("lockout limits must be positive")
        self.max_failures = max_failures
        self.window_s = window_s
        self.lock_s = lock_s
        self.max_keys = max_keys
        self._clock = clock
        # All state is in these containers, which with_limits shares.
        # key -> times of failures in the window, least recently touched first
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        # key -> when its lock ends
        self._locks: dict[str, float] = {}
        # (end, key) of the locks, soonest first (a heap); an entry whose key's lock is gone
        # or ends otherwise is stale, dropped when it comes first or the heap is rebuilt.
        self._lock_ends: list[tuple[float, str]] = []
        # key -> attempts begun and not yet ended (bounded by the connections that carry them)
        self._in_flight: dict[str, int] = {}

    @classmethod
    def per_user(cls, clock: Callable[[], float] = time.monotonic) -> Lockout:
        """The default per-user lockout (:data:`USER_MAX_FAILURES` in :data:`USER_WINDOW_S`)."""
        return cls(USER_MAX_FAILURES, USER_WINDOW_S, USER_LOCK_S, clock, DEFAULT_MAX_KEYS)

    @classmethod
    def per_source(cls, clock: Callable[[], float] = time.monotonic) -> Lockout:
        """The default per-source-address lockout (:data:`SOURCE_MAX_FAILURES` in its window)."""
        return cls(SOURCE_MAX_FAILURES, SOURCE_WINDOW_S, SOURCE_LOCK_S, clock, DEFAULT_MAX_KEYS)

    def with_limits(self, max_failures: int, window_s: float, lock_s: float) -> Lockout:
        """The same keys (their failures, locks and attempts under way, and the bound on them)
        counted by other limits: for keys whose limits differ, such as a tenant's staff."""
        view = Lockout(max_failures, window_s, lock_s, self._clock, self.max_keys)
        view._failures, view._locks = self._failures, self._locks
        view._lock_ends, view._in_flight = self._lock_ends, self._in_flight
        return view

    def __len__(self) -> int:
        """Keys tracked (with failures, locked, or both)."""
        return len(self._failures.keys() | self._locks.keys())

    def locked_until(self, key: str) -> float | None:
        """When ``key``'s lock ends, or None if it is not locked now."""
        until = self._locks.get(key)
        if until is None:
            return None
        if until <= self._clock():
            del self._locks[key]
            return None
        return until

    def failures(self, key: str) -> int:
        """``key``'s failures within the window, as counted here."""
        now = self._clock()
        return sum(1 for t in self._failures.get(key, ()) if t > now - self.window_s)

    def record_failure(self, key: str) -> float | None:
        """Count a failure for ``key``; returns when its lock ends if it is (now) locked."""
        until = self.locked_until(key)
        if until is not None:
            return until  # Failures while locked neither count nor extend the lock.
        now = self._clock()
        failures = self._failures.pop(key, None) or deque()
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        failures.append(now)
        if len(failures) < self.max_failures:
            self._failures[key] = failures  # (re)inserted last: the most recently touched
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
            return None
        return self._lock(key, now)

    def begin(self, key: str, shared_failures: int = 0) -> float | None:
        """Start an attempt for ``key`` (a check that takes a while, such as a password hash).

        Returns None to go ahead, or when to retry: the lock's end if ``key`` is locked, or
        shortly if the attempts already under way could lock it. Counting attempts while they
        are in flight stops a burst of parallel guesses from all being checked before the first
        failure counts. Every ``begin`` that returns None must be followed by one :meth:`end`.

        ``shared_failures``: the key's failures in the window as a count shared with other
        processes has them (this one's included); the larger of it and this one's count counts.
        """
        until = self.locked_until(key)
        if until is not None:
            return until
        recent = max(self.failures(key), shared_failures)
        in_flight = self._in_flight.get(key, 0)
        if recent + in_flight >= self.max_failures:
            return self._clock() + IN_FLIGHT_RETRY_S
        self._in_flight[key] = in_flight + 1
        return None

    def end(self, key: str, *, failed: bool) -> float | None:
        """End an attempt :meth:`begin` let through; a failed one counts (see
        :meth:`record_failure`, whose result this returns). An attempt that never got its
        answer (an error, a cancellation) ends with ``failed=False``."""
        left = self._in_flight.pop(key, 1) - 1
        if left > 0:
            self._in_flight[key] = left
        return self.record_failure(key) if failed else None

    def adopt_lock(self, key: str, until: float) -> None:
        """Lock ``key`` until ``until``, as another process sharing the count decided (a later
        lock already here stays)."""
        now = self._clock()
        if until <= now or until <= self._locks.get(key, now):
            return
        self._locks.pop(key, None)
        self._set_lock(key, until, now)

    def record_success(self, key: str) -> None:
        """Forget ``key``'s failures. A lock in force stays until it ends."""
        self._failures.pop(key, None)

    def _lock(self, key: str, now: float) -> float:
        until = now + self.lock_s
        self._set_lock(key, until, now)
        return until

    def _set_lock(self, key: str, until: float, now: float) -> None:
        """Lock ``key`` (not locked now) until ``until``, making room first: ended locks go,
        then, while the table is full, the one that ends soonest."""
        ends = self._lock_ends
        while ends:
            end, first = ends[0]
            if self._locks.get(first) != end:
                heapq.heappop(ends)  # stale
            elif end <= now or len(self._locks) >= self.max_keys:
                heapq.heappop(ends)
                del self._locks[first]
            else:
                break
        self._locks[key] = until
        heapq.heappush(ends, (until, key))
        if len(ends) > 2 * self.max_keys:  # mostly stale: rebuild in place (views share it)
            ends[:] = [(end, k) for k, end in self._locks.items()]
            heapq.heapify(ends)


def user_window_s(max_failures: int) -> float:
    """The per-user window for a count of ``max_failures``: :data:`USER_WINDOW_S`, or longer
    where a guesser staying just under the count would otherwise get more than
    :data:`MAX_USER_GUESSES_PER_HOUR` (10 failures: 30 minutes)."""
    return max(USER_WINDOW_S, max_failures * 3600.0 / MAX_USER_GUESSES_PER_HOUR)


def source_key(address: str) -> str:
    """What per-source lockouts and connection caps count ``address`` by: an IPv4 address
    (IPv4-mapped IPv6 included) as itself, an IPv6 address by its /64; anything else as given."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # "unknown": all such peers share one count
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_SOURCE_PREFIX), strict=False))
    return str(ip)


class Attempt:
    """One attempt counted against several lockouts at once (an account and a source)."""

    def __init__(self, *counted_by: tuple[Lockout, str]) -> None:
        self._counted_by = counted_by
        self._begun: list[tuple[Lockout, str]] = []

    def begin(self, shared_failures: Sequence[int] = ()) -> float | None:
        """None to go ahead, or when to retry (see :meth:`Lockout.begin`); a refusal by one
        lockout undoes what the others began. ``shared_failures``: each (lockout, key)'s
        failures as a shared count has them, in order (see :meth:`Lockout.begin`)."""
        shared = list(shared_failures) or [0] * len(self._counted_by)
        for (lockout, key), failures in zip(self._counted_by, shared, strict=True):
            retry_at = lockout.begin(key, failures)
            if retry_at is not None:
                self.end(failed=False)
                return retry_at
            self._begun.append((lockout, key))
        return None

    def end(self, *, failed: bool) -> float | None:
        """End the attempt; for a failed one, when the latest lock it caused or met ends."""
        ends = [lockout.end(key, failed=failed) for lockout, key in self._begun]
        self._begun.clear()
        return max((t for t in ends if t is not None), default=None)
