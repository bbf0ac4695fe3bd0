"""The sessions tab: the live sessions with their bandwidth, office PCs by name, and ending one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apps.admin.tabs.base import Tab, Table, pc_label, when
from apps.admin.texts import tr
from core.crypto.certs import format_host_id

if TYPE_CHECKING:
    from apps.admin.window import MainWindow


class SessionsTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.table = Table(
            [
                tr("col_login"),
                tr("col_office_pc"),
                tr("col_host_id"),
                tr("col_since"),
                tr("col_current"),
                tr("col_average"),
            ]
        )
        self.layout_.addWidget(self.table)
        self.row(
            self.button(
                "end_session", lambda: self.end(self.table.selected_key()), needs="end_session"
            )
        )
        self.forget()

    def forget(self) -> None:
        self.sessions: list[dict[str, Any]] = []
        self.pcs: dict[str, dict[str, Any]] = {}  # host ID -> the office PC as listed
        self.table.fill([], [])

    async def refresh(self) -> None:
        self.sessions = (await self.call("GET", "sessions"))["sessions"]
        if any(s["host_id"] not in self.pcs for s in self.sessions):
            # Names change rarely: the office PCs are asked for when a new one shows up only,
            # not at each live refresh.
            self.pcs = {pc["host_id"]: pc for pc in await self.office_pcs()}
        self.table.fill(
            [
                [
                    s["user"],
                    (self.pcs.get(s["host_id"]) or {}).get("name") or "-",
                    format_host_id(s["host_id"]),
                    when(s["started_at"]),
                    s["current_kbps"],
                    s["average_kbps"],
                ]
                for s in self.sessions
            ],
            [s["session_id"] for s in self.sessions],
        )

    async def end(self, session_id: str | None) -> None:
        if not session_id:
            return
        user, host = self.described(session_id)
        if await self.confirmed("confirm_end_session", user=user, host=host):
            await self.call("DELETE", "sessions", session_id)
            self.window_.report(tr("session_ended", user=user, host=host))
            await self.refresh()

    def described(self, session_id: str) -> tuple[str, str]:
        """Who uses which office PC in the session shown, for the admin to recognise it."""
        for session in self.sessions:
            if session["session_id"] == session_id:
                pc = self.pcs.get(session["host_id"])
                name = pc_label(pc) if pc is not None else format_host_id(session["host_id"])
                return str(session["user"]), name
        return "-", "-"
