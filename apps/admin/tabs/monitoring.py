"""The monitoring tab: the tenant's bandwidth now and lately, its alert threshold, its alerts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QListWidget, QSpinBox

from apps.admin.charts import LineChart
from apps.admin.syslog_box import SyslogBox
from apps.admin.tabs.base import Tab, labelled, when
from apps.admin.texts import tr

if TYPE_CHECKING:
    from apps.admin.window import MainWindow


class MonitoringTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.summary = QLabel()
        self.chart = LineChart(
            tr("chart_bandwidth_axis"), tr("chart_time_axis"), tr("chart_no_data")
        )
        self.alerts = QListWidget()
        self.layout_.addWidget(self.summary)
        self.layout_.addWidget(self.chart)
        self.layout_.addWidget(self.alerts)
        # The API's bounds in kbit/s (1 000 bit/s up to 10 Gbit/s); 0, shown as "-", is none.
        self.threshold = QSpinBox()
        self.threshold.setRange(0, 10_000_000)
        self.threshold.setSpecialValueText("-")
        self.threshold.setSuffix(" kbit/s")
        self.row(
            labelled(tr("alert_threshold"), self.threshold),
            self.threshold,
            self.button(
                "set_threshold",
                lambda: self.set_threshold(self.threshold.value()),
                needs="set_limits",
            ),
        )
        self.cap_bps: int | None = None  # the operator's hard cap, kept as it is
        self.alerting = False
        self.syslog = SyslogBox()
        self.syslog.save_button.clicked.connect(
            lambda: self.window_.spawn(self.save_syslog(), by_user=True)
        )
        self.syslog.stop_button.clicked.connect(
            lambda: self.window_.spawn(self.stop_syslog(), by_user=True)
        )
        self.layout_.addWidget(self.syslog)
        for button, operation in (
            (self.syslog.save_button, "put_syslog"),
            (self.syslog.stop_button, "delete_syslog"),
        ):
            self.limit_to_role(button, operation)

    def forget(self) -> None:
        self.summary.clear()
        self.chart.set_data([], None)
        self.alerts.clear()
        self.threshold.setValue(0)
        self.cap_bps = None
        self.alerting = False
        self.syslog.forget()

    async def save_syslog(self) -> None:
        """Send copies of the tenant's audit records to the collector the form names."""
        answer = await self.call("PUT", "syslog", body=self.syslog.body())
        self.syslog.show_collector(answer)
        self.window_.report(tr("syslog_saved"))

    async def stop_syslog(self) -> None:
        answer = await self.call("DELETE", "syslog")
        self.syslog.show_collector(answer)
        self.window_.report(tr("syslog_stopped"))

    async def set_threshold(self, kbps: int) -> None:
        """Alert when the tenant's bandwidth passes ``kbps`` kbit/s (0: never); operators only."""
        alert_bps = kbps * 1000 or None
        await self.call(
            "PUT", "bandwidth", "limits", body={"alert_bps": alert_bps, "cap_bps": self.cap_bps}
        )
        self.window_.report(tr("threshold_set") if alert_bps else tr("threshold_cleared"))
        await self.refresh()

    async def refresh(self) -> None:
        bandwidth = await self.call("GET", "bandwidth")
        limit = bandwidth["alert_bps"]
        self.cap_bps = bandwidth["cap_bps"]
        if not self.threshold.hasFocus():  # not under the admin's fingers as they type
            self.threshold.setValue((limit or 0) // 1000)
        self.summary.setText(
            tr(
                "bandwidth_now",
                now=bandwidth["current_bps"] // 1000,
                limit=f"{limit // 1000} kbit/s" if limit else tr("no_threshold"),
            )
            + (f" — {tr('alerting')}" if bandwidth["alerting"] else "")
        )
        history = bandwidth["history"]
        self.chart.set_data(
            [p["bps"] / 1000 for p in history],
            limit and limit / 1000,
            [p["ts"] for p in history],
        )
        self.syslog.show_collector(await self.call("GET", "syslog"))
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
