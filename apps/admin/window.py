"""The console's main window: the tenant chooser over one tab per task, and the task runner.

The tabs (:mod:`apps.admin.tabs`) do the work; the window holds what they share: the API
client, the selected tenant, :meth:`MainWindow.spawn` that runs their actions and reports
failures in the status bar in the user's language (nothing blocks the event loop), the status
bar where each action says it worked (:meth:`MainWindow.report`), the question asked before a
destructive action (:attr:`MainWindow.confirm`, replaceable by tests), and the timer that keeps
the live tabs fresh. Switching tenant clears every tab at once (secrets included).

What the admin's role may do comes from the relay with the sign-in (the operations its route
table lets that role call): :meth:`MainWindow.may` answers for the tabs, which disable the
buttons of what the role may not do; a tab the role may not read is not shown at all, and the
role is named next to the admin's ID.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from apps.admin.api import AdminClient
from apps.admin.failures import describe_failure
from apps.admin.password_dialog import PasswordDialog
from apps.admin.tabs.admins import AdminsTab
from apps.admin.tabs.audit import AuditTab
from apps.admin.tabs.base import Tab, TenantChanged
from apps.admin.tabs.central import CentralTab
from apps.admin.tabs.grants import GrantsTab
from apps.admin.tabs.home_pcs import HomePcsTab
from apps.admin.tabs.hosts import HostsTab
from apps.admin.tabs.monitoring import MonitoringTab
from apps.admin.tabs.policies import PoliciesTab
from apps.admin.tabs.sessions import SessionsTab
from apps.admin.tabs.staff import StaffTab
from apps.admin.tabs.usage import UsageTab
from apps.admin.texts import role_name, tr
from apps.common.question import open_question

# How often the live tabs (sessions, monitoring) refresh themselves.
LIVE_REFRESH_MS = 2000
# What each tab reads to show anything: a role that may not is not shown the tab.
TAB_READS = {
    "tab_staff": "list_staff",
    "tab_hosts": "list_hosts",
    "tab_grants": "list_grants",
    "tab_home": "list_macs",
    "tab_central": "get_device_list",
    "tab_policies": "get_tenant_policy",
    "tab_sessions": "list_sessions",
    "tab_monitoring": "bandwidth",
    "tab_usage": "usage",
    "tab_audit": "audit",
    "tab_admins": "list_admins",
}


class MainWindow(QMainWindow):
    failed = Signal(str)
    succeeded = Signal()
    closed = Signal()  # the window was closed, or the admin signed out (see signed_out)

    def __init__(self, client: AdminClient, tenants: list[str]) -> None:
        super().__init__()
        self.client = client
        self.role = str(client.session.get("role", ""))
        self.role_text = role_name(self.role)
        allowed = client.session.get("allowed")
        # None: a relay that does not say (older): every button stays, the relay still refuses.
        self.allowed: frozenset[str] | None = None if allowed is None else frozenset(allowed)
        self.setWindowTitle(f"{tr('app_title')} — {client.session.get('login', '')}")
        self.tenant_box = QComboBox()
        self.tenant_box.addItems(tenants)
        self.tenant_box.currentTextChanged.connect(self._tenant_changed)
        self.tabs = QTabWidget()
        self.staff = StaffTab(self)
        self.hosts = HostsTab(self)
        self.grants = GrantsTab(self)
        self.home_pcs = HomePcsTab(self)
        self.central = CentralTab(self)
        self.policies = PoliciesTab(self)
        self.sessions = SessionsTab(self)
        self.monitoring = MonitoringTab(self)
        self.usage = UsageTab(self)
        self.audit = AuditTab(self)
        self.admins = AdminsTab(self)
        pages: tuple[tuple[Tab, str], ...] = (
            (self.staff, "tab_staff"),
            (self.hosts, "tab_hosts"),
            (self.grants, "tab_grants"),
            (self.home_pcs, "tab_home"),
            (self.central, "tab_central"),
            (self.policies, "tab_policies"),
            (self.sessions, "tab_sessions"),
            (self.monitoring, "tab_monitoring"),
            (self.usage, "tab_usage"),
            (self.audit, "tab_audit"),
            (self.admins, "tab_admins"),
        )
        for tab, key in pages:
            index = self.tabs.addTab(tab, tr(key))
            self.tabs.setTabVisible(index, self.may(TAB_READS[key]))
        self.pages = [tab for tab, _ in pages]
        self.tabs.currentChanged.connect(lambda _: self.spawn(self.refresh_tab(self.current_tab())))
        central = QWidget()
        layout = QVBoxLayout(central)
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("tenant")))
        top.addWidget(self.tenant_box, 1)
        self.role_label = QLabel(tr("signed_in_role", role=self.role_text))
        top.addWidget(self.role_label)
        # The account menu: this admin's own password, and signing out (also a button).
        self.account_button = QPushButton(tr("account", login=client.session.get("login", "")))
        account_menu = QMenu(self.account_button)
        account_menu.addAction(tr("change_password"), self.ask_new_password)
        account_menu.addAction(tr("sign_out"), lambda: self.spawn(self.sign_out(), by_user=True))
        self.account_button.setMenu(account_menu)
        top.addWidget(self.account_button)
        self.password_dialog = PasswordDialog(self)
        self.sign_out_button = QPushButton(tr("sign_out"))
        self.sign_out_button.clicked.connect(lambda: self.spawn(self.sign_out(), by_user=True))
        top.addWidget(self.sign_out_button)
        self.signed_out = False
        layout.addLayout(top)
        layout.addWidget(self.tabs)
        self.setCentralWidget(central)
        self.failed.connect(self._show_error)
        self._error_shown = False
        # Asked before anything destructive, with the question; True goes ahead.
        self.confirm: Callable[[str], Awaitable[bool]] = self.ask
        self._tasks: set[asyncio.Task[Any]] = set()
        self._refresh_locks: dict[Tab, asyncio.Lock] = {}  # see refresh_tab
        self._refresh_queued: set[Tab] = set()
        self.live_timer = QTimer(self)
        self.live_timer.setInterval(LIVE_REFRESH_MS)
        self.live_timer.timeout.connect(self._refresh_live)

    def may(self, operation: str) -> bool:
        """Whether this admin's role may call the API ``operation`` (a route handler's name)."""
        return self.allowed is None or operation in self.allowed

    @property
    def tenant(self) -> str:
        return self.tenant_box.currentText()

    def current_tab(self) -> Tab:
        widget = self.tabs.currentWidget()
        assert isinstance(widget, Tab)
        return widget

    def _tenant_changed(self) -> None:
        # At once, not when the new tenant's answers come: until then the old tenant's
        # secrets would stay on screen and its selected rows would be acted on in the new one.
        for tab in self.pages:
            tab.forget()
        self._clear_status()
        self.spawn(self.refresh_all())

    def report(self, message: str) -> None:
        """Say in the status bar that an action worked, in place of any earlier error."""
        self.statusBar().showMessage(message)
        self._error_shown = False

    def _show_error(self, message: str) -> None:
        self.statusBar().showMessage(tr("error", message=message))
        self._error_shown = True

    def _clear_status(self) -> None:
        self.statusBar().clearMessage()
        self._error_shown = False

    async def ask(self, question: str) -> bool:
        """The user's answer to ``question`` in a box modal to the window: Yes, or No (the
        default, and what closing the box means).

        Opened and awaited, not run with ``exec``: a nested Qt event loop inside an asyncio
        task makes qasync refuse to run any other task (the live refresh) meanwhile."""
        closed: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def answered(yes: bool) -> None:
            if not closed.done():
                closed.set_result(yes)

        open_question(self, tr("confirm_title"), question, answered)
        return await closed

    def ask_new_password(self) -> None:
        """The password dialog, modal to the window (opened, not run: see :meth:`ask`)."""
        self.password_dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.password_dialog.show()

    async def sign_out(self) -> None:
        """End this admin's sign-in on the relay, take everything shown off the screen (the
        secrets first) and close the window; the console then asks for a sign-in again."""
        self.live_timer.stop()
        for tab in self.pages:
            tab.forget()
        self.password_dialog.reject()
        self.signed_out = True
        try:
            await self.client.sign_out()
        finally:
            self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.live_timer.stop()
        super().closeEvent(event)
        self.closed.emit()

    def spawn(self, coro: Awaitable[Any], by_user: bool = False) -> None:
        """Run a tab action on the event loop; any failure shows in the status bar (nothing
        escapes to the loop, where it would be lost), except a switch of tenant meanwhile.
        An action the user asked for (``by_user``) that works takes an earlier error away,
        even if it has nothing to report (a refresh); the live refreshes leave it."""

        async def guarded() -> None:
            try:
                await coro
            except TenantChanged:
                pass
            except Exception as exc:
                self.failed.emit(describe_failure(exc))
            else:
                if by_user and self._error_shown:
                    self._clear_status()
                self.succeeded.emit()

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def refresh_tab(self, tab: Tab) -> None:
        """Refresh ``tab``, one refresh of it at a time: asked again while one runs, it runs once
        more after that one (later asks meanwhile share it). Overlapping refreshes of a report
        tab would be refused by the relay (one report job per tenant at a time) and show as an
        error to an admin who only went back and forth between tabs."""
        lock = self._refresh_locks.setdefault(tab, asyncio.Lock())
        if lock.locked():
            if tab in self._refresh_queued:
                return
            self._refresh_queued.add(tab)
        async with lock:
            self._refresh_queued.discard(tab)
            await tab.refresh()

    async def refresh_all(self) -> None:
        if self.tenant:
            await self.refresh_tab(self.current_tab())

    def _refresh_live(self) -> None:
        if self.current_tab() in (self.sessions, self.monitoring):
            self.spawn(self.refresh_tab(self.current_tab()))

    def start_live_refresh(self) -> None:
        self.live_timer.start()
