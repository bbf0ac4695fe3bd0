"""The console's syslog section (in the monitoring tab): where copies of the tenant's audit
records go, and how the collector's certificate is checked; UDP is marked as unencrypted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
)

from apps.admin.failures import InputMissing
from apps.admin.texts import tr
from core.syslog import MAX_SYSLOG_CA_PEM_BYTES

Call = Callable[..., Awaitable[Any]]


class SyslogBox(QGroupBox):
    """The form; the tab runs its actions (``save``, ``stop``) and shows their outcome."""

    def __init__(self) -> None:
        super().__init__(tr("syslog_title"))
        form = QFormLayout(self)
        self.now = QLabel(tr("syslog_now_none"))
        form.addRow(self.now)
        self.url = QLineEdit()
        self.url.setPlaceholderText(tr("syslog_url_hint"))
        self.url.textChanged.connect(self._show_warning)
        form.addRow(tr("syslog_url"), self.url)
        self.warning = QLabel(tr("syslog_udp_warning"))
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #b00020; font-weight: bold")
        self.warning.hide()
        form.addRow(self.warning)
        self.ca_state = QLabel(tr("syslog_ca_none"))
        self.choose_ca = QPushButton(tr("syslog_choose_ca"))
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_state, 1)
        ca_row.addWidget(self.choose_ca)
        form.addRow(tr("syslog_ca"), ca_row)
        self.fingerprint = QLineEdit()
        self.fingerprint.setPlaceholderText(tr("syslog_fingerprint_hint"))
        form.addRow(tr("syslog_fingerprint"), self.fingerprint)
        self.save_button = QPushButton(tr("syslog_save"))
        self.stop_button = QPushButton(tr("syslog_stop"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        form.addRow(buttons)
        self.ca_pem: str | None = None
        self.choose_ca.clicked.connect(self._choose_ca)

    def forget(self) -> None:
        self.show_collector({"url": None})

    def show_collector(self, answer: dict[str, Any]) -> None:
        """Show the collector as the API answered it."""
        url = answer.get("url")
        if not url:
            self.now.setText(tr("syslog_now_none"))
        elif answer.get("encrypted"):
            self.now.setText(tr("syslog_now", url=url))
        else:
            self.now.setText(tr("syslog_now", url=tr("syslog_now_unencrypted", url=url)))
        if not self.url.hasFocus():
            self.url.setText(url or "")
        self.fingerprint.setText(answer.get("fingerprint") or "")
        self.ca_pem = answer.get("ca_pem")
        self.ca_state.setText(
            tr("syslog_ca_loaded", name="PEM") if self.ca_pem else tr("syslog_ca_none")
        )

    def _show_warning(self) -> None:
        self.warning.setVisible(self.url.text().strip().lower().startswith("udp:"))

    def _choose_ca(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, tr("syslog_ca_file_title"), "", "PEM (*.pem *.crt *.cer);;* (*)"
        )
        if name:
            self.load_ca(Path(name))

    def load_ca(self, path: Path) -> None:
        """Take the collector's CA certificates from a PEM file (checked by the relay)."""
        try:
            data = path.read_bytes()[: MAX_SYSLOG_CA_PEM_BYTES + 1]
            self.ca_pem = data.decode("ascii")
        except (OSError, UnicodeDecodeError) as exc:
            self.ca_pem = None
            self.ca_state.setText(tr("syslog_ca_unreadable", reason=type(exc).__name__))
            return
        self.ca_state.setText(tr("syslog_ca_loaded", name=path.name))

    def body(self) -> dict[str, Any]:
        """What the form says, as the API's body; InputMissing if there is no collector."""
        url = self.url.text().strip()
        if not url:
            raise InputMissing(tr("syslog_url_missing"))
        return {
            "url": url,
            "ca_pem": self.ca_pem if self.ca_pem else None,
            "fingerprint": self.fingerprint.text().strip() or None,
        }
