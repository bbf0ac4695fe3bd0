"""The Admins tab: the console's own administrators and their roles, and what an operator or a
municipality administrator does to them: add one (a role no higher than their own), disable,
enable, delete, give another role, a new password or authenticator (shown once, the
authenticator as a QR code too), and end every sign-in of theirs at once.

An operator sees every administrator; the others see their municipality's. The list is not
the selected municipality's alone, so answers are never dropped on a switch of municipality;
what was shown once (a password, a secret) still goes off the screen then (:meth:`forget`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit

from apps.admin.api import segment
from apps.admin.failures import InputMissing
from apps.admin.qr import qr_image
from apps.admin.tabs.base import Tab, Table, labelled, when
from apps.admin.texts import role_name, tr
from core.admin_api import API_PREFIX, GRANTABLE_ROLES, AdminRole

if TYPE_CHECKING:
    from apps.admin.window import MainWindow

ADMINS_PATH = f"{API_PREFIX}/admins"


class AdminsTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.table = Table(
            [
                tr("col_admin"),
                tr("col_role"),
                tr("col_municipality"),
                tr("col_state"),
                tr("col_last_sign_in"),
            ],
            sortable=True,
        )
        self.layout_.addWidget(self.table)
        self.new_login = QLineEdit()
        self.new_login.setPlaceholderText(tr("new_admin_hint"))
        self.role = QComboBox()
        mine = next((role for role in AdminRole if role.value == window.role), None)
        for role in GRANTABLE_ROLES.get(mine, frozenset()) if mine else ():
            self.role.addItem(role_name(role), role.value)
        self.row(
            labelled(tr("new_admin"), self.new_login),
            self.new_login,
            labelled(tr("admin_role"), self.role),
            self.role,
            self.button("add_admin", self._add_typed, needs="add_admin"),
            self.button("change_role", self._change_role, needs="patch_admin"),
        )
        self.row(
            self.button(
                "disable",
                lambda: self.set_disabled(self.table.selected_key(), True),
                needs="patch_admin",
            ),
            self.button(
                "enable",
                lambda: self.set_disabled(self.table.selected_key(), False),
                needs="patch_admin",
            ),
            self.button(
                "delete", lambda: self.delete(self.table.selected_key()), needs="delete_admin"
            ),
            self.button(
                "reset_admin_password",
                lambda: self.reset_password(self.table.selected_key()),
                needs="reset_admin_password",
            ),
            self.button(
                "reset_admin_totp",
                lambda: self.reset_totp(self.table.selected_key()),
                needs="reset_admin_totp",
            ),
            self.button(
                "force_sign_out",
                lambda: self.sign_out(self.table.selected_key()),
                needs="sign_out_admin",
            ),
        )
        # What was shown once: whose, the password or the authenticator's secret and QR code.
        self.shown_for = QLabel()
        self.secret = QLabel()
        self.secret.setWordWrap(True)
        self.qr_label = QLabel()
        self.layout_.addWidget(self.shown_for)
        self.row(self.qr_label, self.secret)
        self.forget()

    def forget(self) -> None:
        self.table.fill([], [])
        self._clear_shown()

    def _clear_shown(self) -> None:
        self.qr: QImage | None = None
        self.qr_label.clear()
        self.secret.clear()
        self.shown_for.clear()
        self.shown_login = ""  # whose password or secret is shown

    @staticmethod
    def _chosen(login: str | None) -> str:
        """The selected admin's ID; :class:`InputMissing` if no row is selected."""
        if not login:
            raise InputMissing(tr("select_admin_first"))
        return str(login)

    async def _admin_call(self, method: str, *parts: str, body: Any = None) -> Any:
        path = "/".join([ADMINS_PATH, *(segment(part) for part in parts)])
        return await self.api.call(method, path, body)

    async def refresh(self) -> None:
        admins = (await self._admin_call("GET"))["admins"]
        self.table.fill(
            [
                [
                    a["login"],
                    role_name(a["role"]),
                    a["tenant"] or "-",
                    tr("disabled") if a["disabled"] else tr("enabled"),
                    when(a["last_login_at"]),
                ]
                for a in admins
            ],
            [a["login"] for a in admins],
        )

    async def _add_typed(self) -> None:
        await self.add(self.new_login.text().strip(), str(self.role.currentData() or ""))

    async def add(self, login: str, role: str) -> dict[str, Any]:
        """Add ``login`` with ``role``: to the selected municipality, or none for an operator;
        their initial password and authenticator are shown (once)."""
        if not login:
            raise InputMissing(tr("new_admin_first"))
        body: dict[str, Any] = {"login": login, "role": role}
        if role != AdminRole.OPERATOR:
            body["tenant"] = self.window_.tenant
        answer: dict[str, Any] = await self._admin_call("POST", body=body)
        self.new_login.clear()
        self._show(answer["login"], password=answer["password"], answer=answer)
        self.window_.report(tr("admin_added", login=answer["login"]))
        await self.refresh()
        return answer

    async def _change_role(self) -> None:
        await self.set_role(self.table.selected_key(), str(self.role.currentData() or ""))

    async def set_role(self, login: str | None, role: str) -> None:
        login = self._chosen(login)
        if await self.confirmed("confirm_admin_role", login=login, role=role_name(role)):
            await self._admin_call("PATCH", login, body={"role": role})
            self.window_.report(tr("admin_role_changed", login=login, role=role_name(role)))
            await self.refresh()

    async def set_disabled(self, login: str | None, disabled: bool) -> None:
        login = self._chosen(login)
        if disabled and not await self.confirmed("confirm_disable_admin", login=login):
            return
        await self._admin_call("PATCH", login, body={"disabled": disabled})
        self.window_.report(tr("admin_disabled" if disabled else "admin_enabled", login=login))
        await self.refresh()

    async def delete(self, login: str | None) -> None:
        login = self._chosen(login)
        if await self.confirmed("confirm_delete_admin", login=login):
            await self._admin_call("DELETE", login)
            if login == self.shown_login:  # a deleted admin's secret is of no use to anyone
                self._clear_shown()
            self.window_.report(tr("admin_deleted", login=login))
            await self.refresh()

    async def reset_password(self, login: str | None) -> str | None:
        login = self._chosen(login)
        if not await self.confirmed("confirm_reset_admin_password", login=login):
            return None
        answer = await self._admin_call("POST", login, "password")
        self._show(answer["login"], password=answer["password"])
        self.window_.report(tr("admin_password_reset", login=login))
        return str(answer["password"])

    async def reset_totp(self, login: str | None) -> dict[str, Any] | None:
        login = self._chosen(login)
        if not await self.confirmed("confirm_reset_admin_totp", login=login):
            return None
        answer: dict[str, Any] = await self._admin_call("POST", login, "totp")
        self._show(answer["login"], answer=answer)
        self.window_.report(tr("admin_totp_reset", login=login))
        return answer

    async def sign_out(self, login: str | None) -> int | None:
        login = self._chosen(login)
        if not await self.confirmed("confirm_force_sign_out", login=login):
            return None
        answer = await self._admin_call("POST", login, "sign-out")
        ended = int(answer["sign_ins_ended"])
        self.window_.report(tr("admin_signed_out", login=login, count=ended))
        return ended

    def _show(
        self, login: str, *, password: str = "", answer: dict[str, Any] | None = None
    ) -> None:
        """Show what was issued to ``login`` once (in place of anyone's earlier): the password,
        and the authenticator's secret and QR code."""
        self._clear_shown()
        self.shown_login = login
        self.shown_for.setText(tr("shown_once_for", login=login))
        lines = [tr("admin_password_shown", password=password)] if password else []
        if answer is not None and "otpauth_uri" in answer:
            self.qr = qr_image(answer["otpauth_uri"])
            self.qr_label.setPixmap(QPixmap.fromImage(self.qr))
            lines.append(tr("admin_secret_shown", secret=answer["totp_secret"]))
        self.secret.setText("\n".join(lines))
