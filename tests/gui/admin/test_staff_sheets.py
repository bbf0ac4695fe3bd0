"""The staff member's printed sheets (authenticator QR code, single-use codes): instructions for
staff (adding the authenticator, connecting from home), the municipality, who it is for and
the office PCs they may use; 「印刷…」 opens the print dialog (a PDF file among its printers)."""

from __future__ import annotations

import asyncio

import pytest
from conftest import press, settled, until
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter

from apps.admin.qr import draw_staff_sheet, group_secret
from apps.admin.texts import tr
from apps.common.qr_scan import decode_qr
from core.crypto.certs import format_host_id
from tests.integration.relay_harness import TENANT, USER, HostAgent


class PrintDialog:
    """An admin who picks "print to a PDF file" in the print dialog (or cancels it)."""

    def __init__(self, path, answer: bool = True) -> None:
        self.path, self.answer = path, answer
        self.printers: list[QPrinter] = []

    async def __call__(self, printer: QPrinter) -> bool:
        self.printers.append(printer)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(self.path))
        return self.answer


def drawn(sheet) -> tuple[list[str], QImage]:
    """What the sheet says, and the page as an image."""
    page = QImage(1000, 1414, QImage.Format.Format_RGB32)
    page.fill(QColor("white"))
    painter = QPainter(page)
    try:
        texts = draw_staff_sheet(painter, QRect(60, 60, 880, 1294), sheet)
    finally:
        painter.end()
    return texts, page


@pytest.fixture
def granted_pc(console, live, qloop):
    """An office PC named 税務課 窓口1 that USER may use; its label as the sheet lists it."""
    run = qloop.run_until_complete
    host = live.run(HostAgent(live.relay).start())
    run(console.hosts.refresh())
    run(console.hosts.rename(host.host_id, "税務課 窓口1"))
    run(console.grants.grant(USER, host.host_id))
    yield f"税務課 窓口1 ({format_host_id(host.host_id)})"
    live.run(host.stop())


def test_the_authenticator_sheet_tells_staff_what_to_do(
    console, qloop, japanese, granted_pc, tmp_path
):
    run = qloop.run_until_complete
    staff = console.staff
    console.hosts.relay_address.setText("relay.example.lg.jp:8443")
    assert not staff.print_button.isEnabled() and not staff.pdf_button.isEnabled()
    answer = run(staff.issue_totp(USER))
    assert staff.print_button.isEnabled() and staff.pdf_button.isEnabled()

    texts, page = drawn(run(staff.staff_sheet()))
    assert decode_qr(page) == [answer["otpauth_uri"]]
    said = "\n".join(texts)
    assert texts[0] == "テレワーク 認証アプリ登録シート"
    assert f"団体: {TENANT}" in texts  # the municipality
    assert f"職員ID: {USER}" in said and "氏名:" in said  # who: the name written by hand
    assert "認証アプリ" in said and "QRコードを読み取ります" in said
    assert group_secret(answer["totp_secret"]) in said  # the key, if the QR cannot be read
    assert f"団体コード「{TENANT}」、職員ID「{USER}」" in said  # how to connect
    assert "認証アプリに表示されている 6 桁の数字" in said
    assert f"・{granted_pc}" in said  # the office PCs they may use
    assert "relay.example.lg.jp:8443" in said
    assert "シュレッダー" in said


def test_the_codes_sheet_lists_the_codes_and_how_to_use_them(console, qloop, japanese, granted_pc):
    run = qloop.run_until_complete
    codes = run(console.staff.issue_codes(USER, 3))
    texts, _ = drawn(run(console.staff.staff_sheet()))
    said = "\n".join(texts)
    assert texts[0] == "テレワーク 使い捨てコード"
    assert all(f"□  {code}" in said for code in codes)
    assert "1 回だけ使えます" in said
    assert "このシートのまだ使っていないコードを 1 つ" in said
    assert f"・{granted_pc}" in said


def test_without_a_grant_the_sheet_says_to_ask_for_one(console, qloop, japanese):
    run = qloop.run_until_complete
    run(console.staff.issue_totp(USER))
    texts, _ = drawn(run(console.staff.staff_sheet()))
    assert tr("staff_sheet_no_pcs") in "\n".join(texts)


def test_print_opens_the_print_dialog_and_prints_on_the_printer_chosen(console, qloop, tmp_path):
    run = qloop.run_until_complete
    staff = console.staff
    run(staff.issue_totp(USER))
    dialog = staff.choose_printer = PrintDialog(tmp_path / "sheet.pdf")
    press(staff, "print_sheet")
    run(settled(console))
    (printer,) = dialog.printers
    assert printer.pageLayout().pageSize().id() == QPageSize.PageSizeId.A4
    assert (tmp_path / "sheet.pdf").read_bytes().startswith(b"%PDF")
    assert console.statusBar().currentMessage() == tr("saved_to", path=tmp_path / "sheet.pdf")


def test_cancelling_the_print_dialog_prints_nothing(console, qloop, tmp_path):
    run = qloop.run_until_complete
    run(console.staff.issue_codes(USER, 2))
    console.staff.choose_printer = PrintDialog(tmp_path / "sheet.pdf", answer=False)
    assert run(console.staff.print_on_paper()) is False
    assert not (tmp_path / "sheet.pdf").exists()


def test_the_real_print_dialog_opens_over_the_console(console, qloop):
    run = qloop.run_until_complete
    console.show()
    run(console.staff.issue_totp(USER))
    printing = asyncio.ensure_future(console.staff.print_on_paper())
    run(until(lambda: console.findChildren(QPrintDialog)))
    (dialog,) = console.findChildren(QPrintDialog)
    run(until(dialog.isVisible))
    dialog.reject()
    assert run(printing) is False
