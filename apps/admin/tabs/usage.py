"""The usage tab: office PCs, staff, sessions and hours per day, each with its unit, the days'
totals, a chart of the hours used per day, and the figures as a CSV."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QLabel

from apps.admin.charts import BarChart
from apps.admin.tabs.base import Tab, Table, date_edit
from apps.admin.texts import tr

if TYPE_CHECKING:
    from apps.admin.window import MainWindow


def hours(value: float) -> str:
    """Hours used, to a tenth, with the unit."""
    return tr("n_hours", n=f"{value:,.1f}")


def count(value: int, key: str) -> str:
    """A count with its unit (台, 人, 件; PCs, staff, sessions)."""
    return tr(key, n=f"{value:,}")


def day_row(day: dict[str, Any]) -> list[str]:
    """A day's figures as the table shows them, each with its unit."""
    return [
        day["day"],
        count(day["office_pcs"], "n_pcs"),
        count(day["staff"], "n_staff"),
        count(day["sessions"], "n_sessions"),
        count(day["peak_concurrent"], "n_sessions"),
        hours(day["hours"]),
    ]


class UsageTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.since = date_edit(QDate.currentDate().addDays(-13))
        self.until = date_edit(QDate.currentDate())
        self.row(
            QLabel(tr("since")),
            self.since,
            QLabel(tr("until")),
            self.until,
            self.button("refresh", self.refresh),
            self.button("export_csv", lambda: self.ask_export("usage.csv")),
        )
        self.chart = BarChart(tr("chart_hours_axis"), tr("chart_day_axis"), tr("chart_no_data"))
        self.layout_.addWidget(self.chart)
        self.table = Table(
            [
                tr("col_day"),
                tr("col_pcs"),
                tr("col_staff"),
                tr("col_sessions"),
                tr("col_peak"),
                tr("col_hours"),
            ]
        )
        self.layout_.addWidget(self.table)
        self.totals = QLabel()
        self.totals.setWordWrap(True)
        self.layout_.addWidget(self.totals)

    def _range(self) -> dict[str, str]:
        return {
            "since": self.since.date().toString("yyyy-MM-dd"),
            "until": self.until.date().toString("yyyy-MM-dd"),
        }

    def forget(self) -> None:
        self.table.fill([], [])
        self.chart.set_data([])
        self.totals.clear()

    async def refresh(self) -> None:
        days = (await self.call("GET", "usage", query=self._range()))["days"]
        self.table.fill([day_row(d) for d in days], [d["day"] for d in days])
        self.chart.set_data([(d["day"], float(d["hours"])) for d in days])
        self.totals.setText(
            tr(
                "usage_totals",
                sessions=count(sum(d["sessions"] for d in days), "n_sessions"),
                hours=hours(sum(d["hours"] for d in days)),
                peak=count(max((d["peak_concurrent"] for d in days), default=0), "n_sessions"),
            )
        )

    async def export(self, path: Path) -> Path:
        return await self.export_csv("usage", self._range(), path)
