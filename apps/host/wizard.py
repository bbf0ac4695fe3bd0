"""First-run enrolment wizard: relay address, fingerprint check, token; then the host ID, large.

The dialog does no networking itself: it validates what the user typed and emits
``enroll_requested``; the app enrols (asynchronously) and answers with :meth:`show_enrolled`
or :meth:`show_failed`. Tests drive it through these signals and slots.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from apps.common.i18n import REFUSAL_CODES
from apps.host.i18n import tr
from core.crypto.certs import format_host_id, parse_fingerprint
from core.errors import Error
from transport.connect import RelayEndpoint

HOST_ID_POINT_SIZE = 28  # large enough to read across a desk and copy onto the admin's form


def group_fingerprint(fingerprint: str) -> str:
    """64 hex digits in groups of four, two lines, for comparing against a printed sheet."""
    groups = [fingerprint[i : i + 4].upper() for i in range(0, len(fingerprint), 4)]
    return " ".join(groups[:8]) + "\n" + " ".join(groups[8:])


class EnrolmentWizard(QDialog):
    enroll_requested = Signal(str, str, str)  # relay address, fingerprint, token

    def __init__(
        self, relay: str = "", fingerprint: str = "", token: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("wizard_title"))
        self.pages = QStackedWidget(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)

        form_page = QWidget()
        form = QFormLayout(form_page)
        intro = QLabel(tr("wizard_intro"))
        intro.setWordWrap(True)
        form.addRow(intro)
        self.relay_edit = QLineEdit(relay)
        self.fingerprint_edit = QLineEdit(fingerprint)
        self.token_edit = QLineEdit(token)
        form.addRow(tr("relay_address"), self.relay_edit)
        form.addRow(tr("relay_fingerprint"), self.fingerprint_edit)
        self.check_label = QLabel()
        self.check_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.check_label)
        form.addRow(tr("enrolment_token"), self.token_edit)
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #b00020")
        self.error_label.setWordWrap(True)
        form.addRow(self.error_label)
        self.enroll_button = QPushButton(tr("enroll"))
        self.enroll_button.clicked.connect(self._submit)
        form.addRow(self.enroll_button)
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
        done.addWidget(QLabel(tr("enrolled_text")))
        self.close_button = QPushButton(tr("close"))
        self.close_button.clicked.connect(self.accept)
        done.addWidget(self.close_button)
        self.pages.addWidget(done_page)

        self.fingerprint_edit.textChanged.connect(self._show_fingerprint)
        self._show_fingerprint(fingerprint)

    def _show_fingerprint(self, text: str) -> None:
        try:
            pin = parse_fingerprint(text)
        except Error:
            self.check_label.setText("")
            return
        self.check_label.setText(tr("fingerprint_check", fingerprint=group_fingerprint(pin)))

    def _submit(self) -> None:
        relay, token = self.relay_edit.text().strip(), self.token_edit.text().strip()
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
        self.error_label.setText(tr("enrolling"))
        self.enroll_button.setEnabled(False)
        self.enroll_requested.emit(relay, pin, token)

    def show_enrolled(self, host_id: str) -> None:
        self.host_id_label.setText(format_host_id(host_id))
        self.pages.setCurrentIndex(1)

    def show_failed(self, reason: str) -> None:
        """``reason`` is a refusal code (translated) or a short message."""
        shown = tr.refusal(reason) if reason in REFUSAL_CODES else reason
        self.error_label.setText(tr("enrol_failed", reason=shown))
        self.enroll_button.setEnabled(True)
