"""The tray app: the agent's state as an icon, its menu, notifications, and the MAC editor.

A thin Qt adapter: :class:`AgentBridge` turns the agent's events into a Qt signal,
:class:`TrayController` turns them into icon, tooltip, menu and notifications, and emits
``pause_toggled`` and ``quit_requested`` for the app to act on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QSystemTrayIcon,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from apps.common.icons import tray_icon
from apps.common.qt_startup import start_app
from apps.host.agent import AGENT_VERSION, HostAgent, stop_agent
from apps.host.device_list import DeviceList
from apps.host.events import (
    AgentEvent,
    AgentState,
    CentralDevicesChanged,
    SessionEnded,
    SessionStarted,
    ShutdownWarning,
    StateChanged,
)
from apps.host.i18n import tr
from apps.host.mac_list import MacList
from apps.host.options import AgentOptions
from apps.host.session_core import SessionInfo
from apps.host.wizard import EnrolmentWizard
from core.crypto.certs import format_host_id
from core.errors import Error
from core.hostpolicy.devices import RegisteredDevice, format_device_code
from core.policy import PolicyError
from transport.client import RefusedByRelay

log = logging.getLogger("telework.host")


class AgentBridge(QObject):
    """The agent's events as a Qt signal (emitted on the loop's thread, which is Qt's)."""

    # Not ``event``: that name is QObject's event handler, which Qt calls for every event.
    agent_event = Signal(object)

    def __init__(self, agent: HostAgent) -> None:
        super().__init__()
        agent.listeners.append(self.agent_event.emit)


@dataclass(frozen=True)
class ListEditing:
    """One of the office PC's lists of allowed home PCs, as :class:`RegisteredListEditor`
    edits it (the same files ``telework-host allow-device`` / ``allow-mac`` edit)."""

    hint: str
    placeholder: str
    invalid: str
    lines: Callable[[], list[str]]  # "KEY  label" per entry
    allow: Callable[[str, str], object]  # (key as typed, label); PolicyError if it is none
    deny: Callable[[str], bool]
    # Entries shown but not edited here: the home PCs the municipality's admins registered
    # centrally (signed; only a newer signed list changes them).
    fixed_lines: Callable[[], list[str]] = lambda: []


CentralEntries = Callable[[], Sequence[RegisteredDevice]]


def device_editing(devices: DeviceList, central: CentralEntries = lambda: ()) -> ListEditing:
    return ListEditing(
        tr("devices_hint"),
        "ABCDE-FGHIJ-KLMNO-PQRST",
        tr("invalid_device_code"),
        lambda: [
            f"{format_device_code(d.code)}  {d.label}".rstrip() for d in devices.load().devices
        ],
        devices.allow,
        devices.deny,
        lambda: [
            f"{format_device_code(d.code)}  {d.label}  ({tr('device_central')})" for d in central()
        ],
    )


def mac_editing(macs: MacList) -> ListEditing:
    return ListEditing(
        tr("macs_hint"),
        "AA:BB:CC:DD:EE:FF",
        tr("invalid_mac"),
        lambda: [f"{e.mac}  {e.label}".rstrip() for e in macs.load()],
        macs.allow,
        macs.deny,
    )


