"""A real relay on loopback with a real directory, plus a scripted host agent and viewer.

Timeouts are scaled down through :class:`RelaySettings` so tests never wait for real ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyotp

from core.crypto.certs import Identity, generate_identity
from core.protocol.control import DeviceList, Login, ProgressStage, SessionOffer
from core.syslog import SyslogDestination
from relay.hooks import RelayHooks
from relay.server import RelayServer
from relay.settings import RelaySettings
from relay.store.directory import Directory
from transport.client import Decline, enroll, host_login, serve_control, viewer_login
from transport.connect import RelayEndpoint
from transport.e2e import E2E_HANDSHAKE_TIMEOUT_S, SecureChannel
from transport.link_stream import LinkStream
from transport.wake import Waker

# The office PC's answer and attach, and its silence before it counts as dead, get seconds
# more than they need on an idle machine: tests call the directory synchronously on the relay's
# own loop (scrypt-hashed codes, PostgreSQL on a loaded CI machine), and a test about something
# else must not fail with host_timeout or a dropped office PC (the tests of those timeouts wait
# them out).
FAST = RelaySettings(
    handshake_timeout_s=1.0,
    keepalive_interval_s=0.2,
    dead_after_s=5.0,
    host_answer_timeout_s=6.0,
    attach_timeout_s=6.0,
    end_grace_s=0.3,
    resume_host_wait_s=1.0,
)
TENANT = "example-city"
USER = "tanaka"


@dataclass
class Relay:
    server: RelayServer
    directory: Directory
    endpoint: RelayEndpoint
    totp_secret: str

    def totp_now(self) -> str:
        return pyotp.TOTP(self.totp_secret).now()

    def audit_events(self) -> list[str]:
        return [r.event for r in self.directory.list_audit(limit=10_000)]

    async def close(self) -> None:
        """Stop the server, let the directory calls it left running finish, close the store.

        ``RelayServer.close`` cancels the tasks awaiting those calls but not the calls in their
        worker threads (a session's last audit record): closing the store under them would
        leave them a connection nobody closes, which PostgreSQL's driver warns about.
        """
        await self.server.close()
        await asyncio.get_running_loop().shutdown_default_executor()
        self.directory.close()


def database_options(database: str | None) -> list[str]:
    """The CLI's ``--database URL``, or nothing for the default SQLite file."""
    return [] if database is None else ["--database", database]


async def start_relay(
    data_dir: Path,
    settings: RelaySettings = FAST,
    hooks: RelayHooks | None = None,
    *,
    database: str | None = None,
    syslog: SyslogDestination | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> Relay:
    """A relay on loopback; its directory in ``data_dir`` or at the ``database`` URL."""
    directory = Directory.open(data_dir, database=database)
    directory.add_tenant(TENANT)
    _, secret = directory.add_user(TENANT, USER)
    server = RelayServer(
        directory,
        generate_identity("relay"),
        settings,
        hooks=hooks,
        syslog=syslog,
        wall_clock=wall_clock,
    )
    host, port = await server.start("127.0.0.1", 0)
    return Relay(
        server, directory, RelayEndpoint(host, port, fingerprint=server.fingerprint), secret
    )


async def echo_session(offer: SessionOffer, channel: SecureChannel) -> None:
    while data := await channel.read():
        await channel.write(b"echo:" + data)


@dataclass
class HostAgent:
    """A minimal scripted host: enrols, serves its control channel, runs ``session``."""

    relay: Relay
    identity: Identity = field(default_factory=lambda: generate_identity("office-pc"))
    refuse_with: str | Decline | None = None
    session: Callable[[SessionOffer, SecureChannel], Awaitable[None]] = echo_session
    host_id: str = ""
    secret: str = ""
    e2e_timeout_s: float = E2E_HANDSHAKE_TIMEOUT_S
    waker: Waker = field(default_factory=Waker)
    offers: list[SessionOffer] = field(default_factory=list)
    released: list[str] = field(default_factory=list)  # session IDs serve_control released
    policies: list[dict[str, object]] = field(default_factory=list)
    device_lists: list[DeviceList] = field(default_factory=list)  # signed lists pushed
    ended: list[tuple[str, str]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    stream: LinkStream | None = None

    async def start(self) -> HostAgent:
        token = self.relay.directory.issue_enrollment_token(TENANT, 600, time.time())
        stream, enrolled = await enroll(self.relay.endpoint, token, self.identity, "PC-01", "test")
        self.host_id, self.secret = enrolled.host_id, enrolled.secret
        return await self._serve(stream)

    async def reconnect(self) -> HostAgent:
        """A new control channel with the enrolment's credential (the agent came back)."""
        stream, _ = await host_login(self.relay.endpoint, self.host_id, self.secret, "test")
        return await self._serve(stream)

    async def _serve(self, stream: LinkStream) -> HostAgent:
        self.stream = stream
        self.task = asyncio.create_task(
            serve_control(
                stream,
                self.relay.endpoint,
                self.host_id,
                self.secret,
                self.identity,
                self._decide,
                self.session,
                on_policy=self.policies.append,
                on_device_list=self.device_lists.append,
                on_session_end=lambda sid, reason: self.ended.append((sid, reason)),
                release=self.released.append,
                e2e_timeout_s=self.e2e_timeout_s,
                waker=self.waker,
            )
        )
        await wait_until(lambda: self.host_id in self.relay.server.hosts)
        return self

    async def _decide(self, offer: SessionOffer) -> str | Decline | None:
        self.offers.append(offer)
        return self.refuse_with

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task
        if self.stream is not None:  # the task may have been cancelled before it started
            await self.stream.close()


def login_message(
    relay: Relay,
    host_id: str,
    otp: str,
    device: Identity,
    user: str = USER,
    macs: list[str] | None = None,
    resume_ticket: str = "",
    home_check: dict[str, object] | None = None,
    wake: bool = False,
) -> Login:
    return Login(
        TENANT,
        user,
        otp,
        host_id,
        device.cert_pem.decode(),
        macs if macs is not None else ["02:00:00:00:00:01"],
        resume_ticket,
        home_check or {},
        wake,
    )


async def login(
    relay: Relay,
    host_id: str,
    otp: str,
    device: Identity | None = None,
    on_progress: Callable[[ProgressStage], None] = lambda stage: None,
    **kw,
):
    device = device or generate_identity("home-pc")
    return await viewer_login(
        relay.endpoint, login_message(relay, host_id, otp, device, **kw), device, on_progress
    )


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
