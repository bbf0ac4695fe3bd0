"""Lockout after repeated failures, keyed by anything (a user, a source address).

A key that fails ``max_failures`` times within a sliding ``window_s`` is locked for ``lock_s``.
Memory is bounded: at most ``max_keys`` keys are tracked and the least recently touched is
forgotten first. Time comes from an injected clock (monotonic in production), so tests simulate
hours without sleeping.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from core.auth.errors import AuthArgumentError

# Per user: 5 wrong OTPs in 15 minutes lock the account for 15 minutes. Against a 6-digit TOTP
# (3 valid codes per attempt with drift) that is ~1.5e-5 odds per window, ~1.4 % per year of
# nonstop guessing; tight enough, yet a user fumbling the app is not locked out for a day.
USER_MAX_FAILURES = 5
USER_WINDOW_S = 15 * 60.0
USER_LOCK_S = 15 * 60.0
# Per source address: looser, because one office NAT address carries many honest staff, but it
# stops one address from spraying guesses across many user names.
SOURCE_MAX_FAILURES = 20
SOURCE_WINDOW_S = 15 * 60.0
SOURCE_LOCK_S = 15 * 60.0
# Keys tracked at once. Each costs well under 1 KiB, so 100,000 is < 100 MiB worst case while
# covering far more than the ~2,000 daily terminals of the largest deployment we model.
DEFAULT_MAX_KEYS = 100_000


@dataclass
class _Entry:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float | None = None


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
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    @classmethod
    def per_user(cls, clock: Callable[[], float] = time.monotonic) -> Lockout:
        """The default per-user lockout (:data:`USER_MAX_FAILURES` in :data:`USER_WINDOW_S`)."""
        return cls(USER_MAX_FAILURES, USER_WINDOW_S, USER_LOCK_S, clock, DEFAULT_MAX_KEYS)

    @classmethod
    def per_source(cls, clock: Callable[[], float] = time.monotonic) -> Lockout:
        """The default per-source-address lockout (:data:`SOURCE_MAX_FAILURES` in its window)."""
        return cls(SOURCE_MAX_FAILURES, SOURCE_WINDOW_S, SOURCE_LOCK_S, clock, DEFAULT_MAX_KEYS)

    def __len__(self) -> int:
        return len(self._entries)

    def locked_until(self, key: str) -> float | None:
        """When ``key``'s lock ends, or None if it is not locked now."""
        entry = self._entries.get(key)
        if entry is None or entry.locked_until is None:
            return None
        if entry.locked_until <= self._clock():
            entry.locked_until = None
            if not entry.failures:
                del self._entries[key]
            return None
        return entry.locked_until

    def record_failure(self, key: str) -> float | None:
        """Count a failure for ``key``; returns when its lock ends if it is (now) locked."""
        now = self._clock()
        entry = self._touch(key)
        if entry.locked_until is not None and entry.locked_until > now:
            return entry.locked_until  # Failures while locked neither count nor extend the lock.
        entry.locked_until = None
        failures = entry.failures
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        failures.append(now)
        if len(failures) >= self.max_failures:
            failures.clear()
            entry.locked_until = now + self.lock_s
        return entry.locked_until

    def record_success(self, key: str) -> None:
        """Forget ``key``'s failures. A lock in force stays until it ends."""
        entry = self._entries.get(key)
        if entry is None:
            return
        entry.failures.clear()
        if entry.locked_until is None or entry.locked_until <= self._clock():
            del self._entries[key]

    def _touch(self, key: str) -> _Entry:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
            while len(self._entries) > self.max_keys:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        return entry
