"""Text fields that show their whole value: wide enough for what they hold, and the value in
their tooltip (a relay address, a fingerprint, a host ID that would otherwise show only its
tail). Shared by the three apps' forms."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLineEdit

# What each kind of field holds at its longest usual size.
FINGERPRINT_SAMPLE = "0" * 64  # SHA-256 in hex
ADDRESS_SAMPLE = "relay.example.lg.jp:65535"
URL_SAMPLE = "https://relay.example.lg.jp:65535"
HOST_ID_SAMPLE = "WWWWW-WWWWW-WWWWW-WWWWW"
TOKEN_SAMPLE = "W" * 43  # 32 bytes in base64url
MAC_SAMPLE = "00-00-00-00-00-00"


def show_whole(edit: QLineEdit, sample: str, fixed_pitch: bool = False) -> QLineEdit:
    """Make ``edit`` at least wide enough for ``sample`` (in a fixed-pitch font if asked: hex
    digits line up to compare) and keep its text in its tooltip as it changes."""
    if fixed_pitch:
        edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    metrics = edit.fontMetrics()
    # The frame and the text margins of the style, and the cursor: a few spaces' worth.
    margin = 4 * metrics.horizontalAdvance(" ") + 16
    edit.setMinimumWidth(metrics.horizontalAdvance(sample) + margin)
    edit.setToolTip(edit.text())
    edit.textChanged.connect(edit.setToolTip)
    return edit


def shows_whole(edit: QLineEdit) -> bool:
    """Whether ``edit`` is wide enough for all of its text (what the tests check)."""
    return edit.fontMetrics().horizontalAdvance(edit.text()) < edit.contentsRect().width() - 8
