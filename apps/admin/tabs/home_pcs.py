"""The home PCs tab: the MAC addresses registered for a staff member or an office PC."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QComboBox, QLineEdit

from apps.admin.tabs.base import Tab, Table
from apps.admin.texts import tr
from apps.common.fields import HOST_ID_SAMPLE, MAC_SAMPLE, show_whole

if TYPE_CHECKING:
    from apps.admin.window import MainWindow


class HomePcsTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.table = Table([tr("col_mac"), tr("col_owner"), tr("col_label")])
        self.layout_.addWidget(self.table)
        self.mac = show_whole(QLineEdit(), MAC_SAMPLE)
        self.mac.setPlaceholderText(tr("mac_hint"))
        self.kind = QComboBox()
        self.kind.addItem(tr("for_staff"), "login")
        self.kind.addItem(tr("for_host"), "host_id")
        self.owner = show_whole(QLineEdit(), HOST_ID_SAMPLE)
        self.owner.setPlaceholderText(tr("owner_hint"))
        self.label = QLineEdit()
        self.label.setPlaceholderText(tr("label_hint"))
        self.row(
            self.mac,
            self.kind,
            self.owner,
            self.label,
            self.button(
                "add",
                lambda: self.register(
                    self.mac.text(), self.kind.currentData(), self.owner.text(), self.label.text()
                ),
            ),
            self.button("delete", lambda: self.remove(self.table.selected_key())),
        )
        self.forget()

    def forget(self) -> None:
        self.table.fill([], [])
        # Each registration shown, by ID: its MAC and whose it is, named when deleting it.
        self.described: dict[int, tuple[str, str]] = {}

    async def refresh(self) -> None:
        macs = (await self.call("GET", "home-pcs"))["home_pcs"]
        self.described = {m["id"]: (m["mac"], m["login"] or m["host_id"]) for m in macs}
        self.table.fill(
            [[m["mac"], m["login"] or m["host_id"], m["label"]] for m in macs],
            [m["id"] for m in macs],
        )

    async def register(self, mac: str, kind: str, owner: str, label: str = "") -> dict[str, Any]:
        answer: dict[str, Any] = await self.call(
            "POST", "home-pcs", body={"mac": mac, kind: owner, "label": label}
        )
        self.window_.report(tr("home_pc_added", mac=answer.get("mac", mac), owner=owner))
        await self.refresh()
        return answer

    async def remove(self, registration_id: int | None) -> None:
        if registration_id is None:
            return
        mac, owner = self.described[registration_id]
        if await self.confirmed("confirm_delete_home_pc", mac=mac, owner=owner):
            await self.call("DELETE", "home-pcs", registration_id)
            self.window_.report(tr("home_pc_deleted", mac=mac, owner=owner))
            await self.refresh()
