"""The office PCs tab: enrolled PCs, enrolment codes (with their QR code and printable sheet),
renaming, retiring, and which office PCs may wake others (Wake-on-LAN: the relay asks one that
stays on, on the sleeping PC's LAN, to send the magic packet; the list shows each PC's network
card as it last reported it).

An enrolment code carries all an office PC needs to enrol: the relay's address as office PCs
reach it (typed once here; by default the admin API's host on the relay's usual port), the
relay's fingerprint (the one this console pinned: the relay and its admin API share one
certificate), a new enrolment token and the tenant."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QGuiApplication, QImage, QPixmap, QTextOption
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)
from yarl import URL

from apps.admin.failures import InputMissing
from apps.admin.qr import EnrolmentSheet, print_enrolment_sheet, qr_image, sheet_printer
from apps.admin.tabs.base import Tab, labelled, when
from apps.admin.texts import tr
from apps.common.enrolment_code import EnrolmentCode
from apps.common.fields import ADDRESS_SAMPLE, TOKEN_SAMPLE, show_whole
from apps.common.preset import VIEWER_PRESET, preset_json
from core.errors import Error
from storage.atomic import DEFAULT_FILE_MODE, write_atomically
from transport.connect import parse_host_port

if TYPE_CHECKING:
    from apps.admin.window import MainWindow

# Where the relay listens for office PCs and viewers unless its operator chose otherwise
# (``telework-relay serve --listen``, installers/linux/telework-relay.service).
DEFAULT_RELAY_PORT = 8443


def default_relay_address(api_url: str) -> str:
    """The relay as office PCs likely reach it: the admin API's host, the relay's usual port."""
    host = URL(api_url).host or ""
    if not host:
        return ""
    return f"[{host}]:{DEFAULT_RELAY_PORT}" if ":" in host else f"{host}:{DEFAULT_RELAY_PORT}"


def lan_card_text(host: dict[str, Any]) -> str:
    """The network card an office PC last reported, as MAC and IPv4 address/prefix; "" if it
    reported none (not connected since its agent could, or not on an IPv4 LAN)."""
    parts = [str(host[key]) for key in ("lan_mac", "lan_address") if host.get(key)]
    return "  ".join(parts)


class HostsTab(Tab):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.table = self.searchable_table(
            [
                tr("col_host_id"),
                tr("col_name"),
                tr("col_online"),
                tr("col_version"),
                tr("col_last_seen"),
                tr("col_last_session"),
                tr("col_can_wake"),
                tr("col_lan_card"),
                tr("col_central_macs"),
            ]
        )
        self.name = QLineEdit()
        self.name.setPlaceholderText(tr("new_pc_name_hint"))
        self.row(
            self.name,
            self.button(
                "rename",
                lambda: self.rename(self.table.selected_key(), self.name.text()),
                needs="patch_host",
            ),
            self.button(
                "retire", lambda: self.retire(self.table.selected_key()), needs="retire_host"
            ),
        )
        self.row(
            self.button(
                "allow_wake",
                lambda: self.set_can_wake(self.table.selected_key(), True),
                needs="patch_host",
            ),
            self.button(
                "stop_wake",
                lambda: self.set_can_wake(self.table.selected_key(), False),
                needs="patch_host",
            ),
            self.button(
                "central_macs_off",
                lambda: self.central_macs_off(self.table.selected_key()),
                needs="patch_host",
            ),
        )

        # Enrolment: where office PCs reach the relay, then the code, its QR code, its sheet.
        self.relay_address = show_whole(
            QLineEdit(default_relay_address(self.api.url)), ADDRESS_SAMPLE
        )
        self.relay_address.setPlaceholderText(tr("relay_for_pcs_hint"))
        self.row(
            labelled(tr("relay_for_pcs"), self.relay_address),
            self.relay_address,
            self.button("new_token", self.new_token, needs="enrollment_token"),
            self.button("export_preset", self.ask_export_preset),
        )
        enrolment = QGridLayout()
        self.qr_label = QLabel()
        enrolment.addWidget(self.qr_label, 0, 0)
        code_column = QVBoxLayout()
        code_column.addWidget(QLabel(tr("enrolment_code")))
        # The whole code, wrapped anywhere (it has no spaces) and selectable.
        self.code_view = QPlainTextEdit()
        self.code_view.setReadOnly(True)
        self.code_view.setWordWrapMode(QTextOption.WrapMode.WrapAnywhere)
        self.code_view.setMaximumHeight(self.code_view.fontMetrics().lineSpacing() * 5 + 16)
        code_column.addWidget(self.code_view)
        self.expires_label = QLabel()
        self.expires_label.setWordWrap(True)
        code_column.addWidget(self.expires_label)
        self.copy_code_button = QPushButton(tr("copy_code"))
        self.copy_code_button.clicked.connect(self.copy_code)
        # The sheet on paper through the print dialog (a PDF file is one of its printers) or
        # straight to a PDF file, as the staff sheets. Where the print dialog comes from:
        # tests replace it.
        self.choose_printer: Callable[[QPrinter], Awaitable[bool]] = self.ask_printer
        self.print_button = self.button("print_enrolment_sheet", self.print_on_paper)
        self.pdf_button = self.button("save_sheet_pdf", self._ask_pdf)
        code_column.addWidget(self.copy_code_button)
        code_column.addWidget(self.print_button)
        code_column.addWidget(self.pdf_button)
        code_column.addStretch(1)
        enrolment.addLayout(code_column, 0, 1)
        enrolment.setColumnStretch(1, 1)
        self.layout_.addLayout(enrolment)
        # The token alone, for an office PC set up by hand (telework-host --enroll TOKEN).
        self.token = show_whole(QLineEdit(), TOKEN_SAMPLE)
        self.token.setReadOnly(True)
        copy = QPushButton(tr("copy_token"))
        copy.clicked.connect(self.copy_token)
        self.row(labelled(tr("token_only"), self.token), self.token, copy)
        self.forget()

    def forget(self) -> None:
        self.hosts: list[dict[str, Any]] = []
        self.table.fill([], [])
        self.token.clear()
        self.sheet: EnrolmentSheet | None = None  # the code last issued, for this tenant
        self.qr: QImage | None = None
        self.qr_label.clear()
        self.code_view.clear()
        self.expires_label.clear()
        self.copy_code_button.setEnabled(False)
        self.print_button.setEnabled(False)
        self.pdf_button.setEnabled(False)

    async def refresh(self) -> None:
        self.hosts = (await self.call("GET", "hosts"))["hosts"]
        self.table.fill(
            [
                [
                    h["display_id"],
                    h["name"],
                    tr("yes") if h["online"] else tr("no"),
                    h["agent_version"],
                    when(h["last_seen_at"]),
                    when(h["last_session_at"]),
                    tr("yes") if h["can_wake"] else tr("no"),
                    lan_card_text(h),
                    tr("central_macs_on") if h["central_macs"] else tr("central_macs_unused"),
                ]
                for h in self.hosts
            ],
            [h["host_id"] for h in self.hosts],
        )

    def _relay_for_pcs(self) -> str:
        relay = self.relay_address.text().strip()
        try:
            parse_host_port(relay)
        except Error as exc:
            raise InputMissing(tr("relay_for_pcs_needed")) from exc
        return relay

    async def ask_export_preset(self) -> Path | None:
        """「設定ファイルを書き出す」: the relay, its fingerprint and this municipality in one
        preset file (``viewer.json``) that installers drop beside the viewer or the office
        PC's program (as ``host.json``) or in /etc/telework, so nobody types them."""
        relay = self._relay_for_pcs()
        path = self.ask_save_path("export_preset", VIEWER_PRESET, "JSON (*.json)")
        if path is None:
            return None
        preset = preset_json(relay, self.api.fingerprint, self.window_.tenant)
        write_atomically(path, preset.encode("utf-8"), mode=DEFAULT_FILE_MODE)
        self.window_.report(tr("saved_to", path=path))
        return path

    async def new_token(self) -> str:
        """Issue an enrolment token and show it as an enrolment code, its QR code and sheet."""
        relay = self._relay_for_pcs()
        tenant = self.window_.tenant
        answer = await self.call("POST", "enrollment-tokens", body={})
        token = str(answer["token"])
        # The municipality's signing key on this PC, for the office PC to pin: from here, not
        # from the relay, so a relay cannot slip its own key into the code.
        key_file = self.window_.central.key_file()
        tenant_key = key_file.fingerprint if key_file else ""
        code = EnrolmentCode(relay, self.api.fingerprint, token, tenant, tenant_key)
        self.sheet = EnrolmentSheet(code, time.time(), float(answer["expires_at"]))
        self.token.setText(token)
        self.code_view.setPlainText(self.sheet.text)
        self.qr = qr_image(self.sheet.text, scale=4)
        self.qr_label.setPixmap(QPixmap.fromImage(self.qr))
        self.expires_label.setText(tr("code_expires", time=when(answer["expires_at"])))
        self.copy_code_button.setEnabled(True)
        self.print_button.setEnabled(True)
        self.pdf_button.setEnabled(True)
        self.window_.report(tr("token_issued"))
        return token

    def copy_code(self) -> None:
        if self.sheet is not None:
            QGuiApplication.clipboard().setText(self.sheet.text)
            self.window_.report(tr("code_copied"))

    def copy_token(self) -> None:
        QGuiApplication.clipboard().setText(self.token.text())
        self.window_.report(tr("token_copied"))

    def print_sheet(self, path: Path) -> Path | None:
        """The enrolment sheet of the code issued last, as a PDF; None if there is none."""
        if self.sheet is None:
            return None
        print_enrolment_sheet(sheet_printer(path), self.sheet)
        return path

    async def print_on_paper(self) -> bool:
        """「登録シートを印刷…」: the print dialog (its printers include a PDF file), then the
        sheet on the printer chosen; False if the admin cancelled."""
        if self.sheet is None:
            raise InputMissing(tr("nothing_to_print"))
        sheet = self.sheet
        printer = sheet_printer()
        if not await self.choose_printer(printer):
            return False
        print_enrolment_sheet(printer, sheet)
        if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat:
            self.window_.report(tr("saved_to", path=printer.outputFileName()))
        else:
            self.window_.report(tr("enrolment_sheet_printed"))
        return True

    async def _ask_pdf(self) -> None:
        path = self.ask_save_path("save_sheet_pdf", "enrolment-sheet.pdf", "PDF (*.pdf)")
        if path is not None and self.print_sheet(path) is not None:
            self.window_.report(tr("saved_to", path=path))

    def name_of(self, host_id: str) -> str:
        """The office PC as the admin knows it: its name, else its ID as displayed."""
        for host in self.hosts:
            if host["host_id"] == host_id:
                return str(host["name"] or host["display_id"])
        return host_id

    async def rename(self, host_id: str | None, name: str) -> None:
        if host_id:
            await self.call("PATCH", "hosts", host_id, body={"name": name})
            self.window_.report(tr("host_renamed", name=name))
            await self.refresh()

    async def set_can_wake(self, host_id: str | None, can_wake: bool) -> None:
        """Let the selected office PC wake others of its LAN, or stop it (nothing to confirm:
        it only lets the relay ask it to send a magic packet)."""
        if not host_id:
            raise InputMissing(tr("select_pc_first"))
        await self.call("PATCH", "hosts", host_id, body={"can_wake": can_wake})
        name = self.name_of(host_id)
        self.window_.report(tr("host_can_wake" if can_wake else "host_cannot_wake", name=name))
        await self.refresh()

    async def central_macs_off(self, host_id: str | None) -> None:
        """Switch the selected office PC's central MAC check off, once its central list is
        empty (the relay refuses it before): from then on only its own list decides. Asked
        first, since it widens who may connect."""
        if not host_id:
            raise InputMissing(tr("select_pc_first"))
        name = self.name_of(host_id)
        if await self.confirmed("confirm_central_macs_off", name=name):
            await self.call("PATCH", "hosts", host_id, body={"central_macs": False})
            self.window_.report(tr("host_central_macs_off", name=name))
            await self.refresh()

    async def retire(self, host_id: str | None) -> None:
        if not host_id:
            return
        name = self.name_of(host_id)
        if await self.confirmed("confirm_retire_host", name=name):
            await self.call("DELETE", "hosts", host_id)
            self.window_.report(tr("host_retired", name=name))
            await self.refresh()
