"""The monitoring tab: the tenant's bandwidth now and lately, and its alerts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QListWidget

from apps.admin.charts import LineChart
from apps.admin.tabs.base import Tab, when
from apps.admin.texts import tr

if TYPE_CHECKING:
    from apps.admin.window import MainWindow


class MonitoringTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.summary = QLabel()
        self.chart = LineChart()
        self.alerts = QListWidget()
        self.layout_.addWidget(self.summary)
        self.layout_.addWidget(self.chart)
        self.layout_.addWidget(self.alerts)
        self.alerting = False

    def forget(self) -> None:
        self.summary.clear()
        self.chart.set_data([], None)
        self.alerts.clear()
        self.alerting = False

    async def refresh(self) -> None:
        bandwidth = await self.call("GET", "bandwidth")
        limit = bandwidth["alert_bps"]
        self.summary.setText(
            tr(
                "bandwidth_now",
                now=bandwidth["current_bps"] // 1000,
                limit=f"{limit // 1000} kbit/s" if limit else tr("no_threshold"),
            )
            + (f" — {tr('alerting')}" if bandwidth["alerting"] else "")
        )
        self.chart.set_data([p["bps"] / 1000 for p in bandwidth["history"]], limit and limit / 1000)
        answer = await self.call("GET", "alerts")
        self.alerting = answer["alerting"]
        self.alerts.clear()
        for alert in reversed(answer["alerts"]):
            key = "alert_raised" if alert["kind"] == "raised" else "alert_cleared"
            self.alerts.addItem(
                tr(
                    key,
                    time=when(alert["ts"]),
                    rate=(alert["rate_bps"] or 0) // 1000,
                    limit=(alert["threshold_bps"] or 0) // 1000,
                )
            )
