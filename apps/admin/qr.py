"""QR codes for TOTP enrolment and office-PC enrolment codes (drawn from the ``qrcode`` package's
matrix into a QImage) and the printable sheets handed to staff (authenticator QR code, single-use
codes) and to whoever sets up an office PC, painted onto a QPrinter: a printer chosen in the
print dialog, or a PDF file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
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


def sheet_printer(path: Path | None = None) -> QPrinter:
    """An A4 portrait printer with 20 mm margins: a PDF file at ``path``, or (None) whatever
    printer the print dialog then chooses (a PDF file among them)."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    if path is not None:
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


def _stamp(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


class SheetWriter:
    """Paragraphs and pictures down a page of whatever ``painter`` paints (a printer's page, an
    image), every size in hundredths of the page's width; :attr:`drawn` keeps the texts."""

    def __init__(self, painter: QPainter, page: QRect) -> None:
        self.painter, self.page = painter, page
        self.unit = page.width() / 100
        self.y = page.top()
        self.drawn: list[str] = []
        painter.setPen(QColor("black"))

    def paragraph(self, text: str, size: float, bold: bool = False, fixed: bool = False) -> None:
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont) if fixed else QFont()
        font.setPixelSize(max(1, round(size * self.unit)))
        font.setBold(bold)
        self.painter.setFont(font)
        box = QRect(self.page.left(), self.y, self.page.width(), self.page.bottom() - self.y)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap
        used = self.painter.boundingRect(box, flags, text)
        self.painter.drawText(box, flags, text)
        self.y = used.bottom() + round(1.5 * self.unit)
        self.drawn.append(text)

    def image(self, image: QImage, side: float) -> None:
        """``image`` as a square ``side`` hundredths of the page wide, at the left."""
        pixels = round(side * self.unit)
        self.painter.drawImage(QRect(self.page.left(), self.y, pixels, pixels), image)
        self.y += pixels + round(1.5 * self.unit)


def print_pages(printer: QPrinter, *draws: Callable[[QPainter, QRect], object]) -> None:
    """Paint one page with each of ``draws`` onto ``printer`` (a PDF file or a real printer),
    in order: one print job, however many pages."""
    painter = QPainter(printer)
    try:
        page = printer.pageLayout().paintRectPixels(printer.resolution())
        for number, draw in enumerate(draws):
            if number:
                printer.newPage()
            draw(painter, QRect(0, 0, page.width(), page.height()))
    finally:
        painter.end()


# ----- the staff member's sheets: authenticator QR code, single-use codes ------------------

# Office PCs listed by name on a staff sheet; more are counted, not listed (one page).
SHEET_PCS = 6


@dataclass(frozen=True)
class StaffSheet:
    """What a staff member's sheet shows: the authenticator's QR code and key (``uri`` and
    ``secret``) or the single-use ``codes``, and what they need to connect from home."""

    tenant: str  # the municipality, as staff type it (団体コード)
    login: str
    issued_at: float
    uri: str = ""
    secret: str = ""
    codes: tuple[str, ...] = ()
    pcs: tuple[str, ...] = ()  # the office PCs they may use, by name and ID
    relay: str = ""  # how the viewer reaches the relay server, if the console knows
    fingerprint: str = ""
    full_name: str = ""  # as the directory has them; "" if not given (then written by hand)
    department: str = ""

    @property
    def is_codes(self) -> bool:
        return bool(self.codes)


