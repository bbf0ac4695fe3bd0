"""The home PCs tab: the MAC addresses registered for a staff member or an office PC, whose
owner is picked from the tenant's lists (staff by login, office PCs by name)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QComboBox, QLineEdit

from apps.admin.tabs.base import Picker, Tab, pc_label
from apps.admin.texts import tr
from apps.common.fields import HOST_ID_SAMPLE, MAC_SAMPLE, show_whole
from core.crypto.certs import format_host_id

if TYPE_CHECKING:
    from apps.admin.window import MainWindow


class HomePcsTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.table = self.searchable_table([tr("col_mac"), tr("col_owner"), tr("col_label")])
        self.mac = show_whole(QLineEdit(), MAC_SAMPLE)
        self.mac.setPlaceholderText(tr("mac_hint"))
        self.kind = QComboBox()
        self.kind.addItem(tr("for_staff"), "login")
        self.kind.addItem(tr("for_host"), "host_id")
        self.owner = Picker(tr("owner_hint"), widest=f"税務課 窓口1 ({HOST_ID_SAMPLE})")
        self.kind.currentIndexChanged.connect(self._offer_owners)
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
                    self.mac.text(), self.kind.currentData(), self.owner.key(), self.label.text()
                ),
                needs="add_mac",
            ),
            self.button(
                "delete", lambda: self.remove(self.table.selected_key()), needs="delete_mac"
            ),
        )
        self.forget()

    def forget(self) -> None:
        self.table.fill([], [])
        # Each registration shown, by ID: its MAC and whose it is, named when deleting it.
        self.described: dict[int, tuple[str, str]] = {}
        self.logins: list[str] = []
        self.pcs: dict[str, dict[str, Any]] = {}
        self._offer_owners()

    def _offer_owners(self) -> None:
        """The owners to pick from: the staff, or the office PCs, as the kind chosen says."""
        if self.kind.currentData() == "host_id":
            self.owner.set_choices([(pc_label(pc), host_id) for host_id, pc in self.pcs.items()])
        else:
            self.owner.set_choices([(login, login) for login in self.logins])

    def owner_name(self, registration: dict[str, Any]) -> str:
        """Whose a registration is: the staff member's login, or the office PC by name."""
        if registration["login"]:
            return str(registration["login"])
        pc = self.pcs.get(registration["host_id"])
        return pc_label(pc) if pc is not None else format_host_id(registration["host_id"])

    async def refresh(self) -> None:
        macs = (await self.call("GET", "home-pcs"))["home_pcs"]
        self.logins = await self.staff_logins()
        self.pcs = {pc["host_id"]: pc for pc in await self.office_pcs()}
        self._offer_owners()
        self.described = {m["id"]: (m["mac"], self.owner_name(m)) for m in macs}
        self.table.fill(
            [[m["mac"], self.owner_name(m), m["label"]] for m in macs],
            [m["id"] for m in macs],
        )

    async def register(self, mac: str, kind: str, owner: str, label: str = "") -> dict[str, Any]:
        answer: dict[str, Any] = await self.call(
            "POST", "home-pcs", body={"mac": mac, kind: owner, "label": label}
        )
        shown = self.owner_name({"login": owner if kind == "login" else "", "host_id": owner})
        self.window_.report(tr("home_pc_added", mac=answer.get("mac", mac), owner=shown))
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
