"""How long a staff member waits after a fault: the real relay, office-PC agent and viewer
(separate processes, as ``tests/e2e`` runs them) through three faults, each ``--runs`` times.

    python bench/faults.py [--runs 3] [--outage-s 20] [--restart-delay-s 0]

Set up as ``bench/latency.py`` does (tests/e2e/rig.py): two private Xvfb displays, a relay with
a fresh data directory, the office PC's agent (``--headless``) enrolled on one display, the
viewer on the other, logged in by typing the TOTP code, showing the office screen. The viewer
reaches the relay through a small forwarder in this process (:class:`OutageProxy`), so its link
can fail while the office PC's does not. Then, in turn:

- **relay restart**: the relay is killed with SIGKILL and started again on the same port and
  data directory after ``--restart-delay-s`` (a service manager's RestartSec). Measured from the
  moment it listens again: ``office_pc_back_after_relay_restart_s`` (the agent says it is
  connected) and ``picture_back_after_relay_restart_s`` (the viewer shows the picture again,
  resumed with its ticket: no new OTP is typed).
- **network outage**: the viewer's link goes silent for ``--outage-s`` (no byte moves either
  way, new connections hang, as on a dead line; ``tc netem`` is not available here), then works
  again. ``picture_back_after_network_outage_s`` is from the link's return to the picture.
- **agent restart**: the office PC's agent is killed with SIGKILL and started again.
  ``office_pc_back_after_agent_restart_s`` and ``picture_back_after_agent_restart_s`` are from
  its start.

Each figure is reported as its worst (``_max``) and all runs (a list). A fault whose picture
did not come back within ``RECOVERY_TIMEOUT_S`` counts in ``failures``. The last line printed
is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.rig import (
    HostAgent,
    Relay,
    RigError,
    Viewer,
    XServer,
    one_session,
)

RECOVERY_TIMEOUT_S = 120.0  # a fault whose picture is not back by then is a failure
SETTLE_S = 3.0  # between faults: the session runs normally for a moment
PIPE_CHUNK_BYTES = 64 * 1024


class OutageProxy:
    """A TCP forwarder on loopback, in a thread of its own, whose link can go silent.

    While out, it moves no byte either way and leaves new connections unanswered past TCP's
    own handshake (their TLS waits, as on a line that drops everything); bytes already read
    wait in it and go on afterwards, as TCP's retransmissions would deliver them.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._loop = asyncio.new_event_loop()
        self._up = asyncio.Event()
        self._ready = threading.Event()
        self._port = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._port}"

    def outage(self, down: bool) -> None:
        self._loop.call_soon_threadsafe(self._up.clear if down else self._up.set)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._up.set()
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self._port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._up.wait()
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(PIPE_CHUNK_BYTES):
                await self._up.wait()
                sink.write(data)
                await sink.drain()
        sink.close()


def seconds_until(
    conditions: dict[str, Callable[[], bool]], start: float
) -> dict[str, float | None]:
    """For each named condition, seconds from ``start`` until it first held (checked in turn,
    so a slow check does not delay the others' times), or None if not by RECOVERY_TIMEOUT_S."""
    times: dict[str, float | None] = dict.fromkeys(conditions)
    while time.monotonic() - start < RECOVERY_TIMEOUT_S:
        for name, done in conditions.items():
            if times[name] is None and done():
                times[name] = round(time.monotonic() - start, 2)
        if all(t is not None for t in times.values()):
            break
        time.sleep(0.05)
    return times


def connected(agent: HostAgent) -> Callable[[], bool]:
    def check() -> bool:
        with contextlib.suppress(RigError, ValueError):
            return bool(agent.status()["connected"])
        return False

    return check


def showing_since(viewer: Viewer, since: int) -> Callable[[], bool]:
    return lambda: any(s.get("state") == "showing" for s in viewer.states()[since:])


class Faults:
    """The running system and the faults done to it; figures collected by name."""

    def __init__(self, relay: Relay, agent: HostAgent, office: XServer, viewer: Viewer) -> None:
        self.relay, self.agent, self.office, self.viewer = relay, agent, office, viewer
        self.figures: dict[str, list[float | None]] = {}

    def record(self, times: dict[str, float | None]) -> None:
        for name, value in times.items():
            self.figures.setdefault(name, []).append(value)

    def relay_restart(self, delay_s: float) -> None:
        since = len(self.viewer.states())
        self.relay.kill()
        time.sleep(delay_s)
        self.relay.start()  # returns once it listens: same port, data directory, certificate
        listening = time.monotonic()
        self.record(
            seconds_until(
                {
                    "office_pc_back_after_relay_restart_s": connected(self.agent),
                    "picture_back_after_relay_restart_s": showing_since(self.viewer, since),
                },
                listening,
            )
        )

    def network_outage(self, proxy: OutageProxy, outage_s: float) -> None:
        since = len(self.viewer.states())
        proxy.outage(True)
        time.sleep(outage_s)
        proxy.outage(False)
        back = time.monotonic()
        self.record(
            seconds_until(
                {"picture_back_after_network_outage_s": showing_since(self.viewer, since)}, back
            )
        )

    def agent_restart(self) -> None:
        since = len(self.viewer.states())
        assert self.agent.process is not None
        self.agent.process.kill()
        started = time.monotonic()
        self.agent.launch(
            self.office,
            "--headless",
            "--relay",
            self.relay.address,
            "--relay-fingerprint",
            self.relay.fingerprint,
        )
        self.record(
            seconds_until(
                {
                    "office_pc_back_after_agent_restart_s": connected(self.agent),
                    "picture_back_after_agent_restart_s": showing_since(self.viewer, since),
                },
                started,
            )
        )

    def summary(self) -> dict[str, object]:
        result: dict[str, object] = {}
        failures = 0
        for name, values in self.figures.items():
            measured = [v for v in values if v is not None]
            failures += len(values) - len(measured)
            result[name.removesuffix("_s") + "_max_s"] = max(measured, default=None)
            result[name] = values
        result["failures"] = failures
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="each fault this many times")
    parser.add_argument("--outage-s", type=float, default=20.0)
    parser.add_argument("--restart-delay-s", type=float, default=0.0)
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="telework-faults-")))
        proxies: list[OutageProxy] = []

        def through_a_proxy(relay: Relay) -> str:
            proxies.append(OutageProxy(relay.host, relay.port))
            stack.callback(proxies[0].stop)
            return proxies[0].address

        session = one_session(stack, work, viewer_relay=through_a_proxy)
        (proxy,) = proxies
        relay, agent, viewer = session.relay, session.agent, session.viewer
        office_screen = session.office_screen

        faults = Faults(relay, agent, office_screen, viewer)
        for _ in range(args.runs):
            for fault in (
                lambda: faults.relay_restart(args.restart_delay_s),
                lambda: faults.network_outage(proxy, args.outage_s),
                faults.agent_restart,
            ):
                time.sleep(SETTLE_S)
                fault()
        result = {
            "runs": args.runs,
            "outage_s": args.outage_s,
            "restart_delay_s": args.restart_delay_s,
            **faults.summary(),
        }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
