"""The tray app: the agent's state as an icon, its menu, notifications, and the MAC editor.

A thin Qt adapter: :class:`AgentBridge` turns the agent's events into a Qt signal,
:class:`TrayController` turns them into icon, tooltip, menu and notifications, and emits
``pause_toggled`` and ``quit_requested`` for the app to act on. Icons are drawn at run time.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QMessageBox,
    QPushButton,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from apps.host.agent import AGENT_VERSION, AgentEvent, AgentOptions, HostAgent, stop_agent
from apps.host.i18n import set_language, tr
from apps.host.wizard import EnrolmentWizard
from core.crypto.certs import format_host_id
from core.errors import Error
from core.hostpolicy.macs import MacList
from core.policy import PolicyError
from transport.client import RefusedByRelay

ICON_SIZE = 64
ICON_COLOURS = {
    "offline": "#9e9e9e",
    "not_enrolled": "#9e9e9e",
    "waiting": "#2e7d32",
    "in_session": "#1565c0",
    "error": "#c62828",
    "paused": "#ef6c00",
}


def draw_icon(state: str) -> QIcon:
    """A monitor shape in the state's colour (a dot in session, a cross on error)."""
    pixmap = QPixmap(ICON_SIZE, ICON_SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = QColor(ICON_COLOURS.get(state, "#9e9e9e"))
    painter.setBrush(colour)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawRoundedRect(4, 8, 56, 38, 6, 6)
    painter.drawRect(26, 46, 12, 8)
    painter.drawRect(16, 54, 32, 4)
    painter.setBrush(QColor("#ffffff"))
    if state == "in_session":
        painter.drawEllipse(24, 19, 16, 16)
    elif state == "error":
        painter.setPen(QColor("#ffffff"))
        painter.drawLine(22, 17, 42, 37)
        painter.drawLine(42, 17, 22, 37)
    painter.end()
    return QIcon(pixmap)


class AgentBridge(QObject):
    """The agent's events as a Qt signal (emitted on the loop's thread, which is Qt's)."""

    event = Signal(object)

    def __init__(self, agent: HostAgent) -> None:
        super().__init__()
        agent.listeners.append(self.event.emit)


class MacListDialog(QDialog):
    """Edit the registered home PCs (the same file ``telework-host allow-mac`` edits)."""

    changed = Signal()

    def __init__(self, macs: MacList, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.macs = macs
        self.setWindowTitle(tr("macs_title"))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(tr("macs_hint")))
        self.list = QListWidget()
        layout.addWidget(self.list)
        row = QHBoxLayout()
        self.mac_edit = QLineEdit()
        self.mac_edit.setPlaceholderText("AA:BB:CC:DD:EE:FF")
        self.label_edit = QLineEdit()
        self.label_edit.setPlaceholderText(tr("mac_label"))
        self.add_button = QPushButton(tr("add"))
        self.remove_button = QPushButton(tr("remove"))
        for widget in (self.mac_edit, self.label_edit, self.add_button, self.remove_button):
            row.addWidget(widget)
        layout.addLayout(row)
        self.error_label = QLabel()
        layout.addWidget(self.error_label)
        close = QPushButton(tr("close"))
        close.clicked.connect(self.accept)
        layout.addWidget(close)
        self.add_button.clicked.connect(self.add)
        self.remove_button.clicked.connect(self.remove_selected)
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        for entry in self.macs.load():
            self.list.addItem(f"{entry.mac}  {entry.label}".rstrip())

    def add(self) -> None:
        try:
            self.macs.allow(self.mac_edit.text(), self.label_edit.text())
        except PolicyError:
            self.error_label.setText(tr("invalid_mac"))
            return
        self.error_label.setText("")
        self.mac_edit.clear()
        self.label_edit.clear()
        self.refresh()
        self.changed.emit()

    def remove_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None and self.macs.deny(item.text().split()[0]):
            self.refresh()
            self.changed.emit()


class TrayController(QObject):
    pause_toggled = Signal(bool)
    quit_requested = Signal()
    notified = Signal(str, str)  # title, text: every notification shown

    def __init__(self, macs: MacList, host_id: str | None = None) -> None:
        super().__init__()
        self.macs = macs
        self.host_id = host_id
        self.state = "offline"
        self.paused = False
        self.session: dict[str, Any] | None = None
        self.confirm_quit: Callable[[str], bool] = self._ask_quit
        self.tray = QSystemTrayIcon()
        self.menu = QMenu()
        self.status_action = QAction(self.menu)
        self.status_action.setEnabled(False)
        self.macs_action = QAction(tr("menu_macs"), self.menu)
        self.pause_action = QAction(tr("menu_pause"), self.menu)
        self.pause_action.setCheckable(True)
        self.about_action = QAction(tr("menu_about"), self.menu)
        self.quit_action = QAction(tr("menu_quit"), self.menu)
        for action in (self.status_action, self.macs_action, self.pause_action):
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.menu.addAction(self.about_action)
        self.menu.addAction(self.quit_action)
        self.tray.setContextMenu(self.menu)
        self.macs_action.triggered.connect(self.show_macs)
        self.pause_action.toggled.connect(self._pause)
        self.about_action.triggered.connect(self.show_about)
        self.quit_action.triggered.connect(self.request_quit)
        self.mac_dialog: MacListDialog | None = None
        self._render()
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray.show()

    # -- agent events ---------------------------------------------------------------------------
    def on_event(self, event: AgentEvent) -> None:
        data = event.data
        if event.kind == "state":
            self.state = str(data.get("state", self.state))
        elif event.kind == "session_started":
            self.session = dict(data)
            self.notify(tr("notify_started_title"), tr("notify_started", **self._who(data)))
        elif event.kind == "session_ended":
            self.session = None
            reason = tr("close_" + str(data.get("reason", "error")))
            text = tr("notify_ended", reason=reason, **self._who(data))
            self.notify(tr("notify_ended_title"), text)
        elif event.kind == "shutdown_warning":
            self.notify(
                tr("notify_shutdown_title"),
                tr("notify_shutdown", at=data["at"], minutes=data["minutes_left"]),
            )
        self._render()

    @staticmethod
    def _who(data: dict[str, Any]) -> dict[str, str]:
        return {"user": str(data.get("user", "")), "device": str(data.get("device", ""))}

    def notify(self, title: str, text: str) -> None:
        if self.tray.isVisible() and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information)
        self.notified.emit(title, text)

    # -- what is shown ----------------------------------------------------------------------------
    @property
    def icon_state(self) -> str:
        if self.state == "waiting" and self.paused:
            return "paused"
        return self.state

    def _render(self) -> None:
        state = self.icon_state
        self.tray.setIcon(draw_icon(state))
        app = tr("app_name")
        if self.session is not None:
            tooltip = tr("tooltip_session", app=app, **self._who(self.session))
        else:
            tooltip = tr("tooltip", app=app, state=tr("state_" + state))
        self.tray.setToolTip(tooltip)
        self.status_action.setText(tr("menu_status", state=tr("state_" + state)))

    # -- menu actions -----------------------------------------------------------------------------
    def _pause(self, paused: bool) -> None:
        self.paused = paused
        self._render()
        self.pause_toggled.emit(paused)

    def show_macs(self) -> MacListDialog:
        if self.mac_dialog is None:
            self.mac_dialog = MacListDialog(self.macs)
        self.mac_dialog.refresh()
        self.mac_dialog.show()
        return self.mac_dialog

    def about_text(self) -> str:
        host = format_host_id(self.host_id) if self.host_id else "-"
        return tr("about_text", version=AGENT_VERSION, host_id=host)

    def show_about(self) -> None:  # pragma: no cover - a modal box
        QMessageBox.information(None, tr("menu_about"), self.about_text())

    def request_quit(self) -> None:
        if self.session is not None and not self.confirm_quit(str(self.session.get("user", ""))):
            return
        self.quit_requested.emit()

    @staticmethod
    def _ask_quit(user: str) -> bool:  # pragma: no cover - a modal box
        answer = QMessageBox.question(
            None, tr("quit_confirm_title"), tr("quit_confirm_text", user=user)
        )
        return answer == QMessageBox.StandardButton.Yes


