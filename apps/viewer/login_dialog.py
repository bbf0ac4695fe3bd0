"""The login dialog: the connection fields the settings lack, the one-time password, progress."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from apps.common.fields import ADDRESS_SAMPLE, FINGERPRINT_SAMPLE, HOST_ID_SAMPLE, show_whole
from apps.viewer.pc_info import PcInfoDialog
from apps.viewer.settings import CONNECTION_FIELDS, FIELD_LABELS, Settings, form_problem
from apps.viewer.texts import Texts

# The fields sized for their longest usual value: (that value, in a fixed-pitch font).
WHOLE = {
    "relay": (ADDRESS_SAMPLE, False),
    "fingerprint": (FINGERPRINT_SAMPLE, True),
    "host_id": (HOST_ID_SAMPLE, False),
}


class LoginDialog(QDialog):
    """Asks for what the settings lack, then the one-time password; Enter connects.

    The connection fields the settings already fill are there but hidden: "Connection
    settings…" shows them all, so a saved relay or office PC ID that has gone stale (a new
    relay, a re-enrolled office PC) can be corrected here rather than by deleting a file.
    """

    submitted = Signal(object, str)  # Settings, OTP
    # 「職場PCを起動する」: as submitted, but the login asks the relay to wake the office PC.
    wakeRequested = Signal(object, str)  # Settings, OTP
    cancelled = Signal()

    def __init__(
        self,
        texts: Texts,
        settings: Settings,
        parent: QWidget | None = None,
        macs: list[str] | None = None,
        device_code: str = "",
    ) -> None:
        super().__init__(parent)
        self.texts = texts
        self.macs = macs or []  # this home PC's, as the viewer reports them (「このPCの情報」)
        self.device_code = device_code  # this home PC's code (its viewer's key)
        self.setWindowTitle(texts("login_title"))
        self.setAcceptDrops(False)
        self.form = form = QFormLayout()
        self.asked = settings.missing()
        self.edits: dict[str, QLineEdit] = {}
        for name in CONNECTION_FIELDS:
            edit = QLineEdit(getattr(settings, name))
            if name in WHOLE:  # long values, shown whole rather than by their tail
                show_whole(edit, *WHOLE[name])
            edit.setObjectName(name)
            self.edits[name] = edit
            form.addRow(texts(FIELD_LABELS[name]), edit)
        self.otp = QLineEdit()
        self.otp.setObjectName("otp")
        self.otp.setEchoMode(QLineEdit.EchoMode.Password)
        self.otp.setInputMethodHints(
            Qt.InputMethodHint.ImhSensitiveData | Qt.InputMethodHint.ImhNoPredictiveText
        )
        form.addRow(texts("field_otp"), self.otp)
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        # A refusal may carry a fact to pass on (this PC's MAC addresses): selectable.
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Offered after the relay said the office PC is offline and left a ticket (offer_wake).
        self.wake_button = QPushButton(texts("wake_button"))
        self.wake_button.setObjectName("wake")
        self.wake_button.setAutoDefault(False)  # Enter always means Connect
        self.wake_button.clicked.connect(self.submit_wake)
        self.wake_button.setVisible(False)
        self.progress = QLabel()
        self.progress.setObjectName("progress")
        self.buttons = QDialogButtonBox()
        self.connect_button = self.buttons.addButton(
            texts("connect"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.connect_button.setDefault(True)
        self.buttons.addButton(texts("cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        self.all_fields_button = QPushButton(texts("connection_settings"))
        self.all_fields_button.setObjectName("connection_settings")
        self.all_fields_button.setCheckable(True)
        self.all_fields_button.setAutoDefault(False)  # Enter always means Connect
        self.all_fields_button.toggled.connect(self._show_all_fields)
        self._show_all_fields(False)
        self.pc_info_button = QPushButton(texts("pc_info_button"))
        self.pc_info_button.setObjectName("pc_info_button")
        self.pc_info_button.setAutoDefault(False)
        self.pc_info_button.clicked.connect(self.show_pc_info)
        self.pc_info: PcInfoDialog | None = None
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self._cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        extras = QHBoxLayout()
        extras.addWidget(self.all_fields_button)
        extras.addWidget(self.pc_info_button)
        extras.addStretch(1)
        layout.addLayout(extras)
        # Nothing to reveal when every field is asked for (a first run with no installer file).
        self.all_fields_button.setVisible(len(self.asked) < len(CONNECTION_FIELDS))
        layout.addWidget(self.message)
        wake_row = QHBoxLayout()
        wake_row.addWidget(self.wake_button)
        wake_row.addStretch(1)
        layout.addLayout(wake_row)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)
        self.busy = False
        self.otp_optional = False  # see allow_empty_otp
        first_missing = next(iter(self.fields.values()), None)
        self.setFocusProxy(first_missing or self.otp)
        (first_missing or self.otp).setFocus()

    @property
    def fields(self) -> dict[str, QLineEdit]:
        """The connection fields on show: those the settings lack, or all of them."""
        showing_all = self.all_fields_button.isChecked()
        return {n: e for n, e in self.edits.items() if showing_all or n in self.asked}

    def show_pc_info(self) -> PcInfoDialog:
        """「このPCの情報」: this home PC's code, name and MAC addresses, to register it."""
        if self.pc_info is None:
            self.pc_info = PcInfoDialog(self.texts, self.macs, self, device_code=self.device_code)
        self.pc_info.open()
        return self.pc_info

    def _show_all_fields(self, on: bool) -> None:
        for name, edit in self.edits.items():
            self.form.setRowVisible(edit, on or name in self.asked)

    def entered(self) -> Settings:
        # Hidden fields hold the settings' values, so this is the settings with any edits.
        return Settings(**{name: edit.text().strip() for name, edit in self.edits.items()})

    def submit(self) -> None:
        self._submit(wake=False)

    def submit_wake(self) -> None:
        """Connect and have the office PC woken (the button the HOST_OFFLINE refusal offers)."""
        self._submit(wake=True)

    def _submit(self, wake: bool) -> None:
        if self.busy:
            return
        settings, otp = self.entered(), self.otp.text().strip()
        problem = form_problem(settings, otp, otp_required=not self.otp_optional)
        if problem is not None:  # the OTP typed stays: only the form's shape is wrong
            key, values = problem
            if values.get("field") != FIELD_LABELS["otp"]:
                self.all_fields_button.setChecked(True)  # the wrong field may be a hidden one
            if "field" in values:
                values = {"field": self.texts(values["field"])}
            self.message.setText(self.texts(key, **values))
            return
        self.show_error("")
        self.set_busy(True)
        (self.wakeRequested if wake else self.submitted).emit(settings, otp)

    def _cancel(self) -> None:
        self.cancelled.emit()

    def accept(self) -> None:  # Enter: connect, but never close the dialog by itself
        self.submit()

    def reject(self) -> None:  # Escape / window close
        self.cancelled.emit()

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        for widget in [*self.edits.values(), self.otp, self.all_fields_button]:
            widget.setEnabled(not busy)
        self.connect_button.setEnabled(not busy)
        if not busy:
            self.progress.setText("")
            # While busy, focus fell to Cancel, which (autoDefault) took over Enter: give
            # Enter back to Connect, or the next Enter would quit instead of connecting.
            self.connect_button.setDefault(True)

    def show_progress(self, text: str) -> None:
        self.progress.setText(text)

    def offer_wake(self, offered: bool) -> None:
        """Show 「職場PCを起動する」 under the message (until the next message or submit)."""
        self.wake_button.setVisible(offered)
        self.wake_button.setEnabled(offered)

    def allow_empty_otp(self, allowed: bool) -> None:
        """Whether Connect may go without an OTP (a refusal's ticket stands in for one)."""
        self.otp_optional = allowed

    def _fit_message(self) -> None:
        """Grow the dialog so a message of several lines shows whole (a refusal with a home-PC
        code and MAC addresses is longer than the dialog's first size), never shrinking it."""
        layout = self.layout()
        if layout is not None:
            layout.activate()
        wanted = self.sizeHint().expandedTo(self.size())
        needed = self.message.heightForWidth(self.message.width()) - self.message.height()
        if needed > 0:
            wanted.setHeight(max(wanted.height(), self.height() + needed))
        self.resize(wanted)

    def show_error(self, text: str) -> None:
        """Show why it did not work and make the dialog ready for a new OTP (any offer to wake
        the office PC goes with the message it came with)."""
        self.offer_wake(False)
        self.message.setText(text)
        self._fit_message()
        if text:
            self.set_busy(False)
            self.otp.clear()
            self.otp.setFocus()
