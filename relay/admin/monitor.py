"""Per-tenant bandwidth: live rates, history, threshold alerts and the hard cap.

Sampled from the relay's live sessions every :data:`MONITOR_INTERVAL_S`: the bytes each session
forwarded since the last sample (both directions) give its current rate; a tenant's rate is the
sum over its sessions. Crossing the tenant's alert threshold raises an alert once; it clears when
the rate has stayed below :data:`ALERT_CLEAR_RATIO` of the threshold for
:data:`ALERT_CLEAR_SAMPLES` samples in a row (no flapping around the line, nor on the pauses of
a video that sends in bursts: a still screen sends nothing for a second or more).

The hard cap lowers budgets, it never cuts a session: each of the tenant's sessions gets
``cap / sessions`` per direction (never above the relay's per-session budget), re-shared as
sessions come and go.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from relay.store.nodes import ClusterSession

if TYPE_CHECKING:
    from relay.server import RelayServer

# How often rates are sampled: often enough that an alert comes within seconds.
MONITOR_INTERVAL_S = 1.0
# Samples kept per tenant for the console's chart: ten minutes at the default interval.
MAX_HISTORY_SAMPLES = 600
# An alert clears once the rate is below this share of the threshold.
ALERT_CLEAR_RATIO = 0.9
# ... for this many samples in a row (five seconds at the default interval).
ALERT_CLEAR_SAMPLES = 5
# Alerts kept in memory for the console (the audit log keeps them all).
MAX_RECENT_ALERTS = 200


@dataclass(frozen=True)
class AlertEvent:
    tenant: str
    ts: float
    kind: str  # "raised" or "cleared"
    rate_bps: int
    threshold_bps: int


@dataclass
class TenantRates:
    history: deque[tuple[float, int]] = field(
        default_factory=lambda: deque(maxlen=MAX_HISTORY_SAMPLES)
    )
    alerting: bool = False
    quiet_samples: int = 0  # while alerting: samples in a row below the clearing line


class BandwidthMonitor:
    """Samples session byte counters; knows each tenant's limits."""

    def __init__(
        self,
        server: RelayServer,
        wall_clock: Callable[[], float] = time.time,
        mono_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._server = server
        self._wall = wall_clock
        self._mono = mono_clock
        self.limits: dict[str, tuple[int | None, int | None]] = {}  # tenant -> (alert, cap)
        self.tenants: dict[str, TenantRates] = {}
        self.session_bps: dict[str, int] = {}
        self.recent_alerts: deque[AlertEvent] = deque(maxlen=MAX_RECENT_ALERTS)
        self._last_bytes: dict[str, int] = {}
        self._last_mono = mono_clock()
        self._applied_share: dict[str, int] = {}
        # Other nodes' sessions (a cluster), from their last heartbeats: by tenant, how many;
        # by session, (bytes, when counted, rate) for the rates between two heartbeats.
        self.elsewhere_counts: dict[str, int] = {}
        self._elsewhere_last: dict[str, tuple[int, float, int]] = {}

    # -- sampling ----------------------------------------------------------------------------

    def sample(
        self, elsewhere: Iterable[ClusterSession] = (), *, alerts: bool = True
    ) -> list[AlertEvent]:
        """Take one sample; returns the alerts raised or cleared by it. ``elsewhere``: the
        other nodes' live sessions (a cluster), counted into the tenants' rates and into the
        share of a tenant's cap; ``alerts``: whether this node raises them (in a cluster one
        node does, the others only follow the rates)."""
        now_mono, now = self._mono(), self._wall()
        elapsed = max(now_mono - self._last_mono, 1e-3)
        self._last_mono = now_mono
        totals: dict[str, int] = {}
        seen: dict[str, int] = {}
        for session_id, session in list(self._server.sessions.items()):
            moved = session.bytes_to_viewer + session.bytes_to_host
            seen[session_id] = moved
            delta = moved - self._last_bytes.get(session_id, 0)
            bps = int(delta * 8 / elapsed)
            self.session_bps[session_id] = bps
            totals[session.tenant] = totals.get(session.tenant, 0) + bps
        self._last_bytes = seen
        for gone in set(self.session_bps) - set(seen):
            del self.session_bps[gone]
        self._count_elsewhere(elsewhere, totals)
        events = []
        for tenant in set(totals) | set(self.tenants) | set(self.limits):
            rates = self.tenants.setdefault(tenant, TenantRates())
            rate = totals.get(tenant, 0)
            rates.history.append((now, rate))
            event = self._check_threshold(tenant, rates, rate, now)
            if event is not None and alerts:
                events.append(event)
                self.recent_alerts.append(event)
        self.apply_caps()
        return events

    def _count_elsewhere(self, rows: Iterable[ClusterSession], totals: dict[str, int]) -> None:
        """Add the other nodes' sessions to ``totals`` (their rate between their last two
        heartbeats) and to :attr:`elsewhere_counts`."""
        counts: dict[str, int] = {}
        last: dict[str, tuple[int, float, int]] = {}
        for row in rows:
            moved = row.bytes_to_viewer + row.bytes_to_host
            before = self._elsewhere_last.get(row.session_id)
            if before is None:
                bps = 0
            elif row.updated_at > before[1]:
                bps = int((moved - before[0]) * 8 / (row.updated_at - before[1]))
            else:
                bps = before[2]  # no new heartbeat since: the same rate
            last[row.session_id] = (moved, row.updated_at, bps)
            totals[row.tenant] = totals.get(row.tenant, 0) + bps
            counts[row.tenant] = counts.get(row.tenant, 0) + 1
        self._elsewhere_last, self.elsewhere_counts = last, counts

    def _check_threshold(
        self, tenant: str, rates: TenantRates, rate: int, now: float
    ) -> AlertEvent | None:
        threshold = self.limits.get(tenant, (None, None))[0]
        if threshold is None:
            rates.alerting, rates.quiet_samples = False, 0
            return None
        if not rates.alerting and rate > threshold:
            rates.alerting = True
            return AlertEvent(tenant, now, "raised", rate, threshold)
        if not rates.alerting:
            return None
        rates.quiet_samples = rates.quiet_samples + 1 if rate < threshold * ALERT_CLEAR_RATIO else 0
        if rates.quiet_samples >= ALERT_CLEAR_SAMPLES:
            rates.alerting, rates.quiet_samples = False, 0
            return AlertEvent(tenant, now, "cleared", rate, threshold)
        return None

    def current_bps(self, tenant: str) -> int:
        rates = self.tenants.get(tenant)
        return rates.history[-1][1] if rates and rates.history else 0

    # -- hard cap ------------------------------------------------------------------------------

    def share_bps(self, tenant: str) -> int:
        """One session's budget per direction under the tenant's cap (the relay's if no cap)."""
        full = self._server.settings.session_rate_bps
        cap = self.limits.get(tenant, (None, None))[1]
        if cap is None:
            return full
        count = sum(1 for s in self._server.sessions.values() if s.tenant == tenant)
        count += self.elsewhere_counts.get(tenant, 0)  # the cap is the tenant's, cluster-wide
        return min(full, cap // max(count, 1))

    def apply_caps(self) -> None:
        """Re-share every capped tenant's budget among its live sessions (and restore the full
        budget of a tenant whose cap was lifted)."""
        for tenant in set(self._applied_share) | {t for t, (_, c) in self.limits.items() if c}:
            share = self.share_bps(tenant)
            if self._applied_share.get(tenant) != share:
                self._server.limit_tenant_rate(tenant, share)
                self._applied_share[tenant] = share
            if (
                share == self._server.settings.session_rate_bps
                and not self.limits.get(tenant, (None, None))[1]
            ):
                del self._applied_share[tenant]
