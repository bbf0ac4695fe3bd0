"""Bandwidth and usage monitoring for the admin API: sampling the relay's rates and recording
alerts, each tenant's threshold and cap, its alerts and its daily usage."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from relay.admin.monitor import AlertEvent, BandwidthMonitor
from relay.admin.reports import ReportTooLarge
from relay.admin.services.backend import Backend, Record, Scope
from relay.admin.usage import SessionSpans, report_days, usage_of
from relay.store.audit import SESSION_LOOKBACK_S, AuditRecord

log = logging.getLogger("telework.admin")
# Alerts go to their own logger so an operator can route them to syslog on their own.
alert_log = logging.getLogger("telework.alert")

T = TypeVar("T")

# Most sessions one usage report may count (their starts, and their ends, read a page at a
# time): a year of the largest tenant's office PCs used every day, with room. A report of more
# is refused, rather than answered with the oldest missing.
MAX_USAGE_SESSIONS = 100_000
# The audit records a usage report reads.
SESSION_EVENTS = ("session_start", "session_end")
# Audit records shown as alerts.
ALERT_EVENTS = ("bandwidth_alert", "bandwidth_alert_cleared")
MAX_ALERTS_SHOWN = 100


class MonitoringService:
    def __init__(self, backend: Backend, monitor: BandwidthMonitor, interval_s: float) -> None:
        self.backend = backend
        self.directory = backend.directory
        self.monitor = monitor
        self.interval_s = interval_s

    async def run(self) -> None:
        """Sample bandwidth every ``interval_s`` and record the alerts raised or cleared."""
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                server = self.backend.server
                elsewhere = await server.sessions_elsewhere(None)
                alerts = await server.leads_cluster()
                for event in self.monitor.sample(elsewhere, alerts=alerts):
                    await self._record_alert(event)
            except Exception:  # one bad sample must not end monitoring
                log.exception("bandwidth sample failed")

    async def _record_alert(self, event: AlertEvent) -> None:
        kbps, limit = event.rate_bps // 1000, event.threshold_bps // 1000
        if event.kind == "raised":
            alert_log.warning(
                "tenant %s bandwidth %d kbit/s is above its threshold %d kbit/s",
                event.tenant,
                kbps,
                limit,
            )
        else:
            alert_log.info(
                "tenant %s bandwidth %d kbit/s is back under its threshold %d kbit/s",
                event.tenant,
                kbps,
                limit,
            )
        await self.backend.db(
            partial(
                self.directory.audit,
                ALERT_EVENTS[0] if event.kind == "raised" else ALERT_EVENTS[1],
                tenant=event.tenant,
                source="monitor",
                detail={"rate_bps": event.rate_bps, "threshold_bps": event.threshold_bps},
                now=event.ts,
            )
        )

    def bandwidth(self, tenant: str) -> dict[str, Any]:
        alert_bps, cap_bps = self.monitor.limits.get(tenant, (None, None))
        rates = self.monitor.tenants.get(tenant)
        history = [{"ts": ts, "bps": bps} for ts, bps in (rates.history if rates else ())]
        return {
            "tenant": tenant,
            "current_bps": self.monitor.current_bps(tenant),
            "alert_bps": alert_bps,
            "cap_bps": cap_bps,
            "alerting": self._alerting(tenant),
            "session_budget_bps": self.monitor.share_bps(tenant),
            "sessions": sum(1 for s in self.backend.server.sessions.values() if s.tenant == tenant)
            + self.monitor.elsewhere_counts.get(tenant, 0),
            "interval_s": self.interval_s,
            "history": history,
        }

    def _alerting(self, tenant: str) -> bool:
        rates = self.monitor.tenants.get(tenant)
        return bool(rates and rates.alerting)

    async def set_limits(self, scope: Scope, alert_bps: int | None, cap_bps: int | None) -> None:
        """Set the tenant's alert threshold and hard cap (None: none), applied at once."""
        await self.backend.change(
            scope,
            Record("bandwidth_limits", detail={"alert_bps": alert_bps, "cap_bps": cap_bps}),
            self.directory.set_bandwidth_limits,
            scope.tenant,
            alert_bps,
            cap_bps,
            now=self.backend.clock(),
        )
        if alert_bps is None and cap_bps is None:
            self.monitor.limits.pop(scope.tenant, None)
        else:
            self.monitor.limits[scope.tenant] = (alert_bps, cap_bps)
        self.monitor.apply_caps()

    async def alerts(self, tenant: str) -> tuple[bool, list[dict[str, Any]]]:
        """Whether the tenant is alerting now, and its latest alerts, oldest first."""
        alerting = self._alerting(tenant)
        records: list[AuditRecord] = []
        for event in ALERT_EVENTS:
            records += await self.backend.db(
                self.directory.list_audit, tenant=tenant, event=event, limit=MAX_ALERTS_SHOWN
            )
        records.sort(key=lambda r: r.id)
        return alerting, [
            {
                "ts": r.ts,
                "kind": "raised" if r.event == ALERT_EVENTS[0] else "cleared",
                "rate_bps": r.detail.get("rate_bps"),
                "threshold_bps": r.detail.get("threshold_bps"),
            }
            for r in records[-MAX_ALERTS_SHOWN:]
        ]

    async def usage(
        self,
        tenant: str,
        since: dt.date | None,
        until: dt.date | None,
        answer: Callable[[list[dict[str, Any]]], T],
    ) -> T:
        """``answer`` (the body to send) of the daily usage from ``since`` to ``until``
        (defaults: see :func:`report_days`), read and made in a report's thread;
        :class:`ReportTooLarge` if the days hold more than MAX_USAGE_SESSIONS sessions."""
        clock = self.backend.clock
        today = dt.datetime.fromtimestamp(clock()).date()
        first, last = report_days(since, until, today)
        lo = dt.datetime.combine(first, dt.time()).astimezone().timestamp() - SESSION_LOOKBACK_S
        hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time()).astimezone().timestamp()

        def build() -> T:
            spans = SessionSpans()
            for page in self.directory.audit_pages(
                tenant=tenant,
                events=SESSION_EVENTS,
                since=lo,
                until=hi + SESSION_LOOKBACK_S,
                limit=None,  # bounded by the sessions counted as they come
            ):
                for record in page:
                    spans.add(record)
                if max(spans.start_records, spans.end_records) > MAX_USAGE_SESSIONS:
                    raise ReportTooLarge(
                        f"these days hold more than {MAX_USAGE_SESSIONS} sessions: ask for fewer",
                        MAX_USAGE_SESSIONS,
                    )
            days = usage_of(spans.intervals(clock()), first, last)
            return answer([d.to_dict() for d in days])

        return await self.backend.reports.run(tenant, build)
