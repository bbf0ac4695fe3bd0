"""First-run enrolment wizard: the enrolment code (or the relay's details typed by hand), this
PC's name; then the host ID, large.

The admin pastes the enrolment code from the console's enrolment sheet, or loads a photo or
scan of its QR code; the code fills in the relay's address, its fingerprint and the token,
which stay editable (and can be typed by hand instead). The fingerprint is shown in full, in
groups, to compare with the sheet.

The dialog does no networking itself: it validates what the user typed and emits
``enroll_requested``; the app enrols (asynchronously) and answers with :meth:`show_enrolled`
or :meth:`show_failed`. Tests drive it through these signals and slots.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from apps.common.enrolment_code import (
    EnrolmentCode,
    EnrolmentCodeError,
    group_fingerprint,
    looks_like_code,
    parse_code,
)
from apps.common.fields import ADDRESS_SAMPLE, FINGERPRINT_SAMPLE, TOKEN_SAMPLE, show_whole
from apps.common.i18n import REFUSAL_CODES
from apps.common.qr_scan import QrImageError, read_qr_file
from apps.host.i18n import tr
from core.crypto.certs import format_host_id, parse_fingerprint
from core.errors import Error
from transport.connect import RelayEndpoint

__all__ = ["EnrolmentWizard", "group_fingerprint"]

HOST_ID_POINT_SIZE = 28  # large enough to read across a desk and copy onto the admin's form
PC_NAME_CHARS = 128  # the relay's limit on an office PC's name
CODE_LINES = 3  # the code field's height: a pasted code shows whole, wrapped
ERROR_STYLE = "color: #b00020"


def _fixed_font() -> QFont:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


class EnrolmentWizard(QDialog):
    enroll_requested = Signal(str, str, str, str)  # relay address, fingerprint, token, PC name

    def __init__(
        self,
        relay: str = "",
        fingerprint: str = "",
        token: str = "",
        name: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("wizard_title"))
        self.pages = QStackedWidget(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        # Where a QR code image is picked; tests replace it. Returns "" when cancelled.
        self.choose_image: Callable[[], str] = self._ask_image

        form_page = QWidget()
        page = QVBoxLayout(form_page)
        intro = QLabel(tr("wizard_intro"))
        intro.setWordWrap(True)
        page.addWidget(intro)

        code_form = QFormLayout()
        self.code_edit = QPlainTextEdit()
        self.code_edit.setPlaceholderText(tr("enrolment_code_hint"))
        self.code_edit.setFont(_fixed_font())
        self.code_edit.setTabChangesFocus(True)
        self.code_edit.installEventFilter(self)  # Enter enrols, as in the one-line fields
        line = self.code_edit.fontMetrics().lineSpacing()
        self.code_edit.setFixedHeight(line * CODE_LINES + 16)
        self.load_qr_button = QPushButton(tr("load_qr_image"))
        self.load_qr_button.clicked.connect(self._load_qr_image)
        code_form.addRow(tr("enrolment_code"), self.code_edit)
        code_form.addRow("", self.load_qr_button)
        self.code_status = QLabel()
        self.code_status.setWordWrap(True)
        code_form.addRow("", self.code_status)
        self.name_edit = QLineEdit(socket.gethostname() if name is None else name)
        self.name_edit.setMaxLength(PC_NAME_CHARS)
        code_form.addRow(tr("pc_name"), self.name_edit)
        name_hint = QLabel(tr("pc_name_hint"))
        name_hint.setWordWrap(True)
        code_form.addRow("", name_hint)
        page.addLayout(code_form)

        # The relay's details: filled in from the code, or typed by hand.
        details = QGroupBox(tr("relay_details"))
        box = QVBoxLayout(details)
        details_hint = QLabel(tr("relay_details_hint"))
        details_hint.setWordWrap(True)
        box.addWidget(details_hint)
        form = QFormLayout()
        self.relay_edit = show_whole(QLineEdit(relay), ADDRESS_SAMPLE)
        self.fingerprint_edit = show_whole(QLineEdit(fingerprint), FINGERPRINT_SAMPLE, True)
        self.token_edit = show_whole(QLineEdit(token), TOKEN_SAMPLE)
        form.addRow(tr("relay_address"), self.relay_edit)
        form.addRow(tr("relay_fingerprint"), self.fingerprint_edit)
        form.addRow(tr("enrolment_token"), self.token_edit)
        box.addLayout(form)
        # The fingerprint again, grouped in fours as the sheet prints it, to compare.
        self.check_label = QLabel()
        self.check_label.setWordWrap(True)
        box.addWidget(self.check_label)
        self.check_value = QLabel()
        self.check_value.setFont(_fixed_font())
        self.check_value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.addWidget(self.check_value)
        page.addWidget(details)

        self.error_label = QLabel()
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        page.addWidget(self.error_label)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.enroll_button = QPushButton(tr("enroll"))
        self.enroll_button.setDefault(True)
        self.enroll_button.clicked.connect(self._submit)
        buttons.addWidget(self.enroll_button)
        page.addLayout(buttons)
        self.pages.addWidget(form_page)

        done_page = QWidget()
        done = QVBoxLayout(done_page)
        done.addWidget(QLabel(tr("enrolled_title")))
        self.host_id_label = QLabel()
        font = QFont(self.host_id_label.font())
        font.setPointSize(HOST_ID_POINT_SIZE)
        font.setBold(True)
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.host_id_label.setFont(font)
        self.host_id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        done.addWidget(self.host_id_label)
        enrolled_text = QLabel(tr("enrolled_text"))
        enrolled_text.setWordWrap(True)
        done.addWidget(enrolled_text)
        self.close_button = QPushButton(tr("close"))
        self.close_button.clicked.connect(self.accept)
        done.addWidget(self.close_button)
        self.pages.addWidget(done_page)

        self.code: EnrolmentCode | None = None  # the code last read, if the field holds one
        self.code_edit.textChanged.connect(self._code_changed)
        for edit in (self.relay_edit, self.fingerprint_edit, self.token_edit, self.name_edit):
            edit.textChanged.connect(self._edited)
        self.fingerprint_edit.textChanged.connect(self._show_fingerprint)
        self._show_fingerprint(fingerprint)

    # -- what the user types ---------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Enter in the code field presses Enrol (a code has no line breaks to type)."""
        if (
            watched is self.code_edit
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            if self.enroll_button.isEnabled():
                self.enroll_button.click()
            return True
        return super().eventFilter(watched, event)

    def _edited(self) -> None:
        """Something was corrected: an error about what it was no longer holds."""
        if self.enroll_button.isEnabled():  # not "enrolling…" while it is under way
            self.error_label.clear()

    def _code_changed(self) -> None:
        text = self.code_edit.toPlainText()
        self.code = None
        self.code_status.clear()
        self._edited()
        if not text.strip():
            return
        try:
            code = parse_code(text)
        except EnrolmentCodeError as exc:
            self.error_label.setText(self._code_error(exc.reason))
            return
        # Filling the fields clears any error about them, as a correction by hand would.
        self.relay_edit.setText(code.relay)
        self.fingerprint_edit.setText(code.fingerprint)
        self.token_edit.setText(code.token)
        self.code = code
        self.code_status.setText(tr("code_read", tenant=code.tenant or "-", relay=code.relay))

    @staticmethod
    def _code_error(reason: str) -> str:
        key = f"code_error_{reason}"
        return tr(key) if tr.knows(key) else tr("code_error_damaged")

    def _show_fingerprint(self, text: str) -> None:
        try:
            pin = parse_fingerprint(text)
        except Error:
            self.check_label.clear()
            self.check_value.clear()
            return
        self.check_label.setText(tr("fingerprint_check"))
        self.check_value.setText(group_fingerprint(pin))

    def _ask_image(self) -> str:  # pragma: no cover - a modal file dialog
        name, _ = QFileDialog.getOpenFileName(
            self, tr("load_qr_image"), "", f"{tr('image_files')} (*.png *.jpg *.jpeg *.bmp *.gif)"
        )
        return name

    def _load_qr_image(self) -> None:
        name = self.choose_image()
        if name:
            self.load_qr_file(Path(name))

    def load_qr_file(self, path: Path) -> None:
        """Read the enrolment code from the QR code in the image at ``path`` into the field."""
        try:
            texts = read_qr_file(path)
        except QrImageError:
            self.error_label.setText(tr("qr_not_an_image"))
            return
        except ImportError:  # pragma: no cover - zxing-cpp is a dependency of the package
            self.error_label.setText(tr("qr_unavailable"))
            return
        codes = [text for text in texts if looks_like_code(text)]
        if not codes:
            self.error_label.setText(tr("qr_no_code"))
            return
        self.code_edit.setPlainText(codes[0])  # read (or refused) as if pasted

    # -- enrolling ---------------------------------------------------------------------------

    def _submit(self) -> None:
        if self.code is None and self.code_edit.toPlainText().strip():
            self._code_changed()  # the code's own error, not one about the fields below it
            if self.code is None:
                return
        relay, token = self.relay_edit.text().strip(), self.token_edit.text().strip()
        name = self.name_edit.text().strip()
        try:
            pin = parse_fingerprint(self.fingerprint_edit.text())
        except Error:
            self.error_label.setText(tr("invalid_fingerprint"))
            return
        try:
            RelayEndpoint.parse(relay, fingerprint=pin)
        except Error:
            self.error_label.setText(tr("invalid_address"))
            return
        if not token:
            self.error_label.setText(tr("missing_token"))
            return
        if not name:
            self.error_label.setText(tr("missing_pc_name"))
            return
        self.error_label.setStyleSheet("")  # under way, not an error
        self.error_label.setText(tr("enrolling"))
        self.enroll_button.setEnabled(False)
        self.enroll_requested.emit(relay, pin, token, name)

    def show_enrolled(self, host_id: str) -> None:
        self.host_id_label.setText(format_host_id(host_id))
        self.pages.setCurrentIndex(1)

    def show_failed(self, reason: str) -> None:
        """``reason`` is a refusal code (translated) or a short message."""
        shown = tr.refusal(reason) if reason in REFUSAL_CODES else reason
        self.enroll_button.setEnabled(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setText(tr("enrol_failed", reason=shown))
