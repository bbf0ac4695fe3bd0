"""QR codes for TOTP enrolment (drawn from the ``qrcode`` package's matrix into a QImage) and the
printable sheets handed to staff (PDF through QPrinter)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import qrcode
from PySide6.QtCore import QMarginsF, QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter

from apps.admin.texts import tr

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
