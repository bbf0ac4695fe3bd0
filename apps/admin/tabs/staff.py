"""The staff tab: staff accounts, and the TOTP secret or one-time codes issued to one of them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QSpinBox

from apps.admin.failures import InputMissing
from apps.admin.qr import print_codes_sheet, print_totp_sheet, qr_image
from apps.admin.tabs.base import Tab, labelled, when
from apps.admin.texts import tr

if TYPE_CHECKING:
    from apps.admin.window import MainWindow


class StaffTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.table = self.searchable_table([tr("col_login"), tr("col_state"), tr("col_last_use")])
        self.new_login = QLineEdit()
        self.new_login.setPlaceholderText(tr("new_login_hint"))
        self.row(
            labelled(tr("new_login"), self.new_login),
            self.new_login,
            self.button("add", lambda: self.add(self.new_login.text())),
        )
        self.code_count = QSpinBox()
        self.code_count.setRange(1, 10)
        self.code_count.setValue(5)
        self.row(
            self.button("disable", lambda: self.set_disabled(self.table.selected_key(), True)),
            self.button("enable", lambda: self.set_disabled(self.table.selected_key(), False)),
            self.button("delete", lambda: self.delete(self.table.selected_key())),
            self.button("reset", lambda: self.reset(self.table.selected_key())),
        )
        self.row(
            self.button("issue_totp", lambda: self.issue_totp(self.table.selected_key())),
            labelled(tr("code_count"), self.code_count),
            self.code_count,
            self.button(
                "issue_codes",
                lambda: self.issue_codes(self.table.selected_key(), self.code_count.value()),
            ),
        )
        # Whose secret or codes are shown: only ever one person's, and named.
        self.issued_to = QLabel()
        self.layout_.addWidget(self.issued_to)
        self.qr_label = QLabel()
        self.uri_label = QLabel()
        self.uri_label.setWordWrap(True)
        self.codes = QListWidget()
        # Through spawn like every action, so that a failure to write the PDF is reported.
        self.print_button = self.button("print_sheet", self._ask_print)
        self.row(self.qr_label, self.codes)
        self.layout_.addWidget(self.uri_label)
        self.layout_.addWidget(self.print_button)
        self.forget()

    def forget(self) -> None:
        self.table.fill([], [])
        self._clear_issued()

    def _clear_issued(self) -> None:
        """Take the shown secret or codes (and the sheet that prints them) off the screen."""
        self.qr: QImage | None = None
        self.qr_label.clear()
        self.uri_label.clear()
        self.codes.clear()
        self.issued_to.clear()
        # At most one of the two is set: what the printable sheet shows.
        self.last_totp: dict[str, Any] | None = None
        self.last_codes: dict[str, Any] | None = None
        self.issued_login = ""
        self.issued_for = ""  # the tenant of what was issued, named on the sheet

    def _issued(self, login: str) -> None:
        """Start showing what was just issued to ``login``, in place of anyone's earlier."""
        self._clear_issued()
        self.issued_login, self.issued_for = login, self.window_.tenant
        self.issued_to.setText(tr("issued_to", login=login))

    @staticmethod
    def _chosen(login: str | None) -> str:
        """The selected staff member's login; :class:`InputMissing` if no row is selected."""
        if not login:
            raise InputMissing(tr("select_staff_first"))
        return login

    async def refresh(self) -> None:
        staff = (await self.call("GET", "staff"))["staff"]
        self.table.fill(
            [
                [
                    u["login"],
                    tr("disabled") if u["disabled"] else tr("enabled"),
                    when(u["last_login_at"]),
                ]
                for u in staff
            ],
            [u["login"] for u in staff],
        )

    async def add(self, login: str) -> None:
        answer = await self.call("POST", "staff", body={"login": login})
        self.new_login.clear()
        self._show_totp(answer)
        self.window_.report(tr("staff_added", login=answer["login"]))
        await self.refresh()

    async def set_disabled(self, login: str | None, disabled: bool) -> None:
        login = self._chosen(login)
        await self.call("PATCH", "staff", login, body={"disabled": disabled})
        self.window_.report(tr("staff_disabled" if disabled else "staff_enabled", login=login))
        await self.refresh()

    async def delete(self, login: str | None) -> None:
        login = self._chosen(login)
        if await self.confirmed("confirm_delete_staff", login=login):
            await self.call("DELETE", "staff", login)
            if login == self.issued_login:  # a deleted account's secret is of no use to anyone
                self._clear_issued()
            self.window_.report(tr("staff_deleted", login=login))
            await self.refresh()

    async def reset(self, login: str | None) -> None:
        login = self._chosen(login)
        if await self.confirmed("confirm_reset_staff", login=login):
            await self.call("POST", "staff", login, "reset")
            self.window_.report(tr("staff_reset", login=login))

    async def issue_totp(self, login: str | None) -> dict[str, Any] | None:
        # A new secret replaces the one in the staff member's authenticator app at once.
        login = self._chosen(login)
        if not await self.confirmed("confirm_reissue_totp", login=login):
            return None
        answer: dict[str, Any] = await self.call("POST", "staff", login, "totp")
        self._show_totp(answer)
        self.window_.report(tr("totp_issued", login=login))
        return answer

    def _show_totp(self, answer: dict[str, Any]) -> None:
        self._issued(answer["login"])
        self.last_totp = answer
        self.qr = qr_image(answer["otpauth_uri"])
        self.qr_label.setPixmap(QPixmap.fromImage(self.qr))
        self.uri_label.setText(f"{answer['login']}: {answer['totp_secret']}")

    async def issue_codes(self, login: str | None, count: int) -> list[str]:
        login = self._chosen(login)
        answer = await self.call("POST", "staff", login, "codes", body={"count": count})
        self._issued(login)
        self.last_codes = answer
        self.codes.addItems(answer["codes"])
        self.window_.report(tr("codes_issued", login=login, count=len(answer["codes"])))
        return list(answer["codes"])

    def print_sheet(self, path: Path) -> Path | None:
        """The printable sheet of what was issued last: the QR code, or the codes."""
        tenant = self.issued_for
        if self.last_codes is not None:
            account = f"{self.last_codes['login']}@{tenant}"
            return print_codes_sheet(path, account, self.last_codes["codes"])
        if self.last_totp is not None:
            account = f"{self.last_totp['login']}@{tenant}"
            return print_totp_sheet(
                path, account, self.last_totp["otpauth_uri"], self.last_totp["totp_secret"]
            )
        return None

    async def _ask_print(self) -> None:
        path = self.ask_save_path("print_sheet", "", "PDF (*.pdf)")
        if path is not None and self.print_sheet(path) is not None:
            self.window_.report(tr("saved_to", path=path))
