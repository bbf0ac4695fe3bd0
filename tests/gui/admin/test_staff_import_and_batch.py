"""Staff members' full names and departments in the staff tab (columns that are searched and
sorted, given when adding, changed later, printed on their sheets); the CSV import (a preview
of each row's outcome before anything is written, then the import with a progress bar and a
summary); and the sheets of several staff members printed in one job, a page each."""

from __future__ import annotations

import re
import time

import pyotp
from conftest import settled
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtPrintSupport import QPrinter

from apps.admin.staff_csv import Outcome
from apps.admin.texts import tr
from relay.store.staff import OtpResult
from tests.integration.relay_harness import TENANT, USER


class PrintDialog:
    """An admin who picks "print to a PDF file" in the print dialog."""

    def __init__(self, path) -> None:
        self.path = path
        self.opened = 0

    async def __call__(self, printer: QPrinter) -> bool:
        self.opened += 1
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(self.path))
        return True


def pdf_pages(path) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))


def column(table, heading: str) -> int:
    headings = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    return headings.index(heading)


def shown_column(table, heading: str) -> list[str]:
    c = column(table, heading)
    return [table.item(r, c).text() for r in range(table.rowCount()) if not table.isRowHidden(r)]


def test_names_are_columns_searched_sorted_changed_and_printed(console, live, qloop):
    run, staff = qloop.run_until_complete, console.staff
    staff.new_login.setText("sato")
    staff.new_full_name.setText("佐藤 一郎 ")
    staff.new_department.setText("税務課")
    run(staff.add(staff.new_login.text(), staff.new_full_name.text(), staff.new_department.text()))
    assert staff.new_full_name.text() == "" and staff.new_department.text() == ""
    run(staff.add("kato", "加藤 花子", "市民課"))
    table = staff.table
    assert shown_column(table, tr("col_full_name")) == ["加藤 花子", "佐藤 一郎", ""]
    staff.search.setText("税務")
    assert table.shown_keys() == ["sato"]
    staff.search.setText("")
    table.sortItems(column(table, tr("col_department")))
    assert shown_column(table, tr("col_department")) == ["", "市民課", "税務課"]

    sheet = run(staff.staff_sheet())  # kato's, added last
    assert (sheet.login, sheet.full_name, sheet.department) == ("kato", "加藤 花子", "市民課")

    run(staff.change_names("sato", "佐藤 一郎", "市民課 窓口係"))
    assert tr("staff_names_changed", login="sato") in console.statusBar().currentMessage()
    user = live.relay.directory.get_user(TENANT, "sato")
    assert (user.full_name, user.department) == ("佐藤 一郎", "市民課 窓口係")
    assert "市民課 窓口係" in shown_column(table, tr("col_department"))