def run_tray(options: AgentOptions, token: str | None) -> int:  # pragma: no cover - the real app
    """The tray app on a qasync loop: enrolment wizard first if needed, then the agent."""
    import qasync

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    set_language(None)
    agent = HostAgent(options)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    finished = asyncio.Event()
    tasks: set[asyncio.Task[Any]] = set()

    def start_agent() -> None:
        tray = TrayController(agent.macs, agent.host_id)
        bridge = AgentBridge(agent)
        bridge.event.connect(tray.on_event)
        tray.pause_toggled.connect(agent.set_paused)
        run = asyncio.ensure_future(agent.run())
        tasks.add(run)

        def quit_app() -> None:
            tray.quit_requested.disconnect(quit_app)  # a second click must not cut cleanup short

            async def stop() -> None:
                try:
                    await stop_agent(agent, run)
                finally:
                    finished.set()

            tasks.add(asyncio.ensure_future(stop()))

        tray.quit_requested.connect(quit_app)
        app.setProperty("telework_tray", tray)  # keep it alive
        app.setProperty("telework_bridge", bridge)

    if agent.record is None:
        wizard = EnrolmentWizard(options.relay or "", options.relay_fingerprint or "", token or "")

        def enroll(relay: str, pin: str, secret_token: str) -> None:
            options.relay, options.relay_fingerprint = relay, pin

            async def work() -> None:
                try:
                    wizard.show_enrolled(await agent.enroll(secret_token))
                except RefusedByRelay as exc:
                    wizard.show_failed(exc.reason)
                except (Error, OSError) as exc:
                    wizard.show_failed("pin_mismatch" if "pin" in str(exc).lower() else str(exc))

            tasks.add(asyncio.ensure_future(work()))

        wizard.enroll_requested.connect(enroll)
        wizard.accepted.connect(start_agent)
        wizard.rejected.connect(finished.set)
        wizard.show()
    else:
        start_agent()
    with loop, contextlib.suppress(asyncio.CancelledError):
        loop.run_until_complete(finished.wait())
    return 0
