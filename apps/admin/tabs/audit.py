"""The audit tab: the tenant's audit log, filtered, and its CSV export."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QLineEdit

from apps.admin.tabs.base import Tab, Table, date_edit, when
from apps.admin.texts import tr

if TYPE_CHECKING:
    from apps.admin.window import MainWindow


class AuditTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.user, self.host, self.event_code = QLineEdit(), QLineEdit(), QLineEdit()
        self.user.setPlaceholderText(tr("col_login"))
        self.host.setPlaceholderText(tr("col_host_id"))
        self.event_code.setPlaceholderText(tr("col_event"))
        self.since = date_edit(QDate.currentDate().addDays(-7))
        self.row(
            self.since,
            self.user,
            self.host,
            self.event_code,
            self.button("filter", self.refresh),
            self.button("export_csv", lambda: self.ask_export("audit.csv")),
        )
        self.table = Table(
            [tr("col_time"), tr("col_event"), tr("col_login"), tr("col_host_id"), tr("col_detail")]
        )
        self.layout_.addWidget(self.table)

    def filters(self) -> dict[str, Any]:
        since = self.since.date()
        start = dt.datetime(since.year(), since.month(), since.day()).timestamp()
        return {
            "since": start,
            "user": self.user.text(),
            "host_id": self.host.text(),
            "event": self.event_code.text(),
        }

    def forget(self) -> None:
        self.table.fill([], [])

    async def refresh(self) -> None:
        records = (await self.call("GET", "audit", query=self.filters()))["records"]
        self.table.fill(
            [
                [
                    when(r["ts"]),
                    r["event"],
                    r["user"],
                    r["host_id"],
                    json.dumps(r["detail"], ensure_ascii=False),
                ]
                for r in records
            ],
            [r["id"] for r in records],
        )

    async def export(self, path: Path) -> Path:
        return await self.export_csv("audit", self.filters(), path)