def group_secret(secret: str) -> str:
    """A setup key in groups of four, as authenticator apps show and accept it."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def draw_staff_sheet(painter: QPainter, page: QRect, sheet: StaffSheet) -> list[str]:
    """The staff member's sheet on ``page``: the municipality, who it is for (their full name
    and department if the directory has them, else a line to write the name on), how to add
    the authenticator (QR code and key) or the single-use codes, how to connect from home, the
    office PCs they may use, and a warning. Returns the texts drawn, in order."""
    out = SheetWriter(painter, page)
    title = "staff_sheet_codes_title" if sheet.is_codes else "staff_sheet_totp_title"
    out.paragraph(tr(title), 4.2, bold=True)
    out.paragraph(tr("sheet_tenant", tenant=sheet.tenant), 3.2, bold=True)
    if sheet.full_name:
        who = tr("staff_sheet_who_named", full_name=sheet.full_name, login=sheet.login)
    else:
        who = tr("staff_sheet_who", login=sheet.login)
    out.paragraph(who, 2.6)
    if sheet.department:
        out.paragraph(tr("staff_sheet_department", department=sheet.department), 2.2)
    out.paragraph(tr("staff_sheet_issued", issued=_stamp(sheet.issued_at)), 2.0)
    if sheet.is_codes:
        out.paragraph(tr("staff_sheet_codes_about"), 2.2)
        out.paragraph("\n".join(f"□  {code}" for code in sheet.codes), 3.0, fixed=True)
        step = tr("staff_sheet_connect_code")
    else:
        out.paragraph(tr("staff_sheet_totp_heading"), 2.8, bold=True)
        out.paragraph(tr("staff_sheet_totp_steps"), 2.2)
        out.image(qr_image(sheet.uri, scale=8), 30)
        out.paragraph(tr("staff_sheet_key", setup_key=group_secret(sheet.secret)), 2.4, fixed=True)
        step = tr("staff_sheet_connect_totp")
    out.paragraph(tr("staff_sheet_connect_heading"), 2.8, bold=True)
    steps = tr("staff_sheet_connect_steps", tenant=sheet.tenant, login=sheet.login)
    out.paragraph(f"{steps}\n{step}", 2.2)
    pcs = list(sheet.pcs[:SHEET_PCS])
    if len(sheet.pcs) > SHEET_PCS:
        pcs.append(tr("staff_sheet_more_pcs", count=len(sheet.pcs) - SHEET_PCS))
    listed = "\n".join(f"・{pc}" for pc in pcs) if pcs else tr("staff_sheet_no_pcs")
    out.paragraph(f"{tr('staff_sheet_pcs')}\n{listed}", 2.2)
    if sheet.relay or sheet.fingerprint:
        out.paragraph(tr("staff_sheet_settings", relay=sheet.relay or "-"), 2.0)
        if sheet.fingerprint:
            out.paragraph(group_fingerprint(sheet.fingerprint), 2.0, fixed=True)
    warning = "staff_sheet_warning_codes" if sheet.is_codes else "staff_sheet_warning_totp"
    out.paragraph(tr(warning), 2.0, bold=True)
    return out.drawn


def print_sheets(printer: QPrinter, sheets: list[StaffSheet]) -> None:
    """Staff members' sheets on ``printer`` in one job, a page each."""
    print_pages(printer, *(partial(draw_staff_sheet, sheet=sheet) for sheet in sheets))


# ----- the office PC's enrolment sheet -------------------------------------------------------


@dataclass(frozen=True)
class EnrolmentSheet:
    """What the enrolment sheet of one office PC shows."""

    code: EnrolmentCode
    issued_at: float
    expires_at: float

    @property
    def text(self) -> str:
        return self.code.encode()


def code_lines(text: str, per_line: int) -> list[str]:
    """The code cut into lines of ``per_line`` characters (the wizard ignores the breaks)."""
    return [text[i : i + per_line] for i in range(0, len(text), per_line)]


def draw_enrolment_sheet(painter: QPainter, page: QRect, sheet: EnrolmentSheet) -> None:
    """The enrolment sheet on ``page`` of whatever ``painter`` paints (a PDF page, an image):
    title, municipality, validity, the steps in words, the QR code, the code as text, and the
    relay's address and fingerprint to compare. Sizes follow the page's width."""
    out = SheetWriter(painter, page)
    out.paragraph(tr("sheet_title"), 4.2, bold=True)
    out.paragraph(tr("sheet_tenant", tenant=sheet.code.tenant), 3.2, bold=True)
    issued, expires = _stamp(sheet.issued_at), _stamp(sheet.expires_at)
    out.paragraph(tr("sheet_validity", issued=issued, expires=expires), 2.2)
    out.paragraph(tr("sheet_steps"), 2.2)
    out.image(qr_image(sheet.text, scale=8), 32)
    out.paragraph(tr("enrolment_code"), 2.2, bold=True)
    # Monospace, cut at a fixed width so that every character can be read off and typed.
    out.paragraph("\n".join(code_lines(sheet.text, 48)), 2.6, fixed=True)
    out.paragraph(tr("sheet_relay", relay=sheet.code.relay), 2.2)
    out.paragraph(tr("sheet_fingerprint"), 2.2)
    out.paragraph(group_fingerprint(sheet.code.fingerprint), 2.6, fixed=True)
    out.paragraph(tr("sheet_host_id"), 2.2)
    out.paragraph(tr("sheet_warning"), 2.0, bold=True)


def print_enrolment_sheet(printer: QPrinter, sheet: EnrolmentSheet) -> None:
    """The enrolment sheet on ``printer`` (a PDF file or a real printer), one page."""
    print_pages(printer, partial(draw_enrolment_sheet, sheet=sheet))
