"""「このPCの情報」: what the admin needs to register this home PC, to read out or copy.

The office PC lets in only a home PC whose code (its viewer's key) and MAC address were
registered; staff cannot be expected to find these in the OS's settings, so the viewer shows
them.
"""

from __future__ import annotations

import socket

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from apps.viewer.texts import Texts


def pc_info_text(texts: Texts, macs: list[str], computer: str, device_code: str = "") -> str:
    """The facts as plain text (what the copy button copies): the home-PC code (its viewer's
    key, which the office PC registers), the PC's name and its MACs."""
    lines = [texts("pc_info_device_code", code=device_code)] if device_code else []
    lines += [texts("pc_info_computer", name=computer), texts("pc_info_macs_heading")]
    lines += [f"  {mac}" for mac in macs] or [f"  {texts('pc_info_no_mac')}"]
    return "\n".join(lines)


class PcInfoDialog(QDialog):
    """This home PC's name and MAC addresses, selectable, with a button that copies them."""

    def __init__(
        self,
        texts: Texts,
        macs: list[str],
        parent: QWidget | None = None,
        computer: str | None = None,
        device_code: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(texts("pc_info_title"))
        self.text = pc_info_text(texts, macs, computer or socket.gethostname(), device_code)
        explanation = QLabel(texts("pc_info_explanation"))
        explanation.setWordWrap(True)
        self.facts = QPlainTextEdit(self.text)
        self.facts.setObjectName("pc_info")
        self.facts.setReadOnly(True)
        self.facts.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        metrics = self.facts.fontMetrics()
        longest = max(self.text.splitlines(), key=metrics.horizontalAdvance)
        self.facts.setMinimumWidth(metrics.horizontalAdvance(longest) + 40)
        lines = self.text.count("\n") + 1
        self.facts.setMinimumHeight(metrics.lineSpacing() * (lines + 1) + 12)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton(
            texts("pc_info_copy"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setText(texts("close"))
        self.copied = QLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addWidget(self.facts)
        layout.addWidget(self.copied)
        layout.addWidget(buttons)
        self._texts = texts

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text)
        self.copied.setText(self._texts("pc_info_copied"))
