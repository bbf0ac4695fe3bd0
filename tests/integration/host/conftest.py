"""Fixtures for the host agent against a real relay on loopback and a real X display (Xvfb)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from apps.common.xvfb import start_xvfb
from apps.host.agent import HostAgent
from apps.host.options import AgentOptions
from core.crypto.certs import Identity, generate_identity
from core.errors import LocalError
from core.hostpolicy.devices import device_code
from core.protocol.session import Feedback, Role, SessionChannel, SessionMessage, Video
from relay.hooks import RelayHooks
from relay.server import RelayServer
from relay.store.directory import Directory
from tests.integration.relay_harness import FAST, TENANT, USER, Relay, login, wait_until
from transport.connect import RelayEndpoint

SCREEN = (1280, 800)
HOME_MAC = "AA:BB:CC:DD:EE:01"
# The staff member's home PC: its key is registered on every office PC start_host makes.
HOME_PC = generate_identity("home")
FEEDBACK_INTERVAL_S = 0.3
RECORDER = Path(__file__).with_name("x_recorder.py")


@pytest.fixture(scope="session")
def xdisplay() -> Iterator[str]:
    """A private Xvfb on a free display number; DISPLAY points at it for the session."""
    try:
        screen = start_xvfb(*SCREEN)
    except LocalError as exc:
        pytest.skip(f"the host's X11 tests need a real X display: {exc}")
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = screen.display
    yield screen.display
    if previous is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = previous
    screen.stop()


@pytest.fixture(scope="session")
def x_recorder(xdisplay, tmp_path_factory) -> Iterator[Path]:
    """The recording window, covering the whole screen; yields its event log file."""
    log = tmp_path_factory.mktemp("x") / "events.log"
    log.touch()
    proc = subprocess.Popen(
        [sys.executable, str(RECORDER), str(log)],
        env={**os.environ, "DISPLAY": xdisplay},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while "ready" not in log.read_text():
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            proc.wait()
            pytest.skip("the Tk recorder window did not start")
        time.sleep(0.05)
    yield log
    proc.terminate()
    proc.wait(timeout=10)


class FakeClock:
    """Monotonic seconds and local wall time that move only when a test says so."""

    def __init__(self, wall: dt.datetime) -> None:
        self.now = 1000.0
        self.wall_now = wall

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> dt.datetime:
        return self.wall_now

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.wall_now += dt.timedelta(seconds=seconds)


MONDAY_10 = dt.datetime(2024, 4, 1, 10, 0)


class PushedPolicy:
    """The relay's policy hook in these tests: one policy for every host (none until a test
    sets one)."""

    def __init__(self) -> None:
        self.policy: dict[str, object] = {}

    def __call__(self, host_id: str) -> dict[str, object]:
        return self.policy


@dataclass
class RelayRig:
    relay: Relay
    identity: object
    port: int
    pushed: PushedPolicy = field(default_factory=PushedPolicy)

    async def restart(self, data_dir: Path) -> None:
        """Kill the relay and start it again on the same port with the same key."""
        await self.relay.server.close()
        server = RelayServer(
            self.relay.directory, self.identity, FAST, hooks=self.relay.server.hooks
        )
        await server.start("127.0.0.1", self.port)
        self.relay.server = server


@pytest.fixture
async def rig(tmp_path) -> RelayRig:
    directory = Directory.open(tmp_path / "relay")
    directory.add_tenant(TENANT)
    _, secret = directory.add_user(TENANT, USER)
    identity = generate_identity("relay")
    pushed = PushedPolicy()
    # The signed central lists of home PCs as the admin API stores them (the real store).
    hooks = RelayHooks(policy_for_host=pushed, device_list_for_host=directory.device_list_for_host)
    server = RelayServer(directory, identity, FAST, hooks=hooks)
    host, port = await server.start("127.0.0.1", 0)
    relay = Relay(
        server, directory, RelayEndpoint(host, port, fingerprint=server.fingerprint), secret
    )
    rig = RelayRig(relay, identity, port, pushed)
    yield rig
    await rig.relay.server.close()
    directory.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_10)


def agent_options(rig: RelayRig, data_dir: Path, display: str | None, marker: Path) -> AgentOptions:
    return AgentOptions(
        data_dir=data_dir,
        relay=str(rig.relay.endpoint),
        relay_fingerprint=rig.relay.server.fingerprint,
        name="PC-01",
        shutdown_command=[sys.executable, "-c", f"open({str(marker)!r}, 'w').write('off')"],
        display=display,
        reconnect_first_s=0.05,
        reconnect_max_s=0.3,
        dead_after_s=2.0,
        tick_s=0.05,
    )


@dataclass
class RunningHost:
    agent: HostAgent
    task: asyncio.Task
    shutdown_marker: Path

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def start_host(
    rig, tmp_path, clock, display=None, *, policy=None, macs=(HOME_MAC,), tenant_key=None, **opts
):
    marker = tmp_path / "shutdown-ran"
    options = agent_options(rig, tmp_path / "host", display, marker)
    for key, value in opts.items():
        setattr(options, key, value)
    agent = HostAgent(options, clock=clock.monotonic, wall=clock.wall)
    for mac in macs:
        agent.macs.allow(mac, "Tanaka home PC")
    agent.devices.allow(device_code(HOME_PC.cert_pem), "Tanaka home PC")
    if policy is not None:
        rig.pushed.policy = policy
    token = rig.relay.directory.issue_enrollment_token(TENANT, 600, time.time())
    host_id = await agent.enroll(token, tenant_key)
    rig.relay.directory.grant(TENANT, USER, host_id)
    task = asyncio.create_task(agent.run())
    await wait_until(lambda: agent.connected and host_id in rig.relay.server.hosts)
    return RunningHost(agent, task, marker)


class Viewer:
    """A scripted viewer: the real login and the real session protocol."""

    def __init__(self, channel) -> None:
        self.channel = channel
        self.protocol = SessionChannel(Role.VIEWER)
        self.received: list[SessionMessage] = []
        self.highest_seq = 0
        self._last_report = 0.0
        self.resume_ticket = ""  # the login's

    @classmethod
    async def connect(
        cls, rig: RelayRig, host_id: str, macs=(HOME_MAC,), device: Identity | None = None
    ) -> Viewer:
        (code,) = rig.relay.directory.issue_codes(TENANT, USER, 1)
        channel, ok = await login(rig.relay, host_id, code, device or HOME_PC, macs=list(macs))
        viewer = cls(channel)
        viewer.resume_ticket = ok.resume_ticket
        return viewer

    async def send(self, message: SessionMessage) -> None:
        await self.channel.write(self.protocol.send(message))

    async def next(self, kind, timeout: float = 10.0, where=lambda m: True):
        """The next message of type ``kind`` (others are kept in ``received``)."""
        async with asyncio.timeout(timeout):
            while True:
                for i, message in enumerate(self.received):
                    if isinstance(message, kind) and where(message):
                        del self.received[: i + 1]
                        return message
                try:
                    data = await asyncio.wait_for(self.channel.read(), FEEDBACK_INTERVAL_S)
                except TimeoutError:
                    await self._report()
                    continue
                if not data:
                    raise EOFError("host closed the session")
                for message in self.protocol.receive_data(data):
                    if isinstance(message, Video):
                        self.highest_seq = message.seq
                    self.received.append(message)
                await self._report()

    async def _report(self) -> None:
        """Receiver reports as a real viewer sends them, so the host's rate control flows."""
        now = time.monotonic()
        if now - self._last_report >= FEEDBACK_INTERVAL_S:
            self._last_report = now
            await self.send(Feedback(self.highest_seq, self.channel.bytes_in & 0xFFFFFFFF, 0, 0))

    def close(self) -> None:
        self.channel.close()
