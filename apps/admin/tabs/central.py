"""The central registration tab: the municipality's signing key on this PC, and each office PC's
central list of home PCs, signed here and uploaded.

The key is created here (Ed25519), sealed by a passphrase the admin chooses, and kept in the
console's config directory (:mod:`apps.admin.signing_keys`); only its public half goes to the
relay. Registering a home-PC code for an office PC reads the office PC's current signed list
from the relay, checks that this key signed it (a relay that slipped in an entry would be caught
here, not re-signed), adds or removes the code, asks the passphrase, signs the new list with a
higher serial and uploads it; the relay pushes it to the office PC, which checks it again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from apps.admin.failures import InputMissing
from apps.admin.signing_keys import SigningKeys
from apps.admin.tabs.base import Picker, Tab, pc_label
from apps.admin.texts import tr
from apps.common.fields import HOST_ID_SAMPLE
from core.hostpolicy.devices import DeviceRegistry, format_device_code
from core.hostpolicy.signed_devices import (
    MIN_PASSPHRASE_CHARS,
    UNKNOWN_KEY,
    CentralDeviceList,
    SignedDeviceList,
    SignedListError,
    TenantKeyFile,
    check_passphrase,
    group_key_fingerprint,
    next_serial,
    open_device_list,
    sign_device_list,
)
from core.policy import PolicyError

if TYPE_CHECKING:
    from apps.admin.window import MainWindow


def _secret_field() -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


class PassphraseDialog(QDialog):
    """The signing key's passphrase: once to use the key, twice (matching) to create it."""

    def __init__(self, parent: QWidget, new: bool) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("passphrase_title"))
        layout = QVBoxLayout(self)
        prompt = QLabel(
            tr("passphrase_new_prompt", minimum=MIN_PASSPHRASE_CHARS)
            if new
            else tr("passphrase_prompt")
        )
        prompt.setWordWrap(True)
        layout.addWidget(prompt)
        form = QFormLayout()
        self.passphrase = _secret_field()
        form.addRow(tr("field_passphrase"), self.passphrase)
        self.repeat: QLineEdit | None = None
        if new:
            self.repeat = _secret_field()
            form.addRow(tr("field_repeat_passphrase"), self.repeat)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        buttons.addButton(tr("passphrase_ok"), QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(tr("cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _check(self) -> None:
        if self.repeat is not None:
            if self.passphrase.text() != self.repeat.text():
                self.error.setText(tr("passphrase_mismatch"))
                return
            try:
                check_passphrase(self.passphrase.text())
            except SignedListError:
                weak = tr("signing_error_weak_passphrase", minimum=MIN_PASSPHRASE_CHARS)
                self.error.setText(weak)
                return
        self.accept()


class CentralTab(Tab):
    def __init__(self, window: MainWindow, keys: SigningKeys | None = None) -> None:
        super().__init__(window)
        self.keys = keys or SigningKeys()
        hint = QLabel(tr("central_hint"))
        hint.setWordWrap(True)
        self.layout_.addWidget(hint)
        self.key_status = QLabel()
        self.key_status.setWordWrap(True)
        self.key_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layout_.addWidget(self.key_status)
        self.row(
            self.button("create_signing_key", self.ask_create_key, needs="put_signing_key"),
            self.button("import_signing_key", self.ask_import_key, needs="put_signing_key"),
            self.button("export_signing_key", self.ask_export_key),
        )
        self.pc = Picker(tr("owner_hint"), widest=f"税務課 窓口1 ({HOST_ID_SAMPLE})")
        self.pc.activated.connect(lambda _: self.window_.spawn(self.show_list(self.pc.key())))
        self.code = QLineEdit()
        self.code.setPlaceholderText(tr("central_code_hint"))
        self.label = QLineEdit()
        self.label.setPlaceholderText(tr("label_hint"))
        self.row(
            QLabel(tr("pick_pc")),
            self.pc,
            self.code,
            self.label,
            self.button(
                "add",
                lambda: self.register(self.pc.key(), self.code.text(), self.label.text()),
                needs="put_device_list",
            ),
            self.button(
                "delete",
                lambda: self.unregister(self.pc.key(), self.table_code()),
                needs="put_device_list",
            ),
        )
        self.table = self.searchable_table([tr("col_home_pc_code"), tr("col_label")])
        # Asks the signing key's passphrase (new: to create it); None if the admin cancelled.
        self.ask_passphrase: Callable[[bool], Awaitable[str | None]] = self._ask_passphrase
        self.forget()

    def forget(self) -> None:
        self.table.fill([], [])
        self.pcs: dict[str, dict[str, Any]] = {}
        self.pc.set_choices([])
        self.key_status.clear()

    # -- the signing key ------------------------------------------------------------------------
    def key_file(self) -> TenantKeyFile | None:
        """The selected municipality's signing key on this PC."""
        try:
            return self.keys.load(self.window_.tenant)
        except (OSError, SignedListError):
            return None

    def _show_key(self, relay_key: dict[str, Any] | None = None) -> None:
        key_file = self.key_file()
        if key_file is None:
            self.key_status.setText(tr("signing_key_none"))
            return
        text = tr("signing_key_here", fingerprint=group_key_fingerprint(key_file.fingerprint))
        if relay_key is not None and relay_key.get("fingerprint") != key_file.fingerprint:
            text += "\n" + tr("signing_key_not_uploaded")
        self.key_status.setText(text)

    async def ask_create_key(self) -> None:
        passphrase = await self.ask_passphrase(True)
        if passphrase is not None:
            await self.create_key(passphrase)

    async def create_key(self, passphrase: str) -> TenantKeyFile:
        """Create the municipality's signing key, keep it on this PC and upload its public
        half; replacing another one is asked first (office PCs pinned it)."""
        tenant = self.window_.tenant
        current = await self.call("GET", "signing-key")
        replace = current["public_key"] is not None
        if replace and not await self.confirmed(
            "confirm_replace_signing_key",
            fingerprint=group_key_fingerprint(current["fingerprint"]),
        ):
            return self._require_key()
        key_file = _checked(lambda: TenantKeyFile.create(tenant, passphrase))
        self.keys.save(key_file)  # first: a key uploaded but lost here would be useless
        await self.upload_key(key_file, replace)
        self.window_.report(
            tr("signing_key_created", fingerprint=group_key_fingerprint(key_file.fingerprint))
        )
        return key_file

    async def upload_key(self, key_file: TenantKeyFile, replace: bool = False) -> None:
        body = {"public_key": key_file.public_key, "replace": replace}
        await self.call("PUT", "signing-key", body=body)
        self._show_key({"fingerprint": key_file.fingerprint})

    async def ask_import_key(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, tr("import_signing_key"), "", "JSON (*.json)")
        if name:
            await self.import_key(Path(name))

    async def import_key(self, path: Path) -> TenantKeyFile:
        """Take another admin's export of the municipality's key as this PC's."""
        key_file = _checked(lambda: SigningKeys.read(path, self.window_.tenant))
        self.keys.save(key_file)
        relay_key = await self.call("GET", "signing-key")
        if relay_key["public_key"] is None:
            await self.upload_key(key_file)
        self._show_key(relay_key if relay_key["public_key"] else None)
        self.window_.report(
            tr("signing_key_imported", fingerprint=group_key_fingerprint(key_file.fingerprint))
        )
        return key_file

    async def ask_export_key(self) -> None:
        self._require_key()
        path = self.ask_save_path("export_signing_key", "signing-key.json", "JSON (*.json)")
        if path is not None:
            await self.export_key(path)

    async def export_key(self, path: Path) -> Path:
        SigningKeys.write(path, self._require_key())
        self.window_.report(tr("saved_to", path=path))
        return path

    def _require_key(self) -> TenantKeyFile:
        key_file = self.key_file()
        if key_file is None:
            raise InputMissing(tr("signing_key_none"))
        return key_file

    # -- the office PCs' central lists ----------------------------------------------------------
    async def refresh(self) -> None:
        relay_key = await self.call("GET", "signing-key")
        self.pcs = {pc["host_id"]: pc for pc in await self.office_pcs()}
        self.pc.set_choices([(pc_label(pc), host_id) for host_id, pc in self.pcs.items()])
        self._show_key(relay_key)

    async def current(self, host_id: str) -> tuple[DeviceRegistry, int]:
        """The office PC's central list as the relay keeps it, checked against this PC's key
        (never re-signed blindly), and its serial (0: none yet)."""
        if not host_id:
            raise InputMissing(tr("select_pc_first"))
        key_file = self._require_key()
        answer = await self.call("GET", "hosts", host_id, "device-list")
        if answer["signed"] is None:
            return DeviceRegistry(), 0
        try:
            central = open_device_list(
                SignedDeviceList.from_json(answer["signed"]), key_file.fingerprint
            )
        except SignedListError as exc:
            # Signed by the municipality's previous key (it was replaced): its entries count
            # only on office PCs still pinned to that key. Start a new list, if the admin agrees.
            if exc.reason == UNKNOWN_KEY and await self.confirmed("confirm_new_central_list"):
                return DeviceRegistry(), 0
            raise InputMissing(_refusal_text(exc)) from None
        return DeviceRegistry(devices=central.devices), central.serial

    async def show_list(self, host_id: str) -> None:
        registry, _ = await self.current(host_id)
        self.table.fill(
            [[format_device_code(d.code), d.label] for d in registry.devices],
            [d.code for d in registry.devices],
        )

    def table_code(self) -> str:
        key = self.table.selected_key()
        if key is None:
            raise InputMissing(tr("central_select_code"))
        return str(key)

    async def register(self, host_id: str, code: str, label: str = "") -> dict[str, Any] | None:
        """Add ``code`` (as typed) to the office PC's central list, signed here."""
        try:
            DeviceRegistry().with_device(code)
        except PolicyError:
            raise InputMissing(tr("central_invalid_code")) from None
        registry, serial = await self.current(host_id)
        answer = await self._sign_and_upload(host_id, registry.with_device(code, label), serial)
        if answer is not None:
            self.code.clear()
            self.label.clear()
        return answer

    async def unregister(self, host_id: str, code: str) -> dict[str, Any] | None:
        registry, serial = await self.current(host_id)
        kept = registry.without(code)
        if kept is None:
            raise InputMissing(tr("central_select_code"))
        return await self._sign_and_upload(host_id, kept, serial, removed=code)

    async def _sign_and_upload(
        self, host_id: str, registry: DeviceRegistry, serial: int, removed: str = ""
    ) -> dict[str, Any] | None:
        key_file = self._require_key()
        passphrase = await self.ask_passphrase(False)
        if passphrase is None:
            return None
        now = time.time()
        central = CentralDeviceList(
            self.window_.tenant, host_id, next_serial(serial, now), int(now), registry.devices
        )
        # Off the event loop: opening the key runs scrypt, which takes a moment.
        signed = await asyncio.to_thread(
            _checked, lambda: sign_device_list(central, key_file.unseal(passphrase))
        )
        answer: dict[str, Any] = await self.call(
            "PUT", "hosts", host_id, "device-list", body=signed.to_json()
        )
        pc = pc_label(self.pcs[host_id]) if host_id in self.pcs else host_id
        code = format_device_code(removed or registry.devices[-1].code)
        done = tr("central_removed" if removed else "central_registered", code=code, pc=pc)
        pushed = tr("central_pushed" if answer.get("pushed") else "central_not_online")
        self.window_.report(f"{done} {pushed}")
        await self.show_list(host_id)
        return answer

    async def _ask_passphrase(self, new: bool) -> str | None:
        """The passphrase dialog, modal to the window, opened and awaited (see
        :meth:`MainWindow.ask`)."""
        dialog = PassphraseDialog(self, new)
        closed: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

        def finished(result: int) -> None:
            if not closed.done():
                accepted = result == QDialog.DialogCode.Accepted
                closed.set_result(dialog.passphrase.text() if accepted else None)

        dialog.finished.connect(finished)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.show()
        try:
            return await closed
        finally:
            dialog.deleteLater()


def _checked[T](make: Callable[[], T]) -> T:
    """``make()``, its SignedListError worded for the admin (nothing was sent or saved)."""
    try:
        return make()
    except SignedListError as exc:
        raise InputMissing(_refusal_text(exc)) from None


def _refusal_text(exc: SignedListError) -> str:
    key = f"signing_error_{exc.reason}"
    if tr.knows(key):
        return tr(key, minimum=MIN_PASSPHRASE_CHARS)
    return tr("signing_error_other", reason=exc.reason)
