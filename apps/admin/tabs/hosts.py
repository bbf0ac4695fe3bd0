"""The office PCs tab: enrolled PCs, enrolment tokens, renaming and retiring."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit, QPushButton

from apps.admin.tabs.base import Tab, Table, when
from apps.admin.texts import tr

if TYPE_CHECKING:
    from apps.admin.window import MainWindow


class HostsTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.table = Table(
            [
                tr("col_host_id"),
                tr("col_name"),
                tr("col_online"),
                tr("col_version"),
                tr("col_last_seen"),
                tr("col_last_session"),
            ]
        )
        self.layout_.addWidget(self.table)
        self.token = QLineEdit()
        self.token.setReadOnly(True)
        copy = QPushButton(tr("copy"))
        copy.clicked.connect(self.copy_token)
        self.row(self.button("new_token", self.new_token), self.token, copy)
        self.name = QLineEdit()
        self.row(
            self.name,
            self.button("rename", lambda: self.rename(self.table.selected_key(), self.name.text())),
            self.button("retire", lambda: self.retire(self.table.selected_key())),
        )
        self.forget()

    def forget(self) -> None:
        self.hosts: list[dict[str, Any]] = []
        self.table.fill([], [])
        self.token.clear()

    async def refresh(self) -> None:
        self.hosts = (await self.call("GET", "hosts"))["hosts"]
        self.table.fill(
            [
                [
                    h["display_id"],
                    h["name"],
                    tr("yes") if h["online"] else tr("no"),
                    h["agent_version"],
                    when(h["last_seen_at"]),
                    when(h["last_session_at"]),
                ]
                for h in self.hosts
            ],
            [h["host_id"] for h in self.hosts],
        )

    async def new_token(self) -> str:
        answer = await self.call("POST", "enrollment-tokens", body={})
        self.token.setText(answer["token"])
        self.window_.report(tr("token_issued"))
        return str(answer["token"])

    def copy_token(self) -> None:
        QGuiApplication.clipboard().setText(self.token.text())
        self.window_.report(tr("token_copied"))

    def name_of(self, host_id: str) -> str:
        """The office PC as the admin knows it: its name, else its ID as displayed."""
        for host in self.hosts:
            if host["host_id"] == host_id:
                return str(host["name"] or host["display_id"])
        return host_id

    async def rename(self, host_id: str | None, name: str) -> None:
        if host_id:
            await self.call("PATCH", "hosts", host_id, body={"name": name})
            self.window_.report(tr("host_renamed", name=name))
            await self.refresh()

    async def retire(self, host_id: str | None) -> None:
        if not host_id:
            return
        name = self.name_of(host_id)
        if await self.confirmed("confirm_retire_host", name=name):
            await self.call("DELETE", "hosts", host_id)
            self.window_.report(tr("host_retired", name=name))
            await self.refresh()
