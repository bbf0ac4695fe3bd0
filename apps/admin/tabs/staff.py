"""The staff tab: staff accounts, and the TOTP secret or one-time codes issued to one of them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QListWidget, QSpinBox

from apps.admin.failures import InputMissing
from apps.admin.qr import StaffSheet, draw_staff_sheet, print_pages, qr_image, sheet_printer
from apps.admin.tabs.base import Tab, labelled, pc_label, when
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
        # The staff member's sheet, on paper through the print dialog (a PDF file is one of
        # its printers) or straight to a PDF file; through spawn like every action, so that a
        # failure is reported. Where the print dialog comes from: tests replace it.
        self.choose_printer: Callable[[QPrinter], Awaitable[bool]] = self.ask_printer
        self.print_button = self.button("print_sheet", self.print_on_paper)
        self.pdf_button = self.button("save_sheet_pdf", self._ask_pdf)
        self.row(self.qr_label, self.codes)
        self.layout_.addWidget(self.uri_label)
        self.row(self.print_button, self.pdf_button)
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
        self.issued_at = 0.0
        for button in (self.print_button, self.pdf_button):
            button.setEnabled(False)  # nothing to print

    def _issued(self, login: str) -> None:
        """Start showing what was just issued to ``login``, in place of anyone's earlier."""
        self._clear_issued()
        self.issued_login, self.issued_for = login, self.window_.tenant
        self.issued_at = time.time()
        self.issued_to.setText(tr("issued_to", login=login))
        for button in (self.print_button, self.pdf_button):
            button.setEnabled(True)

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

    async def staff_sheet(self) -> StaffSheet | None:
        """The sheet of what was issued last (the QR code, or the codes) with what the staff
        member needs to connect: the office PCs granted to them, the relay server's address
        (as the office PCs tab has it) and fingerprint; None if nothing is shown."""
        if self.last_codes is None and self.last_totp is None:
            return None
        login = self.issued_login
        grants = (await self.call("GET", "grants"))["grants"]
        pcs = {pc["host_id"]: pc for pc in await self.office_pcs()}
        theirs = tuple(
            pc_label(pcs.get(g["host_id"], {"host_id": g["host_id"]}))
            for g in grants
            if str(g["login"]).casefold() == login.casefold()
        )
        common: dict[str, Any] = {
            "tenant": self.issued_for,
            "login": login,
            "issued_at": self.issued_at,
            "pcs": theirs,
            "relay": self.window_.hosts.relay_address.text().strip(),
            "fingerprint": self.api.fingerprint,
        }
        if self.last_codes is not None:
            return StaffSheet(codes=tuple(self.last_codes["codes"]), **common)
        assert self.last_totp is not None
        totp = self.last_totp
        return StaffSheet(uri=totp["otpauth_uri"], secret=totp["totp_secret"], **common)

    async def print_sheet(self, path: Path) -> Path | None:
        """The sheet as a one-page A4 PDF at ``path``; None if nothing is shown to print."""
        sheet = await self.staff_sheet()
        if sheet is None:
            return None
        print_pages(
            sheet_printer(path), lambda painter, page: draw_staff_sheet(painter, page, sheet)
        )
        return path

    async def print_on_paper(self) -> bool:
        """「印刷…」: the print dialog (its printers include a PDF file), then the sheet on the
        printer chosen; False if the admin cancelled."""
        sheet = await self.staff_sheet()
        if sheet is None:
            raise InputMissing(tr("nothing_to_print"))
        printer = sheet_printer()
        if not await self.choose_printer(printer):
            return False
        print_pages(printer, lambda painter, page: draw_staff_sheet(painter, page, sheet))
        to_file = printer.outputFormat() == QPrinter.OutputFormat.PdfFormat
        saved = tr("saved_to", path=printer.outputFileName())
        self.window_.report(saved if to_file else tr("sheet_printed"))
        return True

    async def ask_printer(self, printer: QPrinter) -> bool:
        """The print dialog for ``printer``, opened and awaited (not ``exec``: see
        :meth:`MainWindow.ask`); True if the admin pressed Print."""
        dialog = QPrintDialog(printer, self)
        closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def finished(result: int) -> None:
            if not closed.done():
                closed.set_result(result)

        dialog.finished.connect(finished)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.show()
        try:
            return await closed == QDialog.DialogCode.Accepted
        finally:
            dialog.deleteLater()

    async def _ask_pdf(self) -> None:
        suggested = f"{self.issued_login}.pdf" if self.issued_login else ""
        path = self.ask_save_path("save_sheet_pdf", suggested, "PDF (*.pdf)")
        if path is not None and await self.print_sheet(path) is not None:
            self.window_.report(tr("saved_to", path=path))
