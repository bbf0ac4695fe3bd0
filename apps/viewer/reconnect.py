"""When to reconnect after a network drop, and when to give up and ask for a new OTP.

Qt-free and clock-free: every call takes ``now`` (monotonic seconds). The relay's ``LoginOk``
gives a single-use resume ticket; the relay keeps it alive while the session runs and for
``resume_ttl_s`` after the session ends, so the time starts at the drop (:meth:`dropped`), not at
the login. Each successful login brings a fresh one. After a drop the viewer waits a growing,
slightly randomised delay (as IPA's hosts do, so thousands of viewers behind one broken link
don't return in lockstep), shows the countdown, and tries again with the ticket — until the
ticket's time is up. A relay that cannot be reached has not seen the ticket, so it stays; a
refusal because the office PC is not ready comes with a fresh ticket; any other means a new OTP.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

FIRST_DELAY_S = 1.0
# Each delay half again the last (1, 1.5, 2.3, 3.4, 5.1 s...): after a relay restart the viewer
# should try again soon after the relay listens (it holds a resuming login while the office PC
# comes back), without hammering a relay that stays away.
DELAY_FACTOR = 1.5
MAX_DELAY_S = 15.0
JITTER = 0.2  # each delay is stretched by up to this share at random
# Stop retrying this long before the ticket expires: a login that arrives at the relay after the
# expiry would be refused and cost a failed-attempt count.
EXPIRY_MARGIN_S = 2.0
# A ticket handed back with a refused first login comes without its lifetime (``Refused`` has no
# field for it, and no login has told us the relay's). It is trusted for half the relay's
# default: presenting an expired one would count as a failed login.
REFUSAL_TICKET_TTL_S = 5 * 60.0


@dataclass
class ReconnectPlan:
    ticket: str
    expires_at: float
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0
    next_at: float | None = None
    ttl_s: float = 0.0  # how long the relay keeps the ticket after the session ends

    @classmethod
    def after_login(cls, ticket: str, ttl_s: float) -> ReconnectPlan:
        # No expiry while the session runs: the relay keeps the ticket alive until it ends.
        return cls(ticket, math.inf, ttl_s=ttl_s)

    @classmethod
    def after_refusal(cls, ticket: str, now: float) -> ReconnectPlan:
        """A first login refused because the office PC was not ready, with a fresh ticket."""
        return cls(ticket, now + REFUSAL_TICKET_TTL_S)

    def renewed(self, ticket: str, ttl_s: float) -> None:
        """A login succeeded (first or resumed): its new ticket replaces the used one."""
        self.ticket, self.expires_at, self.ttl_s = ticket, math.inf, ttl_s
        self.attempts, self.next_at = 0, None

    def dropped(self, last_heard: float) -> None:
        """The session was lost. The relay starts the ticket's time when it sees the session
        end, which is no earlier than it passed on the last bytes we heard: count from then."""
        self.expires_at = last_heard + self.ttl_s

    def usable(self, now: float) -> bool:
        return bool(self.ticket) and now < self.expires_at - EXPIRY_MARGIN_S

    def schedule(self, now: float) -> float | None:
        """After a drop or a failed attempt: when to try next, or None (ask for a new OTP)."""
        delay = min(MAX_DELAY_S, FIRST_DELAY_S * DELAY_FACTOR**self.attempts)
        delay *= 1.0 + JITTER * self.rng.random()
        self.attempts += 1
        at = now + delay
        if not self.usable(at):
            self.next_at = None
            return None
        self.next_at = at
        return at

    def seconds_left(self, now: float) -> int:
        """For the countdown: whole seconds until the next attempt (rounded up)."""
        if self.next_at is None:
            return 0
        return max(0, int(-(-(self.next_at - now) // 1)))
