"""Token bucket that paces a byte stream to an average rate with a bounded burst.

Pure arithmetic with an injected clock: the caller asks how long to wait before sending a
chunk, and waits. Debt is allowed (a chunk larger than the bucket is paced, not refused), so
the long-run rate never exceeds ``rate_bytes_per_s`` whatever the chunk sizes.
"""

from __future__ import annotations


class TokenBucket:
    def __init__(self, rate_bytes_per_s: float, burst_bytes: float, now: float) -> None:
        if rate_bytes_per_s <= 0 or burst_bytes <= 0:
            raise ValueError("rate and burst must be positive")
        self.rate = rate_bytes_per_s
        self.burst = burst_bytes
        self._tokens = burst_bytes
        self._stamp = now

    def set_rate(self, rate_bytes_per_s: float, now: float) -> None:
        """Change the rate from now on (used when a tenant's hard cap lowers the budget)."""
        self.delay_for(0, now)  # what accrued until now, at the old rate
        self.rate = max(rate_bytes_per_s, 1.0)

    def delay_for(self, nbytes: int, now: float) -> float:
        """Take ``nbytes`` from the bucket; return the seconds to wait before sending them."""
        # One call, no helper: the relay asks this for every chunk it forwards.
        tokens = self._tokens + max(0.0, now - self._stamp) * self.rate
        self._stamp = now
        tokens = (self.burst if tokens > self.burst else tokens) - nbytes
        self._tokens = tokens
        return 0.0 if tokens >= 0 else -tokens / self.rate
