"""The grants tab: which staff member may use which office PC, both picked from the tenant's
lists (staff by login, office PCs by name), and office PCs shown by name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apps.admin.tabs.base import Picker, Tab, labelled, pc_label
from apps.admin.texts import tr
from apps.common.fields import HOST_ID_SAMPLE
from core.crypto.certs import format_host_id

if TYPE_CHECKING:
    from apps.admin.window import MainWindow


class GrantsTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.table = self.searchable_table(
            [tr("col_login"), tr("col_office_pc"), tr("col_host_id")]
        )
        self.login = Picker(tr("login_hint"))
        self.host = Picker(tr("pc_pick_hint"), widest=f"税務課 窓口1 ({HOST_ID_SAMPLE})")
        self.row(
            labelled(tr("pick_staff"), self.login),
            self.login,
            labelled(tr("pick_pc"), self.host),
            self.host,
            self.button(
                "grant", lambda: self.grant(self.login.key(), self.host.key()), needs="add_grant"
            ),
            self.button("revoke", self._revoke_selected, needs="delete_grant"),
        )
        self.forget()

    def forget(self) -> None:
        self.table.fill([], [])
        self.pcs: dict[str, dict[str, Any]] = {}  # host ID -> the office PC as listed
        self.login.set_choices([])
        self.host.set_choices([])

    def pc_name(self, host_id: str) -> str:
        """An office PC by its name (and ID); its ID alone if it is not in the list."""
        pc = self.pcs.get(host_id)
        return pc_label(pc) if pc is not None else format_host_id(host_id)

    async def refresh(self) -> None:
        grants = (await self.call("GET", "grants"))["grants"]
        logins = await self.staff_logins()
        pcs = await self.office_pcs()
        self.pcs = {pc["host_id"]: pc for pc in pcs}
        self.login.set_choices([(login, login) for login in logins])
        self.host.set_choices([(pc_label(pc), pc["host_id"]) for pc in pcs])
        self.table.fill(
            [
                [
                    g["login"],
                    (self.pcs.get(g["host_id"]) or {}).get("name") or "-",
                    format_host_id(g["host_id"]),
                ]
                for g in grants
            ],
            [(g["login"], g["host_id"]) for g in grants],
        )

    async def grant(self, login: str, host_id: str) -> None:
        await self.call("POST", "grants", body={"login": login, "host_id": host_id})
        self.window_.report(tr("grant_added", login=login, host=self.pc_name(host_id)))
        await self.refresh()

    async def revoke(self, login: str, host_id: str) -> None:
        host = self.pc_name(host_id)
        if await self.confirmed("confirm_revoke_grant", login=login, host=host):
            await self.call("DELETE", "grants", login, host_id)
            self.window_.report(tr("grant_revoked", login=login, host=host))
            await self.refresh()

    async def _revoke_selected(self) -> None:
        key = self.table.selected_key()
        if key:
            await self.revoke(*key)
