"""The account menu's 「パスワードを変更…」: the admin's current password, the new one twice.

What went wrong stays in the dialog, in words (the current password is wrong, the new one too
short, the two do not match...), so the admin can correct it there; once changed, the window's
status bar says so and how many other sign-ins of theirs ended."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from apps.admin.api import ApiFailure
from apps.admin.failures import describe_failure
from apps.admin.texts import tr
from core.auth.passwords import MIN_CHOSEN_PASSWORD_CHARS

if TYPE_CHECKING:
    from apps.admin.window import MainWindow


def _password_field() -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


class PasswordDialog(QDialog):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle(tr("password_title"))
        layout = QVBoxLayout(self)
        self.rules = QLabel(tr("password_rules", minimum=MIN_CHOSEN_PASSWORD_CHARS))
        self.rules.setWordWrap(True)
        layout.addWidget(self.rules)
        form = QFormLayout()
        self.current = _password_field()
        self.new = _password_field()
        self.repeat = _password_field()
        form.addRow(tr("field_current_password"), self.current)
        form.addRow(tr("field_new_password"), self.new)
        form.addRow(tr("field_repeat_password"), self.repeat)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.ok_button = buttons.addButton(
            tr("password_change_ok"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        buttons.addButton(tr("cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(lambda: self.window_.spawn(self.submit(), by_user=True))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _fail(self, message: str) -> bool:
        self.error.setText(message)
        return False

    async def submit(self) -> bool:
        """Change the password as typed; False (the reason shown here) if it was not."""
        current, new = self.current.text(), self.new.text()
        if not current or not new:
            return self._fail(tr("password_missing"))
        if new != self.repeat.text():
            return self._fail(tr("password_mismatch"))
        self.error.clear()
        self.ok_button.setEnabled(False)
        try:
            answer = await self.window_.client.change_password(current, new)
        except ApiFailure as exc:  # a refusal, or the relay not reached: told here
            return self._fail(describe_failure(exc))
        finally:
            self.ok_button.setEnabled(True)
        self.window_.report(tr("password_changed", count=answer.get("sign_ins_ended", 0)))
        self.accept()
        return True

    def done(self, result: int) -> None:
        for field in (self.current, self.new, self.repeat):
            field.clear()  # no password stays in a hidden dialog
        self.error.clear()
        super().done(result)
