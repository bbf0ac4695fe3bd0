"""Wires the client's signals to the widgets and runs the flow: login, session, reconnect, end.

``state`` is a small JSON-able summary of where the viewer is; with ``--report-state`` every
change is printed to stdout as one JSON line (no OTP, no ticket, no pixels), which is how
scripts and end-to-end tests follow the viewer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QMessageBox

from apps.viewer.client import VIEWER_LOST, Credentials, ViewerClient
from apps.viewer.login_dialog import LoginDialog
from apps.viewer.session_core import Picture
from apps.viewer.session_window import BannerKind, SessionWindow
from apps.viewer.settings import SETTINGS_FILE, Settings, save_settings
from apps.viewer.texts import Texts
from apps.viewer.watermark import session_hash
from core.crypto.certs import Identity, parse_host_id
from core.hostpolicy.devices import device_code, format_device_code
from core.policy import HoursSpan
from core.protocol.control import LoginOk, ProgressStage, RefusalReason
from core.protocol.notices import CloseReason, HostScreens, IdleWarning, NoticeBody
from transport.connect import RelayEndpoint

# Refusals after which the viewer offers to wake the office PC (Wake-on-LAN through another
# office PC of its LAN), when the relay left a ticket to log in again with.
WAKE_OFFERED_FOR = frozenset({RefusalReason.HOST_OFFLINE})
# While the office PC is being woken, the time waited so far is shown afresh this often.
WAKE_ELAPSED_TICK_MS = 1000


class ViewerApp(QObject):
    finished = Signal()

    def __init__(
        self,
        texts: Texts,
        settings: Settings,
        config_dir: Path,
        device: Identity,
        macs: list[str],
        report: Callable[[dict[str, Any]], None] | None = None,
        home_check: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self.home_check = home_check  # gathers the home-PC check's report (home_check.py)
        self.message_box: QMessageBox | None = None  # the tenant's login message, once shown
        self._message_due = False  # the next login's message is shown (not a reconnect's)
        self.texts = texts
        self.settings = settings
        self.config_dir = config_dir
        self.device = device
        self.macs = macs
        self.report = report or (lambda state: None)
        self.state: dict[str, Any] = {}
        self.client: ViewerClient | None = None
        self.dialog = LoginDialog(texts, settings, macs=macs, device_code=self.device_code)
        self.dialog.submitted.connect(self._submitted)
        self.dialog.wakeRequested.connect(self._wake_requested)
        self.dialog.cancelled.connect(self.quit)
        self.window = SessionWindow(texts)
        self.window.disconnectRequested.connect(self.quit)
        self._task: asyncio.Task[None] | None = None
        self._quitting = False
        self._quit_task: asyncio.Future[None] | None = None
        self._first_picture = True
        self._retry_why = VIEWER_LOST  # why the coming reconnect attempt is needed
        # Waking the office PC: since when (the client's clock), and the tick that shows it.
        self._waking_since: float | None = None
        self._waking_tick = QTimer(self)
        self._waking_tick.setInterval(WAKE_ELAPSED_TICK_MS)
        self._waking_tick.timeout.connect(self._show_waking)

    def start(self) -> None:
        self._set_state("login")
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()

    def submit_otp(self, otp: str) -> None:
        """Fill in the OTP and connect, as if typed (``--otp-stdin``)."""
        self.dialog.otp.setText(otp)
        self.dialog.submit()

    def _set_state(self, state: str, **details: Any) -> None:
        self.state = {"state": state, **details}
        if not self._waking:
            self._waking_tick.stop()
        self.report(self.state)

    # ----- login -------------------------------------------------------------------------
    def _submitted(self, settings: Settings, otp: str, wake: bool = False) -> None:
        self.settings = settings
        endpoint = RelayEndpoint.parse(settings.relay, fingerprint=settings.fingerprint)
        if self.client is None or self.client.endpoint != endpoint:
            self.client = self._new_client(endpoint)
        credentials = Credentials(
            settings.tenant, settings.user, parse_host_id(settings.host_id), otp, wake
        )
        self._waking_since = self.client.clock() if wake else None
        self._message_due = True
        self._task = asyncio.ensure_future(self._run(credentials))

    def _new_client(self, endpoint: RelayEndpoint) -> ViewerClient:
        client = ViewerClient(endpoint, self.device, self.macs, home_check=self.home_check)
        w = self.window
        client.progress.connect(self._progress)
        client.loggedIn.connect(self._logged_in)
        client.refused.connect(self._refused)
        client.failed.connect(self._failed)
        client.needOtp.connect(self._need_otp)
        client.picture.connect(self._picture)
        client.cursorChanged.connect(w.show_cursor)
        client.policyChanged.connect(w.apply_policy)
        client.policyChanged.connect(lambda p: client.set_view_only(w.action_view_only.isChecked()))
        client.screensChanged.connect(self._screens)
        client.warned.connect(self._warned)
        client.closed.connect(self._closed)
        client.retrying.connect(self._retrying)
        client.reconnectIn.connect(self._reconnect_in)
        client.statsChanged.connect(w.show_stats)
        w.inputMessage.connect(client.send_input)
        w.monitorChosen.connect(client.choose_monitor)
        w.viewOnlyToggled.connect(client.set_view_only)
        w.stillHere.connect(client.still_here)
        return client

    async def _run(self, credentials: Credentials) -> None:
        assert self.client is not None
        try:
            await self.client.run(credentials)
        finally:
            self._task = None
        if self._quitting:
            return
        # The session is over for good; the dialog (already showing why) takes over again.
        self.window.hide()
        self.window.view.clear_picture()
        self.dialog.set_busy(False)
        self.dialog.show()

    def _wake_requested(self, settings: Settings, otp: str) -> None:
        """「職場PCを起動する」: log in again (with the refusal's ticket) asking for a wake."""
        self._submitted(settings, otp, wake=True)

    @property
    def _waking(self) -> bool:
        return self.state.get("stage") == ProgressStage.WAKING_HOST

    def _progress(self, stage: ProgressStage) -> None:
        if stage == ProgressStage.WAKING_HOST and self.client is not None:
            if self._waking_since is None:  # woken for another viewer's login: from now
                self._waking_since = self.client.clock()
            self._waking_tick.start()
        self._show_progress(stage)
        self._set_state("progress", stage=stage)

    def _show_progress(self, stage: ProgressStage) -> None:
        elapsed = 0.0
        if stage == ProgressStage.WAKING_HOST and self.client and self._waking_since is not None:
            elapsed = self.client.clock() - self._waking_since
        text = self.texts.progress(stage, elapsed)
        self.dialog.show_progress(text)
        if self.window.isVisible():
            # Reconnecting, or logged in but no picture yet: the view is frozen or empty, so
            # say what is happening until the first picture (see _picture).
            self.window.show_banner(text, BannerKind.PROGRESS)

    def _show_waking(self) -> None:
        """The tick while the office PC is being woken: the time waited, afresh."""
        if self._waking:
            self._show_progress(ProgressStage.WAKING_HOST)
        else:
            self._waking_tick.stop()

    def _logged_in(self, ok: LoginOk) -> None:
        with contextlib.suppress(OSError):  # remembering the form is a convenience
            save_settings(self.config_dir / SETTINGS_FILE, self.settings)
        self.window.start_session(self.settings.user, ok.session_id)
        self._first_picture = True
        self._set_state("logged_in", session=session_hash(ok.session_id))
        self.dialog.hide()
        self.window.show()
        if ok.login_message and self._message_due:
            self.show_login_message(ok.login_message)
        self._message_due = False

    def show_login_message(self, words: str) -> None:
        """The tenant's message, as it is, in a box of the viewer's words; plain text, so the
        admin's words cannot be markup. Not modal: the session runs behind it."""
        box = self.message_box = QMessageBox(self.window)
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowTitle(self.texts("login_message_title"))
        box.setText(self.texts("login_message_intro"))
        box.setInformativeText(words)
        box.setTextFormat(Qt.TextFormat.PlainText)
        for label in box.findChildren(QLabel):
            label.setTextFormat(Qt.TextFormat.PlainText)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.button(QMessageBox.StandardButton.Ok).setText(self.texts("close"))
        box.setModal(False)
        box.show()
        self._set_state("login_message", text=words)

    def _picture(self, picture: Picture) -> None:
        self.window.show_picture(picture)
        if self._first_picture:
            self._first_picture = False
            self.window.clear_banner(BannerKind.PROGRESS)
            h, w = picture.image.shape[:2]
            self.window.size_to_picture(w, h)
            self._set_state("showing", width=w, height=h)

    def _screens(self, screens: HostScreens) -> None:
        self.window.show_screens(screens)
        self.report(
            {
                "state": self.state.get("state"),
                "host_name": screens.host_name,
                "monitors": len(screens.monitors),
            }
        )

    def _warned(self, notice: NoticeBody) -> None:
        kind = BannerKind.IDLE_WARNING if isinstance(notice, IdleWarning) else BannerKind.NOTICE
        self.window.show_banner(self.texts.notice(notice), kind)

    @property
    def device_code(self) -> str:
        """This home PC's code, to register it on the office PC (shown in its refusal)."""
        return format_device_code(device_code(self.device.cert_pem))

    def refusal(
        self,
        reason: str,
        retry_after: int = 0,
        checks: tuple[str, ...] = (),
        hours: tuple[HoursSpan, ...] = (),
    ) -> str:
        """A refusal in words, with what the user needs to act on it: a home PC not registered
        says this PC's code or MAC addresses (for the office PC or the admin to register);
        outside the hours says the hours when the office PC's refusal carried them, else to
        ask the administrator."""
        text = self.texts.refusal(reason, retry_after, device_code=self.device_code, checks=checks)
        if reason == RefusalReason.MAC_NOT_REGISTERED:
            macs = "\n".join(f"  {mac}" for mac in self.macs) or self.texts("pc_info_no_mac")
            text = f"{text}\n{self.texts('refused_mac_these', macs=macs)}"
        elif reason == RefusalReason.OUTSIDE_HOURS and hours:
            when = self.texts("refused_outside_hours_are", hours=self.texts.hours(hours))
            text = f"{text}\n{when}"
        elif reason == RefusalReason.OUTSIDE_HOURS:
            text = f"{text}\n{self.texts('refused_outside_hours_when')}"
        return text

    def _refused(
        self,
        reason: str,
        retry_after: int,
        checks: tuple[str, ...] = (),
        hours: tuple[HoursSpan, ...] = (),
    ) -> None:
        text = self.refusal(reason, retry_after, checks, hours)
        # The office PC was not ready (offline, busy, slow): the OTP is used up, but the relay's
        # ticket lets the next Connect log in without a new one.
        ticket = self.client is not None and self.client.holds_ticket
        # Switched off, perhaps: another office PC of its LAN can wake it (the ticket logs in
        # again without a new OTP).
        wake = ticket and reason in WAKE_OFFERED_FOR
        if wake:
            text = f"{text}\n{self.texts('wake_offer')}"
        if ticket:
            text = f"{text}\n{self.texts('retry_without_otp')}"
        self.dialog.allow_empty_otp(ticket)
        self.dialog.show_error(text)
        self.dialog.offer_wake(wake)
        details: dict[str, Any] = {"reason": reason, "device_code": self.device_code}
        if wake:
            details["wake_offered"] = True
        if checks:
            details["checks"] = list(checks)
        if hours:
            details["hours"] = [span.to_wire() for span in hours]
        self._set_state("refused", **details)

    def _failed(self, why: str) -> None:
        self.dialog.allow_empty_otp(self.client is not None and self.client.holds_ticket)
        self.dialog.show_error(self.texts(why))
        self._set_state("failed", why=why)

    def _need_otp(self, why: str) -> None:
        self.dialog.allow_empty_otp(False)
        if why.startswith("refused:"):
            text = self.refusal(why.removeprefix("refused:"))
        else:
            text = self.texts(why)
        self.dialog.show_error(text)
        self._set_state("need_otp", why=why)

    def _closed(self, reason: str) -> None:
        if reason != CloseReason.VIEWER_QUIT:
            self.dialog.show_error(self.texts.close_reason(reason))
        self._set_state("closed", reason=reason)

    def _retrying(self, why: str) -> None:
        self._retry_why = why
        self.window.show_reconnecting()

    def _reconnect_in(self, seconds: int) -> None:
        why = self._retry_why
        if why == VIEWER_LOST:
            text = self.texts("reconnect_in", seconds=seconds)
        else:  # the relay could not be reached, or it refused (say, the office PC is offline)
            cause = self.texts(why) if why == "relay_unreachable" else self.refusal(why)
            text = f"{cause}\n{self.texts('retry_in', seconds=seconds)}"
        self.window.show_banner(text, BannerKind.PROGRESS)
        self.window.clear_stats()  # the last delay and rate are not the link's any more
        self._set_state("reconnecting", seconds=seconds, reason=why)

    # ----- the end -----------------------------------------------------------------------
    def quit(self) -> None:
        if self._quitting:
            return
        self._quitting = True
        self._quit_task = asyncio.ensure_future(self._quit())

    async def _quit(self) -> None:
        if self.client is not None:
            await self.client.hang_up()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._task), 2.0)
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._task
        self.window.hide()
        self.dialog.hide()
        self._set_state("exit")
        self.finished.emit()


def json_reporter(stream: Any = None) -> Callable[[dict[str, Any]], None]:
    out = stream or sys.stdout

    def report(state: dict[str, Any]) -> None:
        out.write(json.dumps(state, ensure_ascii=False) + "\n")
        out.flush()

    return report
