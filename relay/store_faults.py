"""How the relay reports a directory that fails (a full disk, a lost database): each failure is
counted in the metrics, and the log gets one line per STORE_FAULT_LOG_INTERVAL_S instead of a
traceback per failed call."""

from __future__ import annotations

import logging
from collections.abc import Callable

from relay.metrics import RelayMetrics

log = logging.getLogger("telework.relay")

# Least time between two log lines about failing directory calls; the ones in between are
# only counted (telework_store_errors_total), and the next line says how many there were.
STORE_FAULT_LOG_INTERVAL_S = 60.0


class StoreFaults:
    """Counts failed directory calls and logs them at most once per interval."""

    def __init__(self, metrics: RelayMetrics, monotonic: Callable[[], float]) -> None:
        self._metrics = metrics
        self._monotonic = monotonic
        self._last_logged: float | None = None
        self._unlogged = 0

    def report(self, error: BaseException) -> None:
        self._metrics.store_errors += 1
        now = self._monotonic()
        if self._last_logged is not None and now - self._last_logged < STORE_FAULT_LOG_INTERVAL_S:
            self._unlogged += 1
            return
        more = f" ({self._unlogged} more since the last line)" if self._unlogged else ""
        log.error("directory call failed: %s%s", describe(error), more)
        self._last_logged, self._unlogged = now, 0


def describe(error: BaseException) -> str:
    """One line naming an error: the driver's own where SQLAlchemy wrapped it."""
    cause = getattr(error, "orig", None) or error
    return f"{type(cause).__name__}: {cause}"