def test_csv_import_previews_then_adds_and_prints_every_sheet(console, live, qloop, tmp_path):
    run, staff = qloop.run_until_complete, console.staff
    csv_file = tmp_path / "staff.csv"
    # As Excel in Japan saves it: Shift_JIS (cp932), CRLF, a Japanese heading.
    csv_file.write_bytes(
        (
            "職員ID,氏名,所属\r\n"
            "sato,佐藤 一郎,税務課\r\n"
            f"{USER},田中 次郎,総務課\r\n"
            ",名無し,総務課\r\n"
            "kato,加藤 花子,市民課\r\n"
            "ito,伊藤\x07,市民課\r\n"
        ).encode("cp932")
    )
    run(staff.open_import())
    dialog = staff.import_dialog
    assert dialog is not None and dialog.isVisible()
    rows = run(dialog.load(csv_file))
    assert [(r.login, r.outcome) for r in rows] == [
        ("sato", Outcome.NEW),
        (USER, Outcome.EXISTS),
        ("", Outcome.INVALID),
        ("kato", Outcome.NEW),
        ("ito", Outcome.INVALID),
    ]
    outcomes = shown_column(dialog.table, tr("col_outcome"))
    assert outcomes[0] == tr("import_new") and outcomes[1] == tr("import_exists")
    assert outcomes[2] == tr("import_invalid", reason=tr("import_no_login"))
    assert "Shift_JIS" in dialog.file_label.text()
    assert live.relay.directory.get_user(TENANT, "sato") is None  # nothing written yet
    assert dialog.import_button.isEnabled() and not dialog.print_button.isEnabled()

    # Someone adds kato meanwhile: that row fails, the others go on.
    live.relay.directory.add_user(TENANT, "kato")
    added = run(dialog.run_import())
    assert [a["login"] for a in added] == ["sato"]
    assert dialog.progress.value() == dialog.progress.maximum() == 2
    outcomes = shown_column(dialog.table, tr("col_outcome"))
    assert outcomes[0] == tr("import_added")
    assert outcomes[3].startswith(tr("import_failed", reason=""))
    summary = tr("import_summary", added=1, failed=1, exists=1, invalid=2)
    assert dialog.summary.text() == summary
    assert console.statusBar().currentMessage() == summary
    user = live.relay.directory.get_user(TENANT, "sato")
    assert (user.full_name, user.department) == ("佐藤 一郎", "税務課")
    assert "sato" in staff.table.keys  # the list was refreshed
    # The secret is the one on the sheet: it signs sato in.
    otp = pyotp.TOTP(added[0]["totp_secret"]).now()
    assert live.relay.directory.verify_otp(TENANT, "sato", otp, time.time()) is OtpResult.TOTP_OK

    staff.choose_printer = PrintDialog(tmp_path / "sheets.pdf")
    assert run(dialog.print_sheets())
    assert pdf_pages(tmp_path / "sheets.pdf") == 1
    dialog.close()
    assert dialog.added == [] and dialog.table.rowCount() == 0  # the secrets are gone


def test_several_staff_selected_get_their_sheets_in_one_print_job(console, live, qloop, tmp_path):
    run, staff = qloop.run_until_complete, console.staff
    for login in ("sato", "kato", "ito"):
        live.relay.directory.add_user(TENANT, login, full_name=f"{login} san")
    run(staff.refresh())
    table = staff.table
    chosen = {"sato", "ito"}
    for r in range(table.rowCount()):
        if table.key_of(r) in chosen:
            index = table.model().index(r, 0)
            table.selectionModel().select(
                index,
                QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
            )
    assert set(table.selected_keys()) == chosen
    dialog = PrintDialog(tmp_path / "batch.pdf")
    staff.choose_printer = dialog
    assert run(staff.issue_and_print(table.selected_keys()))
    assert dialog.opened == 1 and pdf_pages(tmp_path / "batch.pdf") == 2
    sheets = run(staff.staff_sheets())
    assert sorted(s.login for s in sheets) == ["ito", "sato"]
    assert {s.full_name for s in sheets} == {"sato san", "ito san"}
    assert tr("saved_to", path=tmp_path / "batch.pdf") == console.statusBar().currentMessage()
    # The PDF button saves the same pages again.
    assert run(staff.print_sheet(tmp_path / "again.pdf")) is not None
    assert pdf_pages(tmp_path / "again.pdf") == 2


def test_a_file_that_cannot_be_read_says_why(console, qloop, tmp_path):
    run, staff = qloop.run_until_complete, console.staff
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x81\x00\xff,\xfe\n")
    run(staff.open_import())
    dialog = staff.import_dialog
    dialog.ask_path = lambda: bad
    dialog.choose_button.click()  # as the admin does: the reason reaches the status bar
    run(settled(console))
    assert console.statusBar().currentMessage() == tr("error", message=tr("import_not_decodable"))
    assert dialog.summary.text() == tr("import_not_decodable")
    assert dialog.table.rowCount() == 0 and not dialog.import_button.isEnabled()
