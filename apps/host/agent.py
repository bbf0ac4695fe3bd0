"""The host agent: enrolment, the control channel with reconnect, decisions, sessions, shutdown.

One asyncio object, used the same way by the headless service and the tray app (which turns
its events into Qt signals). Time comes from injected clocks (``clock`` monotonic seconds for
durations, ``wall`` local datetimes for hours and the shutdown schedule), so tests simulate
idle timeouts and shutdown times without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from apps.host.central_devices import CentralDevices
from apps.host.device_list import DeviceList
from apps.host.events import (
    STATUS_EVENTS,
    AgentEvent,
    AgentState,
    CentralDevicesChanged,
    CentralDevicesRefused,
    PolicyChanged,
    SessionEnded,
    SessionRefused,
    SessionStarted,
    Shutdown,
    ShutdownWarning,
    StateChanged,
)
from apps.host.mac_list import MacList
from apps.host.options import AgentOptions
from apps.host.session import CLOSE_WRITE_TIMEOUT_S, HostSession
from apps.host.session_core import SessionInfo
from apps.host.store import (
    IDENTITY_STEM,
    LOCAL_POLICY_FILE,
    PUSHED_POLICY_FILE,
    DataDir,
    HostRecord,
)
from apps.host.syslog_log import SessionSyslog
from core.crypto.certs import Identity, generate_identity
from core.errors import CryptoError, Error, LocalError, ProtocolError
from core.homecheck.report import HomeReport
from core.hostpolicy.backoff import RECONNECT_FIRST_SPREAD_STEPS, Backoff
from core.hostpolicy.decision import decide
from core.hostpolicy.devices import device_code
from core.hostpolicy.limits import ShutdownDue, ShutdownPlanner, ShutdownWarningDue
from core.hostpolicy.macs import registered_on_both
from core.hostpolicy.signed_devices import SignedDeviceList, SignedListError
from core.input.dispatch import Backend
from core.policy import Policy, PolicyError
from core.protocol.control import (
    DEAD_AFTER_KEEPALIVES,
    RefusalReason,
    SessionEnd,
    SessionOffer,
)
from core.protocol.control import (
    DeviceList as DeviceListMessage,
)
from core.protocol.notices import CloseReason
from storage.identity import load_or_create_identity, write_identity
from transport.client import Decline, RefusedByRelay, enroll, host_login, serve_control
from transport.connect import RelayEndpoint
from transport.e2e import SecureChannel
from transport.link_stream import LinkStream, PeerGone

# Quitting waits at most this long for the session to release held keys and tell the viewer why
# (its Close write alone may take session.CLOSE_WRITE_TIMEOUT_S), and for the agent to stop.
QUIT_CLEANUP_TIMEOUT_S = 5.0

log = logging.getLogger("telework.host")

AGENT_VERSION = "0.1.0"
MIN_DEAD_AFTER_S = 5.0
SESSION_END_GRACE_S = 5.0  # how long a shutdown waits for the session to say goodbye
SHUTDOWN_COMMAND_TIMEOUT_S = 60.0
# Refusals after which retrying cannot help until someone acts (re-enrol, fix the pin).
FATAL_REFUSALS = {RefusalReason.BAD_HOST_CREDENTIAL}


class HostAgent:
    def __init__(
        self,
        options: AgentOptions,
        *,
        backend: Backend | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], dt.datetime] = dt.datetime.now,
    ) -> None:
        self.options = options
        self.data = DataDir(options.data_dir)
        self.macs = MacList(options.data_dir)
        self.devices = DeviceList(options.data_dir)
        self.central = CentralDevices(options.data_dir)
        self._backend = backend
        self._backend_owned = False
        self._clock = clock
        self._wall = wall
        self.listeners: list[Callable[[AgentEvent], None]] = []
        self.record = self.data.load_record()
        self.state = AgentState.OFFLINE if self.record else AgentState.NOT_ENROLLED
        self.detail = ""
        self.connected = False
        self.paused = False
        self.local_policy = self.data.load_policy(LOCAL_POLICY_FILE)
        self.pushed_policy = self.data.load_policy(PUSHED_POLICY_FILE)
        self.planner = ShutdownPlanner(self.policy, wall())
        self.session: HostSession | None = None
        self._reserved: str | None = None  # session accepted, not yet running (see _release)
        self._devices: dict[str, str] = {}  # session ID -> the registered MAC it matched
        self._pending_stream: LinkStream | None = None
        self._control: LinkStream | None = None  # the control channel while it is served
        self._pending_keepalive_s = 0
        self._identity: Identity | None = None
        self.backoff = Backoff(
            options.reconnect_first_s,
            options.reconnect_max_s,
            first_spread_steps=RECONNECT_FIRST_SPREAD_STEPS,
        )
        self.shutdowns = 0

    # -- what the UI reads --------------------------------------------------------------------
    @property
    def policy(self) -> Policy:
        """The effective policy: local defaults made stricter by the relay's."""
        return self.local_policy.stricter(self.pushed_policy)

    @property
    def host_id(self) -> str | None:
        return self.record.host_id if self.record else None

    def status(self) -> dict[str, Any]:
        return {
            "host_id": self.host_id,
            "relay": self._relay_address(),
            "connected": self.connected,
            "session": self.session.info.to_dict() if self.session else None,
            "state": self.state.value,
            "detail": self.detail,
            "paused": self.paused,
            "pid": os.getpid(),
            "updated_at": self._wall().isoformat(timespec="seconds"),
        }

    def _relay_address(self) -> str | None:
        if self.options.relay:
            return self.options.relay
        return self.record.relay if self.record else self.options.preset_relay

    def _relay_pin(self) -> str | None:
        if self.options.relay_fingerprint:
            return self.options.relay_fingerprint
        return self.record.fingerprint if self.record else self.options.preset_fingerprint

    def _emit(self, event: AgentEvent) -> None:
        if isinstance(event, STATUS_EVENTS):
            with contextlib.suppress(OSError, LocalError):
                self.data.write_status(self.status())
        for listener in list(self.listeners):
            # A broken UI must not take the office PC offline: the agent keeps serving, and
            # the listener's fault is logged instead of ending ``run`` from inside a state change.
            try:
                listener(event)
            except Exception:
                log.exception("agent event listener failed on %s", type(event).__name__)

    def _set_state(self, state: AgentState, detail: str = "") -> None:
        self.state, self.detail = state, detail
        self._emit(StateChanged(state, detail))

    def set_paused(self, paused: bool) -> None:
        """Pause remote access: new requests are refused and a live session ends."""
        self.paused = paused
        if paused and self.session is not None:
            self.session.end(CloseReason.PAUSED)
        self._emit(StateChanged(self.state, self.detail))

    # -- enrolment ------------------------------------------------------------------------------
    def _endpoint(self) -> RelayEndpoint:
        address = self._relay_address()
        pin = self._relay_pin()
        if not address or not pin:
            raise LocalError(
                "relay address and fingerprint are needed (--relay, --relay-fingerprint)"
            )
        return RelayEndpoint.parse(address, fingerprint=pin)

    def identity(self) -> Identity:
        if self._identity is None:
            self._identity = load_or_create_identity(
                self.options.data_dir, IDENTITY_STEM, self.options.name
            )
        return self._identity

    async def enroll(self, token: str, tenant_key: str | None = None) -> str:
        """Redeem an enrolment token; returns the host ID. The link stays open for :meth:`run`.

        ``tenant_key``: the fingerprint of the tenant's signing key, from the enrolment code the
        admin console made (not from the relay), pinned once enrolled; lists of home PCs the
        tenant's admins register centrally must be signed by it."""
        endpoint = self._endpoint()
        self.data.ensure()
        # A fresh key for every attempt: if an earlier one was enrolled by the relay but its
        # answer never arrived, that key's host ID is taken for good, and reusing it would
        # be refused forever (the relay then lists an office PC that never came online). It
        # is stored only once enrolled, so a failed attempt leaves a working enrolment alone.
        identity = generate_identity(self.options.name)
        stream, enrolled = await enroll(
            endpoint, token.strip(), identity, self.options.name, AGENT_VERSION
        )
        self._identity = write_identity(self.options.data_dir, IDENTITY_STEM, identity)
        record = HostRecord(
            enrolled.host_id,
            enrolled.tenant,
            str(endpoint),
            endpoint.fingerprint or "",
            self.options.name,
        )
        self.data.save_enrolment(record, enrolled.secret)
        self.record = record
        if tenant_key:
            self.central.pin(tenant_key)
        self._pending_stream = stream
        self._pending_keepalive_s = enrolled.keepalive_s
        log.info("enrolled as host %s in %s", enrolled.host_id, enrolled.tenant)
        self._set_state(AgentState.OFFLINE, "enrolled")
        return enrolled.host_id

    # -- the control channel ---------------------------------------------------------------------
    async def run(self) -> None:
        """Serve until cancelled: connect, serve, and reconnect with back-off when it drops."""
        if self.record is None:
            raise LocalError("not enrolled")
        if self._backend is None and self.options.inject:
            self._backend = self._open_backend()
            self._backend_owned = self._backend is not None
        ticker = asyncio.create_task(self._tick())
        syslog = self._start_syslog()
        try:
            while True:
                await self._connect_and_serve()
                if self.state is AgentState.ERROR:
                    # A retired or deleted office PC, or a relay that is not the one enrolled
                    # with: retrying cannot help and would only knock on the relay for ever.
                    # The state says why (tray, status file) until someone acts and restarts.
                    log.error("not retrying until restarted: %s", self.detail)
                    await asyncio.Event().wait()
                delay = self.backoff.next_delay()
                log.info("relay connection lost; retrying in %.1f s", delay)
                await asyncio.sleep(delay)
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            if self._pending_stream is not None:
                await self._pending_stream.close()
            if self.session is not None:
                self.session.end(CloseReason.HOST_QUIT)
            self.connected = False
            if self._backend_owned and self._backend is not None:
                self._backend.close()
                self._backend = None
            self._set_state(AgentState.OFFLINE, "stopped")
            if syslog is not None:
                self.listeners.remove(syslog.on_event)
                await syslog.close()

    def _start_syslog(self) -> SessionSyslog | None:
        """Send the session log to the collector of ``--syslog``, if one was given."""
        if self.options.syslog is None:
            return None
        syslog = SessionSyslog(self.options.syslog, self.options.name, lambda: self.host_id)
        self.listeners.append(syslog.on_event)
        syslog.start()
        return syslog

    def _open_backend(self) -> Backend | None:
        """The OS's injection backend, with every key and button the OS reports held released.

        An agent killed mid-session (a crash, SIGKILL) leaves its viewer's keys held, and the
        OS keeps them so: Ctrl and Shift stay down, through a restart and the next session, and
        typing "ab" at the office PC gives Ctrl+Shift+A. Releasing everything held is right
        here, and only here: no remote viewer can be connected yet, so anything held was left
        by a dead agent, or is a key a local user holds at this instant (they press it again).
        During a session the same would take keys from under a local user's fingers, so
        sessions release only what their viewer pressed."""
        from desktop.injector import open_backend

        backend = open_backend()
        if backend is not None:
            try:
                released = backend.release_everything_held()
            except Exception as exc:  # Xlib/ctypes errors of many kinds; injection still works
                log.warning("could not release keys left held: %s", type(exc).__name__)
            else:
                if released:
                    log.warning("released %d keys and buttons left held at start", released)
        return backend

    async def _connect_and_serve(self) -> None:
        assert self.record is not None
        try:
            endpoint = self._endpoint()
            secret = self.data.load_secret()
            if self._pending_stream is not None:
                stream, self._pending_stream = self._pending_stream, None
                keepalive_s = self._pending_keepalive_s
            else:
                stream, ready = await host_login(
                    endpoint, self.record.host_id, secret, AGENT_VERSION
                )
                keepalive_s = ready.keepalive_s
        except RefusedByRelay as exc:
            fatal = exc.reason in FATAL_REFUSALS
            self._set_state(AgentState.ERROR if fatal else AgentState.OFFLINE, exc.reason)
            return
        except CryptoError:
            self._set_state(AgentState.ERROR, "pin_mismatch")
            return
        except (PeerGone, OSError, TimeoutError, Error) as exc:
            self._set_state(AgentState.OFFLINE, type(exc).__name__)
            return
        self.backoff.reset()
        self.connected = True
        self._set_state(AgentState.IN_SESSION if self.session else AgentState.WAITING)
        dead_after = self.options.dead_after_s or max(
            MIN_DEAD_AFTER_S, DEAD_AFTER_KEEPALIVES * keepalive_s
        )
        self._control = stream
        try:
            await serve_control(
                stream,
                endpoint,
                self.record.host_id,
                secret,
                self.identity(),
                self.decide,
                self.run_session,
                on_policy=self.on_policy,
                on_session_end=self._on_relay_session_end,
                on_device_list=self.on_device_list,
                release=self._release,
                dead_after_s=dead_after,
                e2e_timeout_s=self.options.e2e_timeout_s,
            )
        except (PeerGone, OSError, Error) as exc:
            log.info("control channel ended: %s", type(exc).__name__)
        finally:
            # A session goes on: it has its own data connection (in a cluster usually through
            # another relay node than the lost channel's) and ends when that does; run() ends
            # it when the agent stops.
            self.connected = False
            self._control = None
            await asyncio.shield(stream.close())  # also when the agent is being stopped
        self._set_state(AgentState.OFFLINE, "relay_lost")

    # -- decisions and sessions -----------------------------------------------------------------
    async def decide(self, offer: SessionOffer) -> str | Decline | None:
        try:
            registered = registered_on_both(self.macs.load(), self.policy, offer.macs)
        except LocalError:
            registered = None
        try:
            # The offer's certificate is the one the end-to-end handshake will insist on.
            device_registered = self._device_registered(device_code(offer.device_cert))
        except (LocalError, CryptoError):
            device_registered = False
        verdict = decide(
            device_registered=device_registered,
            registered=registered,
            policy=self.policy,
            paused=self.paused,
            busy=self.session is not None or self._reserved is not None,
            allow_take_over=self.options.allow_take_over,
            now=self._wall(),
            home_report=_home_report(offer),
        )
        if verdict.refusal is not None:
            log.info("refused %s from %s: %s", offer.user, offer.source, verdict.refusal.value)
            self._emit(
                SessionRefused(offer.user, offer.tenant, offer.source, verdict.refusal.value)
            )
            return Decline(verdict.refusal.value, verdict.checks, verdict.hours)
        if verdict.take_over and self.session is not None:
            self.session.end(CloseReason.TAKEN_OVER)
        self._reserved = offer.session_id
        self._devices[offer.session_id] = verdict.device.mac if verdict.device else ""
        return None

    def _device_registered(self, code: str) -> bool:
        """On the office PC's own list, or on the central list its tenant's admins signed."""
        if self.devices.load().accepts(code):
            return True
        central = self.central.load(self.record)
        return central is not None and central.accepts(code)

    def on_device_list(self, message: DeviceListMessage) -> None:
        """A central list of home PCs the relay pushed: applied only if the pinned tenant key
        signed it for this office PC, newer than the last; refused (and logged) otherwise."""
        signed = SignedDeviceList(message.payload, message.signature, message.public_key)
        tenant = self.record.tenant if self.record else ""
        try:
            central = self.central.apply(signed, self.record)
        except SignedListError as exc:
            log.warning("refused a central list of home PCs from the relay: %s", exc.reason)
            self._emit(CentralDevicesRefused(tenant, exc.reason))
            return
        except (LocalError, OSError) as exc:
            log.error("could not keep the central list of home PCs: %s", type(exc).__name__)
            return
        log.info(
            "applied the central list of home PCs, serial %d: %d registered",
            central.serial,
            len(central.devices),
        )
        self._emit(CentralDevicesChanged(central))

    async def run_session(self, offer: SessionOffer, channel: SecureChannel) -> None:
        previous = self.session
        if previous is not None:  # taken over: let it say goodbye first
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._session_gone(previous), SESSION_END_GRACE_S)
        mac = self._devices.get(offer.session_id, "")
        entry = self.macs.match([mac]) if mac else None
        info = SessionInfo(
            offer.session_id,
            offer.user,
            offer.tenant,
            (entry.label or entry.mac) if entry else mac,
            mac,
            self._wall().isoformat(timespec="seconds"),
        )
        session = HostSession(
            offer,
            channel,
            info,
            policy=self.policy,
            host_name=self.options.name,
            backend=self._backend if self.options.inject else None,
            display=self.options.display,
            monitor=self.options.monitor,
            clock=self._clock,
            wall=self._wall,
            tick_s=self.options.tick_s,
            budget_bps=self.options.budget_bps,
            report_cut=self._report_cut,
        )
        self.session = session
        self._release(offer.session_id)  # from here on the live session keeps the host busy
        self._set_state(AgentState.IN_SESSION)
        self._emit(SessionStarted(info))
        reason = CloseReason.ERROR.value
        try:
            reason = await session.run()
        finally:
            # However the session's task ended (an exception out of its own clean-up too).
            session.release_input()
            if self.session is session:
                self.session = None
            log.info("session %s ended: %s", offer.session_id[:8], reason)
            self._emit(SessionEnded(info, reason))
            if self.connected:
                self._set_state(AgentState.WAITING)

    async def _report_cut(self, session_id: str, reason: str) -> None:
        """Tell the relay this office PC's policy cut the session, so that it ends the viewer's
        resume ticket. Without a control channel now, nobody is told: the relay learns of the
        cut only as a drop (the ticket then keeps its lifetime, see SECURITY.md)."""
        stream = self._control
        if stream is None:
            log.warning("session %s cut (%s) with the relay offline", session_id[:8], reason)
            return
        try:
            await asyncio.wait_for(
                stream.send(SessionEnd(session_id, reason)), CLOSE_WRITE_TIMEOUT_S
            )
        except (PeerGone, OSError, TimeoutError, Error) as exc:
            log.warning(
                "session %s: the relay was not told of the cut: %s",
                session_id[:8],
                type(exc).__name__,
            )

    def _release(self, session_id: str) -> None:
        """Free what :meth:`decide` held for an accepted session, whether it started or not:
        the transport calls this however the session ends, so a failed attach (viewer gone,
        relay refusal, wrong device, timeout, cancellation) never leaves the host busy."""
        if self._reserved == session_id:
            self._reserved = None
        self._devices.pop(session_id, None)

    async def _session_gone(self, session: HostSession) -> None:
        while self.session is session:
            await asyncio.sleep(0.02)

    def on_policy(self, data: dict[str, Any]) -> None:
        try:
            pushed = Policy.from_dict(data)
        except PolicyError as exc:
            log.warning("ignored a malformed policy from the relay: %s", exc)
            return
        self.pushed_policy = pushed
        with contextlib.suppress(OSError):
            self.data.save_pushed_policy(pushed)
        self.planner.replace_policy(self.policy, self._wall())
        if self.session is not None:
            self.session.apply_policy(self.policy)
        self._emit(PolicyChanged(self.policy))

    def _on_relay_session_end(self, session_id: str, reason: str) -> None:
        if self.session is not None and self.session.info.session_id == session_id:
            known = {r.value for r in CloseReason}
            self.session.end(CloseReason(reason) if reason in known else CloseReason.HOST_QUIT)

    # -- the schedule --------------------------------------------------------------------------
    async def _tick(self) -> None:
        while True:
            self._watch_session()
            due = self.planner.check(self._wall())
            if isinstance(due, ShutdownWarningDue):
                self._emit(ShutdownWarning(due.at, due.minutes_left))
                if self.session is not None:
                    await self.session.warn_shutdown(due.at, due.minutes_left)
            elif isinstance(due, ShutdownDue):
                await self._shut_down(due.at)
            await asyncio.sleep(self.options.tick_s)

    def _watch_session(self) -> None:
        """The watchdog: a session stuck (ended and never closed, or its input loop no longer
        turning) would keep its viewer's keys held on the office PC; it is ended, which
        releases them."""
        session = self.session
        if session is not None and session.check_stuck():
            log.warning(
                "session %s is stuck: its held keys and buttons were released",
                session.info.session_id[:8],
            )

    async def _shut_down(self, at: str) -> None:
        """End the session (the viewer learns why), then run the shutdown command."""
        self._emit(Shutdown(at))
        session = self.session
        if session is not None:
            session.end(CloseReason.SHUTDOWN)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._session_gone(session), SESSION_END_GRACE_S)
        command = self.options.shutdown_command
        log.warning("scheduled shutdown at %s: running %s", at, command[0] if command else "-")
        self.shutdowns += 1
        try:
            process = await asyncio.create_subprocess_exec(*command)
            await asyncio.wait_for(process.wait(), SHUTDOWN_COMMAND_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            log.error("shutdown command failed: %s", exc)


def _home_report(offer: SessionOffer) -> HomeReport | None:
    """What the viewer said of its home PC, as the relay passed it on; a malformed report is
    no report (the relay checks it first; an older relay passes none)."""
    try:
        return HomeReport.from_wire(offer.home_check)
    except ProtocolError:
        return None


async def stop_agent(
    agent: HostAgent, run: asyncio.Task[None], timeout_s: float = QUIT_CLEANUP_TIMEOUT_S
) -> None:
    """End the session as a host quit, then stop the agent, waiting for both to clean up.

    The app's loop stops right after this returns, and a task it merely cancelled would never
    get to run its ``finally``: keys held by the viewer would stay down and the viewer would not
    learn why the session ended. Waiting is bounded, so a stuck connection cannot keep the app
    from quitting."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    session = agent.session
    if session is not None:
        session.end(CloseReason.HOST_QUIT)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(session.wait_closed(), timeout_s)
    run.cancel()
    await asyncio.wait([run], timeout=max(0.0, deadline - loop.time()))
