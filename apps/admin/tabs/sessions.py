"""The sessions tab: the live sessions with their bandwidth, and ending one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apps.admin.tabs.base import Tab, Table, when
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
                tr("col_host_id"),
                tr("col_since"),
                tr("col_current"),
                tr("col_average"),
            ]
        )
        self.layout_.addWidget(self.table)
        self.row(self.button("end_session", lambda: self.end(self.table.selected_key())))
        self.forget()

    def forget(self) -> None:
        self.sessions: list[dict[str, Any]] = []
        self.table.fill([], [])

    async def refresh(self) -> None:
        self.sessions = (await self.call("GET", "sessions"))["sessions"]
        self.table.fill(
            [
                [
                    s["user"],
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
                return str(session["user"]), str(session["host_id"])
        return "-", "-"
