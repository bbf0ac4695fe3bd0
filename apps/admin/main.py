"""``telework-admin``: sign in, then the console window, on a qasync (Qt + asyncio) loop."""

from __future__ import annotations

import asyncio
import os
import sys

import qasync
from PySide6.QtCore import QLocale
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
)

from apps.admin.api import AdminClient, ApiFailure
from apps.admin.texts import set_language, tr
from apps.admin.window import MainWindow

ENV_URL = "TELEWORK_ADMIN_URL"
ENV_FINGERPRINT = "TELEWORK_ADMIN_FINGERPRINT"


class LoginDialog(QDialog):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(tr("login_title"))
        form = QFormLayout(self)
        self.url = QLineEdit(os.environ.get(ENV_URL, "https://127.0.0.1:8444"))
        self.fingerprint = QLineEdit(os.environ.get(ENV_FINGERPRINT, ""))
        self.login = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.otp = QLineEdit()
        self.message = QLabel()
        for key, field in (
            ("field_url", self.url),
            ("field_fingerprint", self.fingerprint),
            ("field_login", self.login),
            ("field_password", self.password),
            ("field_otp", self.otp),
        ):
            form.addRow(tr(key), field)
        form.addRow(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


async def open_console(
    url: str, fingerprint: str, login: str, password: str, otp: str
) -> MainWindow:
    """Sign in and build the window (also what the tests drive)."""
    client = AdminClient(url, fingerprint)
    try:
        session = await client.sign_in(login, password, otp)
        tenants = [t["name"] for t in (await client.call("GET", "/api/v1/tenants"))["tenants"]]
    except BaseException:
        await client.close()
        raise
    if session.get("tenant"):
        tenants = [session["tenant"]]
    window = MainWindow(client, tenants)
    await window.refresh_all()
    return window


async def _run(app: QApplication) -> int:
    while True:
        dialog = LoginDialog()
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return 0
        try:
            window = await open_console(
                dialog.url.text(),
                dialog.fingerprint.text(),
                dialog.login.text(),
                dialog.password.text(),
                dialog.otp.text(),
            )
            break
        except (ApiFailure, ValueError) as exc:
            message = exc.message if isinstance(exc, ApiFailure) else str(exc)
            dialog.message.setText(tr("error", message=message))
    window.resize(1000, 700)
    window.show()
    window.start_live_refresh()
    closed = asyncio.Event()
    app.lastWindowClosed.connect(closed.set)
    await closed.wait()
    await window.client.sign_out()
    await window.client.close()
    return 0


def main() -> int:
    app = QApplication(sys.argv)
    set_language(QLocale.system().name())
    app.setApplicationName(tr("app_title"))
    return int(qasync.run(_run(app)))


if __name__ == "__main__":
    sys.exit(main())
