"""QR codes for TOTP enrolment and office-PC enrolment codes (drawn from the ``qrcode`` package's
matrix into a QImage) and the printable sheets handed to staff and to whoever sets up an office
PC (PDF through QPrinter)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import qrcode
from PySide6.QtCore import QMarginsF, QRect, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
)
from PySide6.QtPrintSupport import QPrinter

from apps.admin.texts import tr
from apps.common.enrolment_code import EnrolmentCode, group_fingerprint

# Pixels per QR module on screen, and the quiet zone in modules (the standard asks for 4).
QR_SCALE = 6
QR_BORDER = 4


def qr_image(text: str, scale: int = QR_SCALE) -> QImage:
    """``text`` as a black-on-white QR code, ``scale`` pixels per module."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=QR_BORDER, box_size=1
    )
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix) * scale
    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    try:
        for y, row in enumerate(matrix):
            for x, dark in enumerate(row):
                if dark:
                    painter.fillRect(x * scale, y * scale, scale, scale, QColor("black"))
    finally:
        painter.end()
    return image


def _printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    printer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(20, 20, 20, 20),
        )
    )
    return printer


def print_sheet(path: Path, title: str, lines: list[str], image: QImage | None = None) -> Path:
    """A one-page PDF: a title, the lines, and the QR code if given."""
    printer = _printer(path)
    painter = QPainter(printer)
    try:
        page = printer.pageLayout().paintRectPixels(printer.resolution())
        width = page.width()
        font = QFont()
        font.setPointSize(16)
        painter.setFont(font)
        line_height = painter.fontMetrics().height()
        y = 0
        painter.drawText(QRect(0, y, width, line_height * 2), Qt.AlignmentFlag.AlignLeft, title)
        y += line_height * 2
        font.setPointSize(11)
        painter.setFont(font)
        line_height = painter.fontMetrics().height()
        stamp = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
        for line in [*lines, stamp]:
            painter.drawText(QRect(0, y, width, line_height), Qt.AlignmentFlag.AlignLeft, line)
            y += int(line_height * 1.4)
        if image is not None:
            side = min(width // 2, page.height() - y - line_height)
            painter.drawImage(QRect(0, y + line_height, side, side), image)
    finally:
        painter.end()
    return path


def print_totp_sheet(path: Path, account: str, uri: str, secret: str) -> Path:
    return print_sheet(
        path, tr("app_title"), [account, tr("totp_hint"), secret], qr_image(uri, scale=12)
    )


def print_codes_sheet(path: Path, account: str, codes: list[str]) -> Path:
    return print_sheet(path, tr("app_title"), [account, tr("codes_hint"), *codes])


@dataclass(frozen=True)
class EnrolmentSheet:
    """What the enrolment sheet of one office PC shows."""

    code: EnrolmentCode
    issued_at: float
    expires_at: float

    @property
    def text(self) -> str:
        return self.code.encode()


def _stamp(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def code_lines(text: str, per_line: int) -> list[str]:
    """The code cut into lines of ``per_line`` characters (the wizard ignores the breaks)."""
    return [text[i : i + per_line] for i in range(0, len(text), per_line)]


def draw_enrolment_sheet(painter: QPainter, page: QRect, sheet: EnrolmentSheet) -> None:
    """The enrolment sheet on ``page`` of whatever ``painter`` paints (a PDF page, an image):
    title, municipality, validity, the steps in words, the QR code, the code as text, and the
    relay's address and fingerprint to compare. Sizes follow the page's width."""
    unit = page.width() / 100  # every size in hundredths of the page's width
    x, width = page.left(), page.width()
    y = page.top()

    def paragraph(text: str, size: float, bold: bool = False, fixed: bool = False) -> None:
        nonlocal y
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont) if fixed else QFont()
        font.setPixelSize(max(1, round(size * unit)))
        font.setBold(bold)
        painter.setFont(font)
        box = QRect(x, y, width, page.bottom() - y)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap
        used = painter.boundingRect(box, flags, text)
        painter.drawText(box, flags, text)
        y = used.bottom() + round(1.5 * unit)

    painter.setPen(QColor("black"))
    paragraph(tr("sheet_title"), 4.2, bold=True)
    paragraph(tr("sheet_tenant", tenant=sheet.code.tenant), 3.2, bold=True)
    issued, expires = _stamp(sheet.issued_at), _stamp(sheet.expires_at)
    paragraph(tr("sheet_validity", issued=issued, expires=expires), 2.2)
    paragraph(tr("sheet_steps"), 2.2)
    side = round(32 * unit)
    painter.drawImage(QRect(x, y, side, side), qr_image(sheet.text, scale=8))
    y += side + round(1.5 * unit)
    paragraph(tr("enrolment_code"), 2.2, bold=True)
    # Monospace, cut at a fixed width so that every character can be read off and typed.
    paragraph("\n".join(code_lines(sheet.text, 48)), 2.6, fixed=True)
    paragraph(tr("sheet_relay", relay=sheet.code.relay), 2.2)
    paragraph(tr("sheet_fingerprint"), 2.2)
    paragraph(group_fingerprint(sheet.code.fingerprint), 2.6, fixed=True)
    paragraph(tr("sheet_host_id"), 2.2)
    paragraph(tr("sheet_warning"), 2.0, bold=True)


def print_enrolment_sheet(path: Path, sheet: EnrolmentSheet) -> Path:
    """The enrolment sheet as a one-page A4 PDF at ``path``."""
    printer = _printer(path)
    painter = QPainter(printer)
    try:
        page = printer.pageLayout().paintRectPixels(printer.resolution())
        draw_enrolment_sheet(painter, QRect(0, 0, page.width(), page.height()), sheet)
    finally:
        painter.end()
    return path
