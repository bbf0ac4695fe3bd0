"""Fixtures of the fault suite: the real relay process (``python -m relay.cli serve``) and a
scripted office PC and viewer talking to it over loopback."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import subprocess
from pathlib import Path

import pytest

from core.crypto.certs import Identity, generate_identity
from core.protocol.control import Login
from tests.e2e.rig import Accounts, Relay
from tests.integration.relay_harness import echo_session
from transport.client import enroll, host_login, serve_control, viewer_login
from transport.connect import RelayEndpoint
from transport.e2e import SecureChannel
from transport.link_stream import LinkStream


def endpoint(relay: Relay) -> RelayEndpoint:
    return RelayEndpoint(relay.host, relay.port, fingerprint=relay.fingerprint)


class OfficePc:
    """An enrolled office PC whose control channel runs in this test's event loop."""

    def __init__(self, relay: Relay, accounts: Accounts) -> None:
        self.relay, self.accounts = relay, accounts
        self.identity = generate_identity("office-pc")
        self.host_id = self.secret = ""
        self.task: asyncio.Task[None] | None = None
        self.stream: LinkStream | None = None

    async def start(self) -> None:
        """Enrol, serve the control channel, and grant the test's user this office PC."""
        stream, enrolled = await enroll(
            endpoint(self.relay), self.accounts.enrolment_token(), self.identity, "PC-01", "t"
        )
        self.host_id, self.secret = enrolled.host_id, enrolled.secret
        self._serve(stream)
        self.accounts.grant(self.accounts.user, self.host_id)

    async def reconnect(self) -> None:
        """Open a new control channel with the enrolment's credential (the agent restarted)."""
        stream, _ = await host_login(endpoint(self.relay), self.host_id, self.secret, "t")
        self._serve(stream)

    def _serve(self, stream: LinkStream) -> None:
        self.stream = stream
        self.task = asyncio.create_task(
            serve_control(
                stream,
                endpoint(self.relay),
                self.host_id,
                self.secret,
                self.identity,
                lambda offer: asyncio.sleep(0, None),  # accept every offer
                echo_session,
            )
        )

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task
        if self.stream is not None:  # the task may have been cancelled before it started
            await self.stream.close()


async def log_in(
    relay: Relay,
    accounts: Accounts,
    host_id: str,
    otp: str,
    resume_ticket: str = "",
    device: Identity | None = None,
) -> tuple[SecureChannel, str]:
    """A viewer's login (from a new home PC unless ``device`` is given); its channel to the
    office PC and its resume ticket."""
    device = device or generate_identity("home-pc")
    message = Login(
        accounts.tenant,
        accounts.user,
        otp,
        host_id,
        device.cert_pem.decode(),
        ["02:00:00:00:00:01"],
        resume_ticket,
    )
    channel, ok = await viewer_login(endpoint(relay), message, device)
    return channel, ok.resume_ticket


def send_garbage(relay: Relay) -> None:
    """One connection that completes TLS and sends bytes no peer of the relay would; blocking."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the relay's identity does not matter to garbage
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    with (
        contextlib.suppress(OSError),
        socket.create_connection((relay.host, relay.port), timeout=10) as raw,
        context.wrap_socket(raw) as tls,
    ):
        tls.sendall(b"\x00garbage\x00" * 4)
        while tls.recv(4096):
            pass


@pytest.fixture
def tmpfs(tmp_path: Path):
    """A small file system of its own (2 MiB), so a test can fill it to 100 %."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def relay_on(tmp_path: Path):
    """Start the relay process on a data directory; stopped (or killed) at the end."""
    started: list[Relay] = []

    def start(data_dir: Path) -> Relay:
        data_dir.mkdir(exist_ok=True)
        relay = Relay(data_dir, tmp_path)
        relay.start()
        started.append(relay)
        return relay

    yield start
    for relay in started:
        relay.stop()
