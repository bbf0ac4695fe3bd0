"""The viewer's asyncio adapter: log in, run the session, reconnect; results as Qt signals.

It only moves bytes between :class:`transport.e2e.SecureChannel` and
:class:`apps.viewer.session_core.ViewerSession` and turns the outcome into signals; what the
session means lives in the core, what the user sees in the widgets. One writer task sends
whatever the core has queued, so input from Qt handlers and reports from the ticker never
interleave on the channel. Nothing here logs an OTP, a ticket or a picture.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from apps.viewer.reconnect import ReconnectPlan
from apps.viewer.session_core import (
    Closed,
    CursorChanged,
    Picture,
    PolicyChanged,
    ScreensChanged,
    ViewerSession,
    Warned,
)
from core.crypto.certs import Identity
from core.errors import CryptoError, ProtocolError
from core.protocol.control import Login, LoginOk, ProgressStage, RefusalReason
from core.protocol.notices import CloseReason
from core.protocol.session import (
    HOST_SILENCE_TIMEOUT_S,
    Button,
    Close,
    Key,
    Pointer,
    Role,
    SessionChannel,
    SpecialKeys,
    Wheel,
)
from transport.client import RefusedByRelay, viewer_login
from transport.connect import RelayEndpoint
from transport.e2e import SecureChannel
from transport.link_stream import PeerGone

log = logging.getLogger("telework.viewer")

TICK_S = 0.25  # receiver reports are due every 500 ms; check twice as often
COUNTDOWN_STEP_S = 1.0
NETWORK_ERRORS = (OSError, TimeoutError, PeerGone, asyncio.IncompleteReadError)
# The session stopped on the viewer's side: its link broke, or nothing came from the office PC
# in time. The relay and the office PC cannot tell this from the viewer leaving; the viewer can.
VIEWER_LOST = "viewer_lost"


@dataclass(frozen=True)
class Credentials:
    tenant: str
    user: str
    host_id: str
    otp: str
    # Have the relay wake the office PC if it is off, and wait for it (the user asked, after
    # a HOST_OFFLINE refusal). Only this run's first login asks: a reconnect finds it awake.
    wake: bool = False


class ViewerClient(QObject):
    progress = Signal(object)  # ProgressStage
    loggedIn = Signal(object)  # LoginOk
    # RefusalReason value, retry_after (epoch s), the home-PC checks that failed (names), the
    # allowed hours of an OUTSIDE_HOURS refusal (core.policy.HoursSpan, the relay's checked)
    refused = Signal(str, int, object, object)
    failed = Signal(str)  # a viewer catalog key: relay_unreachable, relay_untrusted, host_untrusted
    needOtp = Signal(str)  # a viewer catalog key, or "refused:<reason>" after a refused resume
    picture = Signal(object)  # session_core.Picture
    cursorChanged = Signal(object)  # CursorState
    policyChanged = Signal(object)  # SessionPolicy
    screensChanged = Signal(object)  # HostScreens
    warned = Signal(object)  # ShutdownWarning | IdleWarning
    closed = Signal(str)  # CloseReason value
    # Why another attempt with the ticket is coming: VIEWER_LOST, "relay_unreachable", or the
    # RefusalReason value of a refused reconnect. Said once per wait, before its countdown.
    retrying = Signal(str)
    reconnectIn = Signal(int)  # seconds until the next attempt
    statsChanged = Signal(int, int)  # delay ms, receive kbit/s

    def __init__(
        self,
        endpoint: RelayEndpoint,
        device: Identity,
        macs: list[str],
        clock: Callable[[], float] = time.monotonic,
        silence_timeout_s: float = HOST_SILENCE_TIMEOUT_S,
        home_check: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        """``home_check`` gathers this PC's home-PC check report (blocking: run in a thread,
        once per :meth:`run`, so reconnects are not checked again); None sends none."""
        super().__init__()
        self.home_check = home_check
        self._report: dict[str, Any] = {}
        self.endpoint = endpoint
        self.device = device
        self.macs = macs
        self.clock = clock
        self.silence_timeout_s = silence_timeout_s
        self.session: ViewerSession | None = None
        self.login_ok: LoginOk | None = None
        self.plan: ReconnectPlan | None = None
        self._channel: SecureChannel | None = None
        self._wake = asyncio.Event()
        self._quitting = False
        self._heard_at = 0.0  # when the office PC was last heard from (clock seconds)

    @property
    def holds_ticket(self) -> bool:
        """A refusal (office PC offline, busy, slow) left a ticket: the next :meth:`run` uses
        it, so no new OTP is needed (an OTP passed anyway is tried only if the ticket fails)."""
        return self.plan is not None and self.plan.usable(self.clock())

    # ----- called by the widgets ---------------------------------------------------------
    def send_input(self, message: Key | Pointer | Button | Wheel | SpecialKeys) -> bool:
        if self.session is None or not self.session.send_input(message):
            return False
        self._wake.set()
        return True

    def still_here(self) -> None:
        """The user answered the idle warning: tell the office PC they are there."""
        if self.session is not None:
            self.session.still_here()
            self._wake.set()

    def choose_monitor(self, index: int) -> None:
        if self.session is not None:
            self.session.choose_monitor(index)
            self._wake.set()

    def set_view_only(self, on: bool) -> None:
        if self.session is not None:
            self.session.user_view_only = on

    async def hang_up(self) -> None:
        """End the session on purpose: tell the office PC, then close the channel."""
        self._quitting = True
        session, channel = self.session, self._channel
        if session is not None and channel is not None and session.closed is None:
            session.close(CloseReason.VIEWER_QUIT)
            with contextlib.suppress(*NETWORK_ERRORS):
                await channel.write(session.data_to_send())
        if channel is not None:
            channel.close()

    # ----- the session's life ------------------------------------------------------------
    async def run(self, credentials: Credentials) -> None:
        """Log in with an OTP, show the session, reconnect with the ticket after drops.

        Returns when the session is over for good (closed, refused, or a new OTP is needed);
        the signals have said why by then.
        """
        self._quitting = False
        self._report = await self._check_home_pc()
        wake = credentials.wake
        if self.holds_ticket:
            assert self.plan is not None
            login = self._login_message(credentials, "", self.plan.ticket, wake=wake)
        else:
            self.plan = None
            login = self._login_message(credentials, credentials.otp, "", wake=wake)
        resuming = False
        while True:
            channel = await self._log_in(login, resuming, credentials.otp)
            if channel is None:
                return
            dropped = await self._run_channel(channel)
            if not dropped:  # over for good: its ticket must not stand in for the next OTP
                self.plan = None
                return
            assert self.plan is not None
            self.plan.dropped(self._heard_at)
            log.info("session dropped, reason=%s; reconnecting", VIEWER_LOST)
            if not await self._wait_to_retry(VIEWER_LOST):
                return
            login = self._login_message(credentials, "", self.plan.ticket)
            resuming = True

    async def _check_home_pc(self) -> dict[str, Any]:
        if self.home_check is None:
            return {}
        self.progress.emit(ProgressStage.CHECKING_HOME_PC)
        try:
            return await asyncio.to_thread(self.home_check)
        except Exception:  # a check that breaks must not stop the login; the policy decides
            log.exception("home-PC check failed")
            return {}

    def _login_message(self, c: Credentials, otp: str, ticket: str, wake: bool = False) -> Login:
        return Login(
            c.tenant,
            c.user,
            otp,
            c.host_id,
            self.device.cert_pem.decode(),
            self.macs,
            ticket,
            self._report,
            wake,
        )

    def _give_up(self, why: str) -> None:
        """Only a new OTP helps now (said only if the user has not quit meanwhile)."""
        self.plan = None
        if not self._quitting:
            self.needOtp.emit(why)

    async def _wait_to_retry(self, why: str) -> bool:
        """Count down to the next attempt with the ticket; False once it has run out."""
        assert self.plan is not None
        self.retrying.emit(why)
        if not await self._count_down(self.plan):
            self._give_up("reconnect_expired")
            return False
        self.progress.emit(ProgressStage.RECONNECTING)
        return True

    async def _log_in(self, login: Login, resuming: bool, otp: str) -> SecureChannel | None:
        """Log in (retrying while ``resuming``); None if it came to nothing, the signals say why.

        ``otp`` is the one the user gave: tried if a ticket kept from a refusal has run out."""
        stage: ProgressStage | None = None

        def on_progress(new_stage: ProgressStage) -> None:
            nonlocal stage
            stage = new_stage
            self.progress.emit(new_stage)

        while True:
            try:
                channel, ok = await viewer_login(self.endpoint, login, self.device, on_progress)
                break
            except RefusedByRelay as refusal:
                log.info("login refused: %s", refusal.reason)
                retry = await self._after_refusal(refusal, login, resuming, otp)
                if retry is None:
                    return None
                login = retry
            except (CryptoError, ProtocolError) as exc:  # pin mismatch, bad certificate, garbage
                log.warning("login failed at %s: %s", stage or "start", type(exc).__name__)
                if not self._quitting:
                    self.failed.emit(
                        "host_untrusted"
                        if stage is ProgressStage.SECURING_CHANNEL
                        else "relay_untrusted"
                    )
                return None
            except NETWORK_ERRORS as exc:
                log.info("relay unreachable at %s: %s", stage or "start", type(exc).__name__)
                if not resuming or self.plan is None:
                    if not self._quitting:
                        self.failed.emit("relay_unreachable")
                    return None
                if not await self._wait_to_retry("relay_unreachable"):
                    return None
        if self._quitting:
            # Cancel or close came while the login was finishing: end it as asked, so the
            # office PC hears "viewer_quit" (not a drop), and show nothing.
            await self._say_goodbye(channel)
            return None
        if self.plan is None:
            self.plan = ReconnectPlan.after_login(ok.resume_ticket, ok.resume_ttl_s)
        else:
            self.plan.renewed(ok.resume_ticket, ok.resume_ttl_s)
        self.login_ok = ok
        self.loggedIn.emit(ok)
        self.progress.emit(ProgressStage.RECEIVING_SCREEN)
        return channel

    async def _after_refusal(
        self, refusal: RefusedByRelay, login: Login, resuming: bool, otp: str
    ) -> Login | None:
        """The login to try next after a refusal, or None (the signals say why)."""
        if self._quitting:
            return None
        if refusal.resume_ticket:
            # The office PC is not ready (offline, busy, slow). The relay used up our OTP or
            # ticket but handed back a fresh ticket: keep it, so the next try needs no new OTP.
            retry = dataclasses.replace(login, otp="", resume_ticket=refusal.resume_ticket)
            if not resuming:  # the user tries again when they choose to
                self.plan = ReconnectPlan.after_refusal(refusal.resume_ticket, self.clock())
                self.refused.emit(
                    refusal.reason, refusal.retry_after, refusal.checks, refusal.hours
                )
                return None
            assert self.plan is not None
            self.plan.ticket = refusal.resume_ticket
            return retry if await self._wait_to_retry(refusal.reason) else None
        if resuming:
            self._give_up(f"refused:{refusal.reason}")
            return None
        self.plan = None
        if login.resume_ticket and otp and refusal.reason == RefusalReason.BAD_RESUME_TICKET:
            # A ticket kept from a refusal ran out after all; the OTP the user gave still works.
            return dataclasses.replace(login, otp=otp, resume_ticket="")
        self.refused.emit(refusal.reason, refusal.retry_after, refusal.checks, refusal.hours)
        return None

    async def _say_goodbye(self, channel: SecureChannel) -> None:
        with contextlib.suppress(*NETWORK_ERRORS):
            await channel.write(SessionChannel(Role.VIEWER).send(Close(CloseReason.VIEWER_QUIT)))
        channel.close()

    async def _count_down(self, plan: ReconnectPlan) -> bool:
        at = plan.schedule(self.clock())
        if at is None:
            return False
        while (left := at - self.clock()) > 0:
            self.reconnectIn.emit(plan.seconds_left(self.clock()))
            await asyncio.sleep(min(COUNTDOWN_STEP_S, left))
        return not self._quitting

    async def _run_channel(self, channel: SecureChannel) -> bool:
        """Run one connected session; True if the network dropped (worth a reconnect)."""
        session = self.session = ViewerSession()
        self._channel = channel
        self._wake = asyncio.Event()
        writer = asyncio.create_task(self._write_loop(channel, session))
        ticker = asyncio.create_task(self._tick_loop(session))
        dropped = False
        self._heard_at = self.clock()
        try:
            # Silence past the timeout raises TimeoutError: handled as the drop it is.
            while data := await asyncio.wait_for(channel.read(), self.silence_timeout_s):
                self._heard_at = self.clock()
                for event in session.receive_data(data, self.clock()):
                    self._dispatch(event)
                self._wake.set()
                if session.closed is not None:
                    break
            else:
                dropped = session.closed is None
        except ProtocolError as exc:
            log.warning("office PC sent something invalid: %s", exc)
            session.close(CloseReason.ERROR)
            with contextlib.suppress(*NETWORK_ERRORS):
                await channel.write(session.data_to_send())
            self.closed.emit(CloseReason.ERROR)
        except NETWORK_ERRORS as exc:
            log.info("session channel lost: %s", type(exc).__name__)
            dropped = session.closed is None
        finally:
            for task in (writer, ticker):
                task.cancel()
            for task in (writer, ticker):
                with contextlib.suppress(asyncio.CancelledError, *NETWORK_ERRORS):
                    await task
            channel.close()
            self._channel = None
        if writer.done() and not writer.cancelled() and writer.exception() is not None:
            dropped = True
        return dropped and not self._quitting

    def _dispatch(self, event: object) -> None:
        match event:
            case Picture():
                self.picture.emit(event)
            case CursorChanged(cursor=cursor):
                self.cursorChanged.emit(cursor)
            case PolicyChanged(policy=policy):
                self.policyChanged.emit(policy)
            case ScreensChanged(screens=screens):
                self.screensChanged.emit(screens)
            case Warned(notice=notice):
                self.warned.emit(notice)
            case Closed(reason=reason):
                self.closed.emit(reason)

    async def _write_loop(self, channel: SecureChannel, session: ViewerSession) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            data = session.data_to_send()
            if data:
                await channel.write(data)

    async def _tick_loop(self, session: ViewerSession) -> None:
        while True:
            now = self.clock()
            session.tick(now)
            self._wake.set()
            self.statsChanged.emit(session.stats.delay_ms, session.stats.receive_kbps(now))
            await asyncio.sleep(TICK_S)
