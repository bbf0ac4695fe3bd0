"""``telework-admin``: sign in, then the console window, on a qasync (Qt + asyncio) loop."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys

import qasync
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
)

from apps.admin.api import AdminClient, ApiFailure
from apps.admin.failures import describe_failure
from apps.admin.texts import tr
from apps.admin.window import MainWindow
from apps.common.fields import FINGERPRINT_SAMPLE, URL_SAMPLE, show_whole
from apps.common.qt_startup import start_app
from core.admin_api import API_PREFIX

ENV_URL = "TELEWORK_ADMIN_URL"
ENV_FINGERPRINT = "TELEWORK_ADMIN_FINGERPRINT"
DEFAULT_URL = "https://127.0.0.1:8444"


class LoginDialog(QDialog):
    """The sign-in form. After a refusal the same dialog is asked again, saying why and
    keeping what the user typed, but for the password and the one-time password."""

    def __init__(self, url: str = "", fingerprint: str = "", login: str = "") -> None:
        super().__init__()
        self.setWindowTitle(tr("login_title"))
        form = QFormLayout(self)
        self.url = show_whole(QLineEdit(url or os.environ.get(ENV_URL, DEFAULT_URL)), URL_SAMPLE)
        self.fingerprint = show_whole(
            QLineEdit(fingerprint or os.environ.get(ENV_FINGERPRINT, "")), FINGERPRINT_SAMPLE, True
        )
        self.login = QLineEdit(login)
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
        self._answer: asyncio.Future[int] | None = None
        self.finished.connect(self._finished)
        self._focus_first_empty()

    def _focus_first_empty(self) -> None:
        # Ask only what is missing: the first empty field gets the focus.
        for field in (self.url, self.fingerprint, self.login, self.password, self.otp):
            if not field.text():
                field.setFocus()
                break

    async def ask(self) -> bool:
        """Show the dialog; True once OK is pressed, False if cancelled. Not ``exec()``: its
        nested Qt event loop would run other asyncio tasks while this one is mid-step."""
        self._answer = asyncio.get_running_loop().create_future()
        self.open()
        return await self._answer == QDialog.DialogCode.Accepted

    def _finished(self, result: int) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(result)

    def refused(self, message: str) -> None:
        """After a failed sign-in: say why, and clear what cannot be reused."""
        self.message.setText(tr("error", message=message))
        self.password.clear()
        self.otp.clear()  # one-time: spent or wrong either way
        self._focus_first_empty()


async def open_console(
    url: str, fingerprint: str, login: str, password: str, otp: str
) -> MainWindow:
    """Sign in and build the window (also what the tests drive); :class:`ApiFailure` if the
    relay refuses or cannot be reached."""
    client = AdminClient(url, fingerprint)
    try:
        session = await client.sign_in(login, password, otp)
        listed = await client.call("GET", f"{API_PREFIX}/tenants")
        tenants = [t["name"] for t in listed["tenants"]]
        if session.get("tenant"):
            tenants = [session["tenant"]]
        window = MainWindow(client, tenants)
        await window.refresh_all()
    except BaseException:
        await client.close()  # the caller may retry: no connection left behind
        raise
    return window


async def sign_in(dialog: LoginDialog) -> MainWindow | None:
    """Ask on ``dialog`` until a sign-in succeeds (the console) or the user cancels (None)."""
    while await dialog.ask():
        try:
            return await open_console(
                dialog.url.text(),
                dialog.fingerprint.text(),
                dialog.login.text(),
                dialog.password.text(),
                dialog.otp.text(),
            )
        except Exception as exc:  # whatever it is, the user can correct and retry
            dialog.refused(describe_failure(exc))
    return None


async def _run(app: QApplication, args: argparse.Namespace) -> int:
    url, fingerprint, login = args.api, args.fingerprint, args.login
    while True:
        window = await sign_in(LoginDialog(url, fingerprint, login))
        if window is None:
            return 0
        window.resize(1000, 700)
        window.show()
        window.start_live_refresh()
        closed = asyncio.Event()
        window.closed.connect(closed.set)
        await closed.wait()
        with contextlib.suppress(ApiFailure):  # the relay forgets a sign-in in time anyway
            await window.client.sign_out()
        await window.client.close()
        if not window.signed_out:
            return 0
        # Signed out: the sign-in again, for this admin or another, the relay filled in.
        url, fingerprint = window.client.url, window.client.fingerprint
        login = str(window.client.session.get("login", ""))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="telework-admin", description=__doc__)
    parser.add_argument("--api", default="", help=f"admin API URL (default {DEFAULT_URL})")
    parser.add_argument("--fingerprint", default="", help="the relay's SHA-256 fingerprint")
    parser.add_argument("--login", default="", help="administrator login")
    parser.add_argument("--lang", choices=("ja", "en"), help="language (default: the OS's)")
    return parser.parse_args(argv)


def main() -> int:
    args = parse_args(sys.argv[1:])  # before Qt, so --help works without a display
    app = QApplication(sys.argv[:1])
    # The sign-in dialog closes before the console opens: that must not end the app (and
    # with it the asyncio loop under our coroutine). _run ends when the console is closed.
    app.setQuitOnLastWindowClosed(False)
    start_app(app, "telework-admin", args.lang)
    app.setApplicationName(tr("app_title"))
    return int(qasync.run(_run(app, args)))


if __name__ == "__main__":
    sys.exit(main())
