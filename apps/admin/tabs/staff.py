"""The staff tab: staff accounts with their full names and departments, and the TOTP secret or
one-time codes issued to one of them, or the TOTP secrets issued to several at once; their
sheets are printed in one job, a page each. Staff are also added from a CSV file
(:mod:`apps.admin.import_dialog`)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QImage, QPixmap
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QSpinBox, QTableWidget

from apps.admin.api import ApiFailure
from apps.admin.failures import InputMissing, SomeFailed, describe_failure
from apps.admin.import_dialog import ImportDialog
from apps.admin.qr import StaffSheet, print_sheets, qr_image, sheet_printer
from apps.admin.tabs.base import Tab, labelled, pc_label, when
from apps.admin.texts import tr

if TYPE_CHECKING:
    from apps.admin.window import MainWindow


class StaffTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.table = self.searchable_table(
            [
                tr("col_login"),
                tr("col_full_name"),
                tr("col_department"),
                tr("col_state"),
                tr("col_last_use"),
            ]
        )
        # Several rows may be chosen (Ctrl, Shift): "issue and print" acts on all of them.
        self.table.setSelectionMode(QTableWidget.SelectionMode.ExtendedSelection)
        self.new_login = QLineEdit()
        self.new_login.setPlaceholderText(tr("new_login_hint"))
        self.new_full_name = QLineEdit()
        self.new_full_name.setPlaceholderText(tr("new_full_name_hint"))
        self.new_department = QLineEdit()
        self.new_department.setPlaceholderText(tr("new_department_hint"))
        self.row(
            labelled(tr("new_login"), self.new_login),
            self.new_login,
            labelled(tr("new_full_name"), self.new_full_name),
            self.new_full_name,
            labelled(tr("new_department"), self.new_department),
            self.new_department,
        )
        self.row(
            self.button(
                "add",
                lambda: self.add(
                    self.new_login.text(), self.new_full_name.text(), self.new_department.text()
                ),
                needs="add_staff",
            ),
            self.button(
                "change_names",
                lambda: self.change_names(
                    self.table.selected_key(),
                    self.new_full_name.text(),
                    self.new_department.text(),
                ),
                needs="patch_staff",
            ),
            self.button("import_csv", self.open_import, needs="add_staff"),
        )
        self.code_count = QSpinBox()
        self.code_count.setRange(1, 10)
        self.code_count.setValue(5)
        self.row(
            self.button(
                "disable",
                lambda: self.set_disabled(self.table.selected_key(), True),
                needs="patch_staff",
            ),
            self.button(
                "enable",
                lambda: self.set_disabled(self.table.selected_key(), False),
                needs="patch_staff",
            ),
            self.button(
                "delete", lambda: self.delete(self.table.selected_key()), needs="delete_staff"
            ),
            self.button(
                "reset", lambda: self.reset(self.table.selected_key()), needs="reset_staff"
            ),
        )
        self.row(
            self.button(
                "issue_totp",
                lambda: self.issue_totp(self.table.selected_key()),
                needs="issue_totp",
            ),
            labelled(tr("code_count"), self.code_count),
            self.code_count,
            self.button(
                "issue_codes",
                lambda: self.issue_codes(self.table.selected_key(), self.code_count.value()),
                needs="issue_codes",
            ),
            self.button(
                "print_sheets_selected",
                lambda: self.issue_and_print(self.table.selected_keys()),
                needs="issue_totp",
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
        self.people: dict[str, dict[str, Any]] = {}  # login -> the staff member as listed
        self.import_dialog: ImportDialog | None = None
        self.forget()

    def forget(self) -> None:
        self.table.fill([], [])
        self.people = {}
        self._clear_issued()
        if self.import_dialog is not None:  # it holds the secrets of those it added
            self.import_dialog.close()
            self.import_dialog = None

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
        # What the sheets print: the answer that issued the secret or codes shown, or the
        # answers that issued several staff members' secrets at once.
        self.issued: list[dict[str, Any]] = []
        self.issued_login = ""
        self.issued_for = ""  # the tenant of what was issued, named on the sheet
        self.issued_at = 0.0
        for button in (self.print_button, self.pdf_button):
            button.setEnabled(False)  # nothing to print

    def _issued(self, login: str, answers: list[dict[str, Any]]) -> None:
        """Start showing what was just issued to ``login`` (several, comma-separated), in
        place of anyone's earlier; ``answers`` are what the sheets will print."""
        self._clear_issued()
        self.issued_login, self.issued_for = login, self.window_.tenant
        self.issued_at = time.time()
        self.issued = answers
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
        self.people = {u["login"]: u for u in staff}
        self.table.fill(
            [
                [
                    u["login"],
                    u.get("full_name", ""),
                    u.get("department", ""),
                    tr("disabled") if u["disabled"] else tr("enabled"),
                    when(u["last_login_at"]),
                ]
                for u in staff
            ],
            [u["login"] for u in staff],
        )

    async def add(self, login: str, full_name: str = "", department: str = "") -> None:
        body = {"login": login, "full_name": full_name.strip(), "department": department.strip()}
        answer = await self.call("POST", "staff", body=body)
        for field in (self.new_login, self.new_full_name, self.new_department):
            field.clear()
        self.people[answer["login"]] = answer
        self._show_totp(answer)
        self.window_.report(tr("staff_added", login=answer["login"]))
        await self.refresh()

    async def change_names(self, login: str | None, full_name: str, department: str) -> None:
        """Give the selected staff member the full name and department typed ("" clears)."""
        login = self._chosen(login)
        body = {"full_name": full_name.strip(), "department": department.strip()}
        await self.call("PATCH", "staff", login, body=body)
        for field in (self.new_full_name, self.new_department):
            field.clear()
        self.window_.report(tr("staff_names_changed", login=login))
        await self.refresh()

    async def open_import(self) -> None:
        """The CSV import dialog, opened (one at a time; it stays until closed)."""
        if self.import_dialog is None:
            self.import_dialog = ImportDialog(self)
        self.import_dialog.show()
        self.import_dialog.raise_()

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
        self._issued(answer["login"], [answer])
        self.last_totp = answer
        self.qr = qr_image(answer["otpauth_uri"])
        self.qr_label.setPixmap(QPixmap.fromImage(self.qr))
        self.uri_label.setText(f"{answer['login']}: {answer['totp_secret']}")

    async def issue_codes(self, login: str | None, count: int) -> list[str]:
        login = self._chosen(login)
        answer = await self.call("POST", "staff", login, "codes", body={"count": count})
        self._issued(login, [answer])
        self.last_codes = answer
        self.codes.addItems(answer["codes"])
        self.window_.report(tr("codes_issued", login=login, count=len(answer["codes"])))
        return list(answer["codes"])

    async def issue_and_print(self, logins: list[str]) -> bool:
        """New TOTP secrets for the staff members ``logins`` (after asking: their
        authenticator apps stop working), then their sheets in one print job; the secrets
        stay shown as issued, to print again, until something else is issued. False if the
        admin said no, or cancelled the print dialog."""
        if not logins:
            raise InputMissing(tr("select_staff_first"))
        if not await self.confirmed("confirm_reissue_totp_many", count=len(logins)):
            return False
        answers, failed = [], []
        for login in logins:  # one refusal (someone deleted meanwhile) does not stop the rest
            try:
                answers.append(await self.call("POST", "staff", login, "totp"))
            except ApiFailure as exc:
                failed.append(f"{login}: {describe_failure(exc)}")
        printed = False
        if answers:
            issued_to = ", ".join(answer["login"] for answer in answers)
            self._issued(issued_to, answers)
            self.window_.report(tr("totp_issued", login=issued_to))
            printed = await self.print_on_paper()
        if failed:
            raise SomeFailed("\n".join(failed))
        return printed

    async def sheets_for(
        self, answers: list[dict[str, Any]], issued_at: float | None = None
    ) -> list[StaffSheet]:
        """A sheet for each answer that issued a TOTP secret or codes (to add staff, to issue
        them anew), with what the staff member needs to connect: their name and department
        as listed, the office PCs granted to them, the relay server's address (as the office
        PCs tab has it) and fingerprint."""
        # A role that may not read them (helpdesk) prints the sheets without the office PCs.
        reads_pcs = self.window_.may("list_grants") and self.window_.may("list_hosts")
        grants = (await self.call("GET", "grants"))["grants"] if reads_pcs else []
        pcs = {pc["host_id"]: pc for pc in await self.office_pcs()} if reads_pcs else {}
        issued_at = time.time() if issued_at is None else issued_at
        sheets = []
        for answer in answers:
            login = str(answer["login"])
            person = {**self.people.get(login, {}), **answer}
            theirs = tuple(
                pc_label(pcs.get(g["host_id"], {"host_id": g["host_id"]}))
                for g in grants
                if str(g["login"]).casefold() == login.casefold()
            )
            common: dict[str, Any] = {
                "tenant": self.issued_for or self.window_.tenant,
                "login": login,
                "issued_at": issued_at,
                "pcs": theirs,
                "relay": self.window_.hosts.relay_address.text().strip(),
                "fingerprint": self.api.fingerprint,
                "full_name": str(person.get("full_name", "")),
                "department": str(person.get("department", "")),
            }
            if "codes" in answer:
                sheets.append(StaffSheet(codes=tuple(answer["codes"]), **common))
            else:
                sheets.append(
                    StaffSheet(uri=answer["otpauth_uri"], secret=answer["totp_secret"], **common)
                )
        return sheets

    async def staff_sheets(self) -> list[StaffSheet]:
        """The sheets of what was issued last (none if nothing is shown)."""
        if not self.issued:
            return []
        return await self.sheets_for(self.issued, self.issued_at)

    async def staff_sheet(self) -> StaffSheet | None:
        """The (first) sheet of what was issued last; None if nothing is shown."""
        sheets = await self.staff_sheets()
        return sheets[0] if sheets else None

    async def print_sheet(self, path: Path) -> Path | None:
        """The sheets as an A4 PDF at ``path``, a page each; None if nothing is shown."""
        sheets = await self.staff_sheets()
        if not sheets:
            return None
        print_sheets(sheet_printer(path), sheets)
        return path

    async def print_on_paper(self) -> bool:
        """「印刷…」: the print dialog (its printers include a PDF file), then the sheets on the
        printer chosen; False if the admin cancelled."""
        sheets = await self.staff_sheets()
        if not sheets:
            raise InputMissing(tr("nothing_to_print"))
        return await self.print_chosen(sheets)

    async def print_chosen(self, sheets: list[StaffSheet]) -> bool:
        """``sheets`` in one job on the printer chosen in the print dialog (a PDF file among
        them), a page each; False if the admin cancelled."""
        printer = sheet_printer()
        if not await self.choose_printer(printer):
            return False
        print_sheets(printer, sheets)
        to_file = printer.outputFormat() == QPrinter.OutputFormat.PdfFormat
        if to_file:
            saved = tr("saved_to", path=printer.outputFileName())
        elif len(sheets) == 1:
            saved = tr("sheet_printed")
        else:
            saved = tr("sheets_printed", count=len(sheets))
        self.window_.report(saved)
        return True

    async def _ask_pdf(self) -> None:
        suggested = f"{self.issued_login}.pdf" if self.issued_login else ""
        path = self.ask_save_path("save_sheet_pdf", suggested, "PDF (*.pdf)")
        if path is not None and await self.print_sheet(path) is not None:
            self.window_.report(tr("saved_to", path=path))
