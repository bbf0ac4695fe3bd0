"""Clean-up chains whose steps do not depend on each other: every step runs whatever the
others did, so one failed write (a full disk) cannot leave a session listed or a host untold."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Iterable

from relay.metrics import RelayMetrics
from relay.store_faults import describe

log = logging.getLogger("telework.relay")

# A clean-up step: its name (in the log and the metric's label), and what it does (sync or async).
Step = tuple[str, Callable[[], object]]


async def run_each(steps: Iterable[Step], metrics: RelayMetrics) -> None:
    """Run every step in order; a failure is logged in one line and counted, and the next step
    runs anyway. A cancellation (shutdown) is passed on once every step has run."""
    cancelled = False
    for name, step in steps:
        try:
            result = step()
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            cancelled = True
        except Exception as exc:
            metrics.cleanup_failures[name] += 1
            log.warning("clean-up step %s failed: %s", name, describe(exc))
    if cancelled:
        raise asyncio.CancelledError
