"""The audit tab: the tenant's audit log as an admin reads it, and its CSV export.

The days chosen are fetched from the relay (Search); the table shows them newest first, in
local time, each event in words and its details as a sentence (:mod:`apps.admin.audit_text`),
office PCs by name. Narrowing by event, staff member, office PC or any text is instant, on
what was fetched. A session tag read off a watermark (``#1a2b3c4d``) finds its session: the
table then shows that session's records, and a line says who used which PC when.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit

from apps.admin.audit_text import (
    detail_text,
    event_name,
    local_time,
    parse_tag,
    record_tag,
)
from apps.admin.failures import InputMissing
from apps.admin.tabs.base import Tab, Table, date_edit, labelled
from apps.admin.texts import tr
from core.crypto.certs import format_host_id

if TYPE_CHECKING:
    from apps.admin.window import MainWindow

# Most records one search brings (the relay's default page): the newest of the days chosen.
AUDIT_ROWS = 5000


class AuditTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.since = date_edit(QDate.currentDate().addDays(-7))
        self.until = date_edit(QDate.currentDate())
        self.row(
            labelled(tr("since_day"), self.since),
            self.since,
            labelled(tr("until_day"), self.until),
            self.until,
            self.button("filter", self.refresh),
            self.button("export_csv", lambda: self.ask_export("audit.csv")),
        ).addStretch(1)
        self.event_kind, self.user, self.host = QComboBox(), QComboBox(), QComboBox()
        for box in (self.event_kind, self.user, self.host):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            box.currentIndexChanged.connect(lambda _: self.show_records())
        self.text = QLineEdit()
        self.text.setPlaceholderText(tr("audit_text_hint"))
        self.text.setClearButtonEnabled(True)
        self.text.textChanged.connect(lambda _: self.show_records())
        self.row(
            labelled(tr("audit_event_kind"), self.event_kind),
            self.event_kind,
            labelled(tr("audit_staff"), self.user),
            self.user,
            labelled(tr("audit_pc"), self.host),
            self.host,
            labelled(tr("audit_text"), self.text),
            self.text,
        )
        self.tag = QLineEdit()
        self.tag.setPlaceholderText(tr("session_tag_hint"))
        self.tag.setClearButtonEnabled(True)
        self.tag.returnPressed.connect(
            lambda: self.window_.spawn(self.find_session(self.tag.text()), by_user=True)
        )
        self.tag.textChanged.connect(lambda text: None if text.strip() else self.show_all())
        self.row(
            labelled(tr("session_tag"), self.tag),
            self.tag,
            self.button("find_session", lambda: self.find_session(self.tag.text())),
            self.button("show_all", self._show_all),
        )
        self.session_line = QLabel()
        self.session_line.setWordWrap(True)
        self.session_line.hide()  # shown with a session found
        self.layout_.addWidget(self.session_line)
        self.table = Table(
            [
                tr("col_time"),
                tr("audit_event_kind"),
                tr("audit_staff"),
                tr("col_office_pc"),
                tr("col_source"),
                tr("col_what"),
            ],
            stretch_last=True,  # the details take the room left
        )
        self.layout_.addWidget(self.table)
        self.count_line = QLabel()
        self.layout_.addWidget(self.count_line)
        self.forget()

    # -- what is fetched, and what is shown of it ------------------------------------------

    def _range(self) -> dict[str, Any]:
        def start_of(date: QDate) -> float:
            return dt.datetime(date.year(), date.month(), date.day()).timestamp()

        return {
            "since": start_of(self.since.date()),
            "until": start_of(self.until.date().addDays(1)),  # the whole of the last day
        }

    def filters(self) -> dict[str, Any]:
        """The query of the export: the days, and the event, staff member and PC chosen."""
        return {
            **self._range(),
            "event": self.event_kind.currentData() or "",
            "user": self.user.currentData() or "",
            "host_id": self.host.currentData() or "",
        }

    def forget(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.pc_names: dict[str, str] = {}
        self.session: str | None = None  # the tag of the session looked up, if any
        self.session_line.clear()
        self.session_line.hide()
        self._choices(self.event_kind, "all_events", [])
        self._choices(self.user, "all_staff", [])
        self._choices(self.host, "all_pcs", [])
        self.show_records()

    async def refresh(self) -> None:
        query = {**self._range(), "limit": AUDIT_ROWS}
        records = (await self.call("GET", "audit", query=query))["records"]
        hosts = (await self.call("GET", "hosts", query={"include_retired": "true"}))["hosts"]
        self.pc_names = {h["host_id"]: h["name"] for h in hosts}
        self.records = sorted(records, key=lambda r: (r["ts"], r["id"]), reverse=True)
        events = sorted({r["event"] for r in self.records}, key=event_name)
        self._choices(self.event_kind, "all_events", [(event_name(e), e) for e in events])
        users = sorted({r["user"] for r in self.records if r["user"]})
        self._choices(self.user, "all_staff", [(u, u) for u in users])
        pcs = {r["host_id"] for r in self.records if r["host_id"]}
        self._choices(self.host, "all_pcs", sorted((self.pc_name(h), h) for h in pcs))
        if self.session is not None and not self._of_session(self.session):
            self.show_all()
        self.show_records()

    @staticmethod
    def _choices(box: QComboBox, all_key: str, items: list[tuple[str, str]]) -> None:
        """Fill a filter's list, keeping the choice made if it is still there."""
        chosen = box.currentData()
        box.blockSignals(True)
        box.clear()
        box.addItem(tr(all_key), "")
        for text, value in items:
            box.addItem(text, value)
        index = box.findData(chosen) if chosen else 0
        box.setCurrentIndex(max(index, 0))
        box.blockSignals(False)

    def pc_name(self, host_id: str) -> str:
        """An office PC as the admin knows it: its name and its ID, or its ID alone."""
        shown = format_host_id(host_id)
        name = self.pc_names.get(host_id)
        return f"{name} ({shown})" if name else shown

    def row_of(self, record: dict[str, Any]) -> list[str]:
        return [
            local_time(record["ts"]),
            event_name(record["event"]),
            record["user"] or "",
            self.pc_name(record["host_id"]) if record["host_id"] else "",
            record["source"] or "",
            detail_text(record["event"], record["detail"] or {}),
        ]

    def _shown(self) -> list[dict[str, Any]]:
        if self.session is not None:
            return self._of_session(self.session)
        event, user, host = (b.currentData() for b in (self.event_kind, self.user, self.host))
        words = self.text.text().strip().casefold()
        shown = []
        for record in self.records:
            if (event and record["event"] != event) or (user and record["user"] != user):
                continue
            if host and record["host_id"] != host:
                continue
            if words and words not in " ".join(self.row_of(record)).casefold():
                continue
            shown.append(record)
        return shown

    def show_records(self) -> None:
        shown = self._shown()
        self.table.fill([self.row_of(r) for r in shown], [r["id"] for r in shown])
        self.count_line.setText(tr("audit_shown", shown=len(shown), total=len(self.records)))

    # -- a session by its watermark's tag ----------------------------------------------------

    def _of_session(self, tag: str) -> list[dict[str, Any]]:
        return [r for r in self.records if record_tag(r) == tag]

    async def find_session(self, text: str) -> None:
        """Show the records of the session whose watermark tag is ``text``, and say who used
        which office PC, from when to when."""
        tag = parse_tag(text)
        if tag is None:
            raise InputMissing(tr("not_a_session_tag"))
        records = self._of_session(tag)
        if not records:
            raise InputMissing(tr("session_not_found", tag=tag))
        self.session = tag
        self.session_line.show()
        started = [r for r in records if r["event"] == "session_start"]
        ended = [r for r in records if r["event"] == "session_end"]
        first = started[-1] if started else records[-1]
        self.session_line.setText(
            tr(
                "session_found",
                tag=tag,
                user=first["user"] or "-",
                pc=self.pc_name(first["host_id"]) if first["host_id"] else "-",
                start=local_time(first["ts"]),
                end=local_time(ended[0]["ts"]) if ended else tr("session_still_open"),
            )
        )
        self.show_records()

    def show_all(self) -> None:
        """Back from one session to the records as filtered."""
        self.session = None
        self.session_line.clear()
        self.session_line.hide()
        self.show_records()

    async def _show_all(self) -> None:
        self.tag.clear()
        self.show_all()

    async def export(self, path: Path) -> Path:
        return await self.export_csv("audit", self.filters(), path)
