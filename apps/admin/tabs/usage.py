"""The usage tab: office PCs, staff, sessions and hours per day, as a chart and a CSV."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QLabel

from apps.admin.charts import BarChart
from apps.admin.tabs.base import Tab, Table, date_edit
from apps.admin.texts import tr

if TYPE_CHECKING:
    from apps.admin.window import MainWindow


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
        self.chart = BarChart()
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

    def _range(self) -> dict[str, str]:
        return {
            "since": self.since.date().toString("yyyy-MM-dd"),
            "until": self.until.date().toString("yyyy-MM-dd"),
        }

    def forget(self) -> None:
        self.table.fill([], [])
        self.chart.set_data([])

    async def refresh(self) -> None:
        days = (await self.call("GET", "usage", query=self._range()))["days"]
        self.table.fill([list(d.values()) for d in days], [d["day"] for d in days])
        self.chart.set_data([(d["day"], float(d["office_pcs"])) for d in days])

    async def export(self, path: Path) -> Path:
        return await self.export_csv("usage", self._range(), path)
