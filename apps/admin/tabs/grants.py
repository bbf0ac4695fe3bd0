"""The grants tab: which staff member may use which office PC."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLineEdit

from apps.admin.tabs.base import Tab, Table
from apps.admin.texts import tr
from apps.common.fields import HOST_ID_SAMPLE, show_whole
from core.crypto.certs import format_host_id

if TYPE_CHECKING:
    from apps.admin.window import MainWindow


class GrantsTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.table = Table([tr("col_login"), tr("col_host_id")])
        self.layout_.addWidget(self.table)
        self.login = QLineEdit()
        self.login.setPlaceholderText(tr("login_hint"))
        self.host = show_whole(QLineEdit(), HOST_ID_SAMPLE)
        self.host.setPlaceholderText(tr("host_id_hint"))
        self.row(
            self.login,
            self.host,
            self.button("grant", lambda: self.grant(self.login.text(), self.host.text())),
            self.button("revoke", self._revoke_selected),
        )

    def forget(self) -> None:
        self.table.fill([], [])

    async def refresh(self) -> None:
        grants = (await self.call("GET", "grants"))["grants"]
        self.table.fill(
            [[g["login"], format_host_id(g["host_id"])] for g in grants],
            [(g["login"], g["host_id"]) for g in grants],
        )

    async def grant(self, login: str, host_id: str) -> None:
        await self.call("POST", "grants", body={"login": login, "host_id": host_id})
        self.window_.report(tr("grant_added", login=login, host=host_id))
        await self.refresh()

    async def revoke(self, login: str, host_id: str) -> None:
        if await self.confirmed("confirm_revoke_grant", login=login, host=host_id):
            await self.call("DELETE", "grants", login, host_id)
            self.window_.report(tr("grant_revoked", login=login, host=host_id))
            await self.refresh()

    async def _revoke_selected(self) -> None:
        key = self.table.selected_key()
        if key:
            await self.revoke(*key)
