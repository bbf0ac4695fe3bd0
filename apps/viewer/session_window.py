"""The session window: the remote view in a scroll area, a notice banner, menus, status bar.

It shows what the client's signals carry (pictures, cursor, policy, screens, notices) and
sends the view's input and the menus' commands on as signals. Nothing here touches the
clipboard, accepts a drop, prints or saves; the window asks the OS to keep it out of captures.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from apps.common.question import open_question
from apps.viewer import geometry
from apps.viewer.protect import exclude_from_capture
from apps.viewer.remote_view import RemoteView
from apps.viewer.session_core import Picture, connection_quality
from apps.viewer.texts import Texts
from apps.viewer.watermark import watermark_lines
from core.media.cursor import CursorState
from core.protocol.notices import HostScreens
from core.protocol.session import SpecialKey, SpecialKeys

WATERMARK_REFRESH_MS = 30_000  # the time in it is to the minute


class BannerKind(enum.Enum):
    """What the session window's banner is showing, so each kind goes away at its own time."""

    NOTICE = "notice"  # stays until replaced (shutdown warning, view-only mode)
    PROGRESS = "progress"  # (re)connecting: until the first picture of the session
    IDLE_WARNING = "idle_warning"  # until the user acts (the office PC resets its idle timer)


class SessionWindow(QMainWindow):
    """The session: the view in a scroll area, a notice banner, menus and a status bar."""

    inputMessage = Signal(object)  # Key | Pointer | Button | Wheel | SpecialKeys
    monitorChosen = Signal(int)
    viewOnlyToggled = Signal(bool)
    disconnectRequested = Signal()  # the user said yes to the question (see ask_disconnect)
    stillHere = Signal()  # 「続ける」 on the idle warning: counts as activity on the office PC

    def __init__(self, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.texts = texts
        self.setAcceptDrops(False)
        self.setWindowTitle(texts("app_title"))
        self.view = RemoteView()
        self.view.inputMessage.connect(self.inputMessage)
        self.view.inputMessage.connect(self._user_acted)
        self.view.fullScreenToggled.connect(self.toggle_full_screen)
        self.scroll_area = QScrollArea()
        self.scroll_area.setAcceptDrops(False)
        self.scroll_area.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll_area.setWidget(self.view)
        self.scroll_area.setWidgetResizable(True)
        # The banner: a notice in words, and for an idle warning the button that answers it.
        self.banner_bar = QFrame()
        self.banner_bar.setObjectName("banner")
        self.banner_bar.setStyleSheet("#banner{background:#fff3c4;}")
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("color:#222;padding:6px;")
        self.continue_button = QPushButton(texts("idle_continue"))
        self.continue_button.setObjectName("idle_continue")
        self.continue_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the view
        self.continue_button.clicked.connect(self._continue)
        self.continue_button.hide()
        bar = QHBoxLayout(self.banner_bar)
        bar.setContentsMargins(0, 0, 6, 0)
        bar.addWidget(self.banner, 1)
        bar.addWidget(self.continue_button)
        self.banner_bar.hide()
        self.banner_kind: BannerKind | None = None
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner_bar)
        layout.addWidget(self.scroll_area)
        self.setCentralWidget(central)
        self._build_menus()
        self.status_host = QLabel()
        self.status_quality = QLabel()  # a plain word; the figures in its tooltip
        for label in (self.status_host, self.status_quality):
            self.statusBar().addPermanentWidget(label)
        self.policy_view_only = False
        self.user = ""
        self.host_name = ""
        self.session_id = ""
        self.watermark_text = ""
        self._watermark_timer = QTimer(self)
        self._watermark_timer.setInterval(WATERMARK_REFRESH_MS)
        self._watermark_timer.timeout.connect(self._refresh_watermark)
        self.protected = False
        # Asked before the session is dropped, with the question and what to call with the
        # answer (True: disconnect); tests replace it.
        self.confirm: Callable[[str, Callable[[bool], None]], None] = self.ask
        self.question: QMessageBox | None = None  # the question on show, if any

    def _build_menus(self) -> None:
        t = self.texts
        session = self.menuBar().addMenu(t("menu_session"))
        self.action_cad = QAction(t("action_ctrl_alt_del"), self)
        self.action_cad.triggered.connect(
            lambda: self.inputMessage.emit(SpecialKeys(SpecialKey.CTRL_ALT_DEL))
        )
        self.action_view_only = QAction(t("action_view_only"), self, checkable=True)
        self.action_view_only.toggled.connect(self._view_only_toggled)
        self.action_disconnect = QAction(t("action_disconnect"), self)
        self.action_disconnect.triggered.connect(self.ask_disconnect)
        for action in (self.action_cad, self.action_view_only, self.action_disconnect):
            session.addAction(action)
        view = self.menuBar().addMenu(t("menu_view"))
        scale = QActionGroup(self)
        self.action_fit = QAction(t("action_fit"), self, checkable=True, checked=True)
        self.action_one = QAction(t("action_one_to_one"), self, checkable=True)
        for action in (self.action_fit, self.action_one):
            scale.addAction(action)
            view.addAction(action)
        self.action_fit.toggled.connect(self.set_fit)
        self.action_full = QAction(t("action_full_screen"), self, checkable=True)
        self.action_full.triggered.connect(self.toggle_full_screen)
        view.addAction(self.action_full)
        self.monitor_menu = view.addMenu(t("menu_monitor"))
        self.monitor_menu.menuAction().setVisible(False)

    # ----- slots for the client's signals ------------------------------------------------
    def show_picture(self, picture: Picture) -> None:
        self.view.set_picture(picture)

    def show_cursor(self, cursor: CursorState) -> None:
        self.view.set_cursor(cursor)

    def apply_policy(self, policy: object) -> None:
        self.policy_view_only = bool(getattr(policy, "view_only", False))
        self.watermark_text = str(getattr(policy, "watermark", ""))
        self.action_view_only.setEnabled(not self.policy_view_only)
        self._apply_view_only()
        self._refresh_watermark()
        if self.watermark_text:
            self._watermark_timer.start()
        else:
            self._watermark_timer.stop()
        if self.policy_view_only:
            self.show_banner(self.texts("notice_view_only"))

    def show_screens(self, screens: HostScreens) -> None:
        self.host_name = screens.host_name
        # Ending with the app's name, which Qt then does not append again (it adds the
        # application display name to every title that does not end with it).
        app_name = self.texts("app_title")
        self.setWindowTitle(self.texts("session_title", host=screens.host_name, app=app_name))
        self.status_host.setText(self.texts("status_connected", host=screens.host_name))
        self._refresh_watermark()
        menu = self.monitor_menu
        menu.clear()
        menu.menuAction().setVisible(len(screens.monitors) > 1)
        group = QActionGroup(menu)
        for n, monitor in enumerate(screens.monitors):
            label = self.texts("monitor_item", n=n + 1, w=monitor.width, h=monitor.height)
            action = QAction(label, menu, checkable=True, checked=n == screens.active)
            action.triggered.connect(lambda _=False, i=monitor.index: self.monitorChosen.emit(i))
            group.addAction(action)
            menu.addAction(action)

    def show_stats(self, delay_ms: int, kbps: int) -> None:
        quality = connection_quality(delay_ms)
        self.status_quality.setText(
            self.texts("status_quality", quality=self.texts(f"quality_{quality}"))
        )
        figures = (self.texts("status_delay", ms=delay_ms), self.texts("status_rate", kbps=kbps))
        self.status_quality.setToolTip(" · ".join(figures))

    def show_reconnecting(self) -> None:
        """The session dropped: until the office PC's screen layout comes again (it opens
        every session), the status bar must not say it is connected."""
        host = self.host_name
        self.status_host.setText(
            self.texts("status_reconnecting", host=host) if host else self.texts("reconnecting")
        )

    def clear_stats(self) -> None:
        """While the connection is down the last delay and rate would be stale."""
        self.status_quality.clear()
        self.status_quality.setToolTip("")

    def show_banner(self, text: str, kind: BannerKind = BannerKind.NOTICE) -> None:
        self.banner.setText(text)
        self.banner_bar.setVisible(bool(text))
        self.banner_kind = kind if text else None
        self.continue_button.setVisible(self.banner_kind is BannerKind.IDLE_WARNING)

    def clear_banner(self, kind: BannerKind) -> None:
        """Hide the banner if it still shows this kind; a newer message of another kind stays."""
        if self.banner_kind is kind:
            self.show_banner("")

    def _user_acted(self, message: object) -> None:
        # The office PC restarts its idle timer on input but sends no "all clear" notice, so
        # its warning (and its countdown, frozen at the seconds it was sent with) ends here.
        self.clear_banner(BannerKind.IDLE_WARNING)

    def _continue(self) -> None:
        """「続ける」 on the idle warning: the user is there, though they did not type or move."""
        self.clear_banner(BannerKind.IDLE_WARNING)
        self.stillHere.emit()

    def start_session(self, user: str, session_id: str) -> None:
        self.user, self.session_id = user, session_id
        self.show_banner("")
        self._refresh_watermark()

    # ----- view controls -----------------------------------------------------------------
    def size_to_picture(self, pic_w: int, pic_h: int) -> None:
        """Open at the picture's size (1:1) when the screen has room, else scaled to fit."""
        screen = self.screen()
        if screen is None or self.isFullScreen():
            return
        free = screen.availableGeometry()
        chrome_w = self.width() - self.scroll_area.viewport().width()
        chrome_h = self.height() - self.scroll_area.viewport().height()
        view_w, view_h = geometry.initial_view_size(
            pic_w,
            pic_h,
            self.devicePixelRatioF(),
            free.width() - chrome_w,
            free.height() - chrome_h,
        )
        self.resize(view_w + chrome_w, view_h + chrome_h)

    def set_fit(self, fit: bool) -> None:
        self.scroll_area.setWidgetResizable(fit)
        self.view.set_fit(fit)

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
        self.action_full.setChecked(self.isFullScreen())

    def _view_only_toggled(self, on: bool) -> None:
        self._apply_view_only()
        self.viewOnlyToggled.emit(on)

    def _apply_view_only(self) -> None:
        self.view.view_only = self.policy_view_only or self.action_view_only.isChecked()

    def _refresh_watermark(self) -> None:
        lines = watermark_lines(
            self.watermark_text, dt.datetime.now(), self.user, self.host_name, self.session_id
        )
        self.view.set_watermark(lines)

    # ----- ending the session ------------------------------------------------------------
    def ask_disconnect(self) -> None:
        """切断 or the window's close button: ask first (No by default), so that a mis-click
        does not drop the session; :attr:`disconnectRequested` only on a yes."""
        if self.question is not None:
            self.question.raise_()  # asked already: one question at a time
            return
        host = self.host_name
        question = (
            self.texts("confirm_disconnect", host=host)
            if host
            else self.texts("confirm_disconnect_no_name")
        )

        def answered(yes: bool) -> None:
            self.question = None
            if yes:
                self.disconnectRequested.emit()

        self.confirm(question, answered)

    def ask(self, question: str, answered: Callable[[bool], None]) -> None:
        """The question in a box modal to the window: 「切断する」, or 「切断しない」 (the
        default, and what Escape or closing the box means)."""
        self.question = open_question(
            self,
            self.texts("confirm_disconnect_title"),
            question,
            answered,
            yes_text=self.texts("disconnect_yes"),
            no_text=self.texts("disconnect_no"),
        )

    # ----- the window itself -------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.protected:
            self.protected = exclude_from_capture(int(self.winId()))
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def hideEvent(self, event: QHideEvent) -> None:
        # The session ended by itself (or the app is quitting): nothing left to ask about.
        if self.question is not None and not event.spontaneous():  # not a mere minimise
            self.question.reject()
        super().hideEvent(event)

    def closeEvent(self, event: QEvent) -> None:
        if not (self.session_id and self.isVisible()):
            event.accept()  # no session on show: nothing a mis-click could drop
            self.disconnectRequested.emit()
            return
        event.ignore()  # the window goes when the session has ended, if the user says so
        self.ask_disconnect()

    def dragEnterEvent(self, event: QEvent) -> None:
        event.ignore()

    def dropEvent(self, event: QEvent) -> None:
        event.ignore()