class RegisteredListEditor(QWidget):
    """A list of allowed home PCs: its entries, a key and a name to add, remove."""

    changed = Signal()

    def __init__(self, editing: ListEditing, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editing = editing
        layout = QVBoxLayout(self)
        hint = QLabel(editing.hint)
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.list = QListWidget()
        layout.addWidget(self.list)
        row = QHBoxLayout()
        self.key_edit = QLineEdit()
        self.key_edit.setPlaceholderText(editing.placeholder)
        self.label_edit = QLineEdit()
        self.label_edit.setPlaceholderText(tr("mac_label"))
        self.add_button = QPushButton(tr("add"))
        self.remove_button = QPushButton(tr("remove"))
        for widget in (self.key_edit, self.label_edit, self.add_button, self.remove_button):
            row.addWidget(widget)
        layout.addLayout(row)
        self.error_label = QLabel()
        layout.addWidget(self.error_label)
        self.add_button.clicked.connect(self.add)
        self.remove_button.clicked.connect(self.remove_selected)
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        for line in self.editing.lines():
            self.list.addItem(line)
        for line in self.editing.fixed_lines():
            item = QListWidgetItem(line)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # shown, not selectable: not removed here
            self.list.addItem(item)

    def add(self) -> None:
        try:
            self.editing.allow(self.key_edit.text(), self.label_edit.text())
        except PolicyError:
            self.error_label.setText(self.editing.invalid)
            return
        self.error_label.setText("")
        self.key_edit.clear()
        self.label_edit.clear()
        self.refresh()
        self.changed.emit()

    def remove_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None and self.editing.deny(item.text().split()[0]):
            self.refresh()
            self.changed.emit()


class HomePcsDialog(QDialog):
    """The home PCs this office PC accepts: by key (home-PC code) and by MAC address."""

    def __init__(
        self,
        devices: DeviceList,
        macs: MacList,
        parent: QWidget | None = None,
        central: CentralEntries = lambda: (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("macs_title"))
        self.devices = RegisteredListEditor(device_editing(devices, central))
        self.macs = RegisteredListEditor(mac_editing(macs))
        tabs = QTabWidget()
        tabs.addTab(self.devices, tr("devices_tab"))
        tabs.addTab(self.macs, tr("macs_tab"))
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        close = QPushButton(tr("close"))
        close.clicked.connect(self.accept)
        layout.addWidget(close)

    def refresh(self) -> None:
        self.devices.refresh()
        self.macs.refresh()


class TrayController(QObject):
    pause_toggled = Signal(bool)
    quit_requested = Signal()
    notified = Signal(str, str)  # title, text: every notification shown

    def __init__(
        self,
        devices: DeviceList,
        macs: MacList,
        host_id: str | None = None,
        central: CentralEntries = lambda: (),
    ) -> None:
        super().__init__()
        self.devices, self.macs = devices, macs
        self.central = central
        self.host_id = host_id
        self.state = AgentState.OFFLINE
        self.paused = False
        self.session: SessionInfo | None = None
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
        self.home_pcs_dialog: HomePcsDialog | None = None
        self._render()
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray.show()

    # -- agent events ---------------------------------------------------------------------------
    def on_event(self, event: AgentEvent) -> None:
        match event:
            case StateChanged(state=state):
                self.state = state
            case SessionStarted(info=info):
                self.session = info
                self.notify(tr("notify_started_title"), tr("notify_started", **self._who(info)))
            case SessionEnded(info=info, reason=reason):
                self.session = None
                text = tr("notify_ended", reason=tr.close_reason(reason), **self._who(info))
                self.notify(tr("notify_ended_title"), text)
            case CentralDevicesChanged() if self.home_pcs_dialog is not None:
                self.home_pcs_dialog.refresh()
            case ShutdownWarning(at=at, minutes_left=minutes):
                self.notify(
                    tr("notify_shutdown_title"), tr("notify_shutdown", at=at, minutes=minutes)
                )
        self._render()

    @staticmethod
    def _who(info: SessionInfo) -> dict[str, str]:
        return {"user": info.user, "device": info.device}

    def notify(self, title: str, text: str) -> None:
        if self.tray.isVisible() and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information)
        self.notified.emit(title, text)

    # -- what is shown ----------------------------------------------------------------------------
    @property
    def icon_state(self) -> str:
        if self.state == AgentState.WAITING and self.paused:
            return "paused"
        return self.state

    def _render(self) -> None:
        state = self.icon_state
        self.tray.setIcon(tray_icon(state))
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

    def show_macs(self) -> HomePcsDialog:
        if self.home_pcs_dialog is None:
            self.home_pcs_dialog = HomePcsDialog(self.devices, self.macs, central=self.central)
        self.home_pcs_dialog.refresh()
        self.home_pcs_dialog.show()
        return self.home_pcs_dialog

    def about_text(self) -> str:
        host = format_host_id(self.host_id) if self.host_id else "-"
        return tr("about_text", version=AGENT_VERSION, host_id=host)

    def show_about(self) -> None:  # pragma: no cover - a modal box
        QMessageBox.information(None, tr("menu_about"), self.about_text())

    def request_quit(self) -> None:
        if self.session is not None and not self.confirm_quit(self.session.user):
            return
        self.quit_requested.emit()

    @staticmethod
    def _ask_quit(user: str) -> bool:  # pragma: no cover - a modal box
        answer = QMessageBox.question(
            None, tr("quit_confirm_title"), tr("quit_confirm_text", user=user)
        )
        return answer == QMessageBox.StandardButton.Yes


# After an unexpected failure of the agent (a bug, not a lost relay: ``run`` retries those
# itself), the tray starts it again after this long, so the office PC does not stay offline.
AGENT_RESTART_DELAY_S = 5.0


class TrayApp:
    """The tray app's parts for as long as it runs: the wizard, the tray, the bridge, the agent.

    Holding them here is what keeps them alive: a Qt object with no parent lives only as long
    as its Python wrapper, and one kept only by ``QObject.setProperty`` was collected after a
    while, so the agent's next state change hit a deleted signal and the office PC stayed
    offline for good."""

    def __init__(self, agent: HostAgent, options: AgentOptions, token: str | None) -> None:
        self.agent = agent
        self.options = options
        self.token = token
        self.finished = asyncio.Event()
        self.tray: TrayController | None = None
        self.bridge: AgentBridge | None = None
        self.wizard: EnrolmentWizard | None = None
        self.run_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._quitting = False

    def start(self) -> None:
        """The wizard when this PC is not enrolled yet, else straight to the tray."""
        if self.agent.record is not None:
            self.start_agent()
            return
        relay = self.options.relay or self.options.preset_relay or ""
        pin = self.options.relay_fingerprint or self.options.preset_fingerprint or ""
        self.wizard = EnrolmentWizard(relay, pin, self.token or "", self.options.name)
        self.wizard.enroll_requested.connect(self._enroll)
        self.wizard.finished.connect(self._wizard_closed)
        self.wizard.show()

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _enroll(self, relay: str, pin: str, secret_token: str, name: str) -> None:
        self.options.relay, self.options.relay_fingerprint = relay, pin
        self.options.name = name  # what the relay lists this office PC as
        wizard = self.wizard
        assert wizard is not None

        async def work() -> None:
            try:
                # The code the admin gave carries the municipality's signing key to pin.
                tenant_key = wizard.code.tenant_key if wizard.code else ""
                host_id = await self.agent.enroll(secret_token, tenant_key or None)
            except RefusedByRelay as exc:
                wizard.show_failed(exc.reason)
                return
            except (Error, OSError) as exc:
                wizard.show_failed("pin_mismatch" if "pin" in str(exc).lower() else str(exc))
                return
            wizard.show_enrolled(host_id)
            # Online at once, on the enrolment's own connection: the admin may grant and the
            # staff member connect while the host ID is still on screen.
            self.start_agent()

        self._spawn(work())

    def _wizard_closed(self) -> None:
        if self.agent.record is None:  # closed before enrolling: nothing to run
            self.finished.set()

    def _central_entries(self) -> Sequence[RegisteredDevice]:
        central = self.agent.central.load(self.agent.record)
        return central.devices if central else ()

    def start_agent(self) -> None:
        if self.tray is not None:
            return
        self.tray = TrayController(
            self.agent.devices, self.agent.macs, self.agent.host_id, self._central_entries
        )
        self.bridge = AgentBridge(self.agent)
        self.bridge.agent_event.connect(self.tray.on_event)
        self.tray.pause_toggled.connect(self.agent.set_paused)
        self.tray.quit_requested.connect(self.quit)
        self._run_agent()

    def _run_agent(self) -> None:
        self.run_task = self._spawn(self.agent.run())
        self.run_task.add_done_callback(self._agent_ended)

    def _agent_ended(self, task: asyncio.Task[None]) -> None:
        if self._quitting or task.cancelled():
            return
        log.error("the agent stopped unexpectedly; restarting it", exc_info=task.exception())
        asyncio.get_running_loop().call_later(AGENT_RESTART_DELAY_S, self._restart_agent)

    def _restart_agent(self) -> None:
        if not self._quitting:
            self._run_agent()

    def quit(self) -> None:
        if self._quitting:  # a second click must not cut the clean-up short
            return
        self._quitting = True

        async def stop() -> None:
            try:
                if self.run_task is not None:
                    await stop_agent(self.agent, self.run_task)
            finally:
                self.finished.set()

        self._spawn(stop())


def run_tray(options: AgentOptions, token: str | None) -> int:  # pragma: no cover - the real app
    """The tray app on a qasync loop: enrolment wizard first if needed, then the agent."""
    import qasync

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    start_app(app, "telework-host", None)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    tray_app = TrayApp(HostAgent(options), options, token)
    tray_app.start()
    with loop, contextlib.suppress(asyncio.CancelledError):
        loop.run_until_complete(tray_app.finished.wait())
    return 0
