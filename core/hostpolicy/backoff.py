"""Reconnect back-off: growing, randomised, capped.

After a relay restart thousands of hosts notice at once. Each waits a random time from the upper
half of its current step ("equal jitter"), so their reconnects spread over seconds instead of
arriving together, and the cap bounds how long any host stays away after the relay is back.
"""

from __future__ import annotations

import random
from collections.abc import Callable

RECONNECT_FIRST_S = 1.0  # first step: the relay may just have restarted
# Steps grow by half each time (1, 1.5, 2.3, 3.4, 5.1 s...), not doubling: a relay restarted by
# its service manager listens again within seconds, and an office PC should be back within a
# few seconds of that (its viewer is waiting), while the jitter still spreads thousands of
# office PCs over each step.
RECONNECT_FACTOR = 1.5
RECONNECT_MAX_S = 30.0  # with the connect itself, every host is back within a minute
# The first retry after a link drops waits anywhere from 0 to this many first steps ("full
# jitter", 0-3 s by default): when a relay node dies, its thousands of office PCs reconnect to
# the others at once, and spread so 2,000 of them arrive at ~700 a second rather than all in
# the same half second.
RECONNECT_FIRST_SPREAD_STEPS = 3.0


class Backoff:
    def __init__(
        self,
        first_s: float = RECONNECT_FIRST_S,
        max_s: float = RECONNECT_MAX_S,
        factor: float = RECONNECT_FACTOR,
        rand: Callable[[], float] = random.random,
        first_spread_steps: float | None = None,
    ) -> None:
        """``first_spread_steps``: the first delay is anywhere from 0 to that many first steps
        (None: like the others)."""
        self.first_s = first_s
        self.max_s = max_s
        self.factor = factor
        self.first_spread_steps = first_spread_steps
        self._rand = rand
        self.attempt = 0

    def next_delay(self) -> float:
        """Seconds to wait before the next attempt; each call is one more failure."""
        if self.attempt == 0 and self.first_spread_steps is not None:
            self.attempt += 1
            return self._rand() * self.first_spread_steps * self.first_s
        step = min(self.max_s, self.first_s * self.factor**self.attempt)
        self.attempt += 1
        return step / 2 + self._rand() * step / 2

    def reset(self) -> None:
        self.attempt = 0
