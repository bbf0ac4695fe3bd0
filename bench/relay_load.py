"""Relay load benchmark: N host-viewer pairs through one relay process, on loopback.

The relay runs as its own process (``telework-relay serve``), so its CPU and memory are its
own. Load generators (several processes) enrol nothing over the wire: the data directory is
prepared directly (N users with TOTP secrets, N enrolled hosts, grants). Each pair then does
the real handshake — host control channel, viewer login with a TOTP, the host's accept, the
attach — and forwards like a session: the host side sends 100 kbit/s as 10 messages a second
(like video), the viewer side small input messages (like a typing user). Messages carry a send
timestamp (CLOCK_MONOTONIC is shared by processes), so the viewer measures one-way latency
through the relay. Connections come from many loopback addresses (127.0.x.y) because the
relay caps connections per source address.

Last line: JSON with sessions, seconds, relay_cpu_percent, relay_rss_mb,
added_latency_ms_p50, added_latency_ms_p99, errors (and a few more).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyotp

from core.crypto.certs import generate_identity, host_id_for_certificate
from core.crypto.tls import check_pin, pinned_client_context
from core.protocol.control import (
    Attach,
    Attached,
    HostAuth,
    HostReady,
    Login,
    LoginOk,
    Ping,
    Pong,
    Progress,
    SessionAnswer,
    SessionOffer,
)
from core.protocol.relay_link import Side
from relay.cli import parse_startup
from relay.store.directory import Directory
from transport.link_stream import LinkStream

TENANT = "loadtest"
VIDEO_MESSAGE_BYTES = 1250  # 10 a second = 100 kbit/s, the per-session budget
VIDEO_PER_S = 10
INPUT_MESSAGE_BYTES = 24
INPUT_PER_S = 5
STAMP = struct.Struct(">Id")  # length, send time (monotonic seconds)
RAMP_PER_S = 100  # new pairs a second, across all generators
WARMUP_S = 2.0  # latency samples start this long after a pair is joined


def source_address(worker: int, kind: int, index: int) -> str:
    """A loopback source for connection ``index`` of a worker: one address per office PC (or
    home PC) and kind of connection (control, viewer, data), as on the real network. Logins
    from one address are capped while they are checked (the lockout's in-flight rule), and
    connections by the relay's per-source caps, so a shared address would be refused."""
    return f"127.{10 + worker}.{kind * 64 + index // 250 % 64}.{index % 250 + 1}"


def prepare(data_dir: Path, sessions: int) -> list[dict[str, str]]:
    """Users, hosts and grants straight into the directory; returns each pair's credentials."""
    pairs = []
    now = time.time()
    with Directory.open(data_dir) as directory:
        directory.add_tenant(TENANT)
        for i in range(sessions):
            login = f"user{i:05d}"
            _, secret = directory.add_user(TENANT, login)
            identity = generate_identity(f"pc{i}")
            host_id = host_id_for_certificate(identity.cert_der)
            token = directory.issue_enrollment_token(TENANT, 3600, now)
            _, host_secret = directory.redeem_enrollment_token(
                token, host_id, identity.cert_pem.decode(), f"PC-{i}", "bench", now
            )
            directory.grant(TENANT, login, host_id)
            pairs.append(
                {
                    "login": login,
                    "totp": secret,
                    "host_id": host_id,
                    "host_secret": host_secret,
                    "device": generate_identity("d").cert_pem.decode(),
                }
            )
    return pairs


def start_relay(data_dir: Path) -> tuple[subprocess.Popen[str], str, int, str]:
    def raise_fd_limit() -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "relay.cli",
            "serve",
            "--data-dir",
            str(data_dir),
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=raise_fd_limit,
    )
    assert process.stdout is not None
    printed = ""
    while (started := parse_startup(printed)) is None:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("relay did not start")
        printed += line
    return process, started.host, started.port, started.fingerprint


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Generator:
    """One load-generator process: runs its share of pairs on its own event loop."""

    def __init__(
        self,
        relay: tuple[str, int, str],
        pairs: list[dict[str, str]],
        worker: int,
        start_at: float,
        seconds: float,
        ramp_interval: float,
    ) -> None:
        self.host, self.port, self.fingerprint = relay
        self.pairs = pairs
        self.worker = worker
        self.start_at = start_at
        self.seconds = seconds
        self.ramp_interval = ramp_interval
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.joined = 0
        self.stop_at = 0.0
        self.context = pinned_client_context()

    async def connect(self, index: int, kind: int) -> LinkStream:
        source = source_address(self.worker, kind, index)
        reader, writer = await asyncio.open_connection(
            self.host, self.port, ssl=self.context, server_hostname="", local_addr=(source, 0)
        )
        check_pin(writer.get_extra_info("ssl_object"), self.fingerprint)
        return LinkStream(reader, writer, Side.CLIENT)

    async def run_pair(self, index: int, pair: dict[str, str]) -> None:
        control = await self.connect(index, 0)
        await control.send(HostAuth(pair["host_id"], pair["host_secret"], "bench"))
        assert isinstance(await control.next_message(30), HostReady)
        host_task = asyncio.create_task(self.host_side(index, pair, control))
        viewer = await self.connect(index, 1)
        await viewer.send(
            Login(
                TENANT,
                pair["login"],
                pyotp.TOTP(pair["totp"]).now(),
                pair["host_id"],
                pair["device"],
                ["02:00:00:00:00:01"],
            )
        )
        while isinstance(reply := await viewer.next_message(60), Progress):
            pass
        if not isinstance(reply, LoginOk):
            raise RuntimeError(f"login refused: {reply}")
        self.joined += 1
        joined_at = time.monotonic()
        sender = asyncio.create_task(
            self.send_loop(viewer.writer, INPUT_MESSAGE_BYTES, INPUT_PER_S)
        )
        try:
            await self.receive_loop(viewer.reader, viewer.take_trailing(), joined_at + WARMUP_S)
        finally:
            sender.cancel()
            host_task.cancel()
            viewer.writer.close()
            control.writer.close()

    async def host_side(self, index: int, pair: dict[str, str], control: LinkStream) -> None:
        while True:
            message = await control.next_message(60)
            if isinstance(message, Ping):
                await control.send(Pong(message.nonce))
            elif isinstance(message, SessionOffer):
                await control.send(SessionAnswer(message.session_id, True))
                data = await self.connect(index, 2)
                await data.send(Attach(pair["host_id"], pair["host_secret"], message.session_id))
                assert isinstance(await data.next_message(30), Attached)
                drain = asyncio.create_task(
                    self.receive_loop(data.reader, data.take_trailing(), None)
                )
                try:
                    await self.send_loop(data.writer, VIDEO_MESSAGE_BYTES, VIDEO_PER_S)
                finally:
                    drain.cancel()
                    data.writer.close()

    async def send_loop(self, writer: asyncio.StreamWriter, size: int, per_s: int) -> None:
        """Send like a video source: one message per tick; a late tick is not made up with a
        burst (a screen grabbed late is not grabbed twice). Catching up would hold the session
        at exactly the relay's cap, where any jitter queues without bound."""
        period = 1.0 / per_s
        padding = bytes(size - STAMP.size)
        next_at = time.monotonic()
        while time.monotonic() < self.stop_at:
            writer.write(STAMP.pack(size, time.monotonic()) + padding)
            await writer.drain()
            next_at = max(next_at + period, time.monotonic())
            await asyncio.sleep(next_at - time.monotonic())

    async def receive_loop(
        self, reader: asyncio.StreamReader, first: bytes, sample_after: float | None
    ) -> None:
        buffer = bytearray(first)
        while time.monotonic() < self.stop_at:
            try:
                data = await asyncio.wait_for(
                    reader.read(65536), max(0.1, self.stop_at - time.monotonic())
                )
            except TimeoutError:
                break
            if not data:
                raise ConnectionError("relay closed a forwarding stream")
            buffer += data
            now = time.monotonic()
            while len(buffer) >= STAMP.size:
                size, sent = STAMP.unpack_from(buffer)
                if len(buffer) < size:
                    break
                del buffer[:size]
                if sample_after is not None and now >= sample_after:
                    self.latencies.append((now - sent) * 1000)

    async def main(self) -> dict[str, object]:
        await asyncio.sleep(max(0.0, self.start_at - time.monotonic()))
        ramp_end = self.start_at + len(self.pairs) * self.ramp_interval
        self.stop_at = ramp_end + WARMUP_S + self.seconds
        tasks = []
        for index, pair in enumerate(self.pairs):
            tasks.append(asyncio.create_task(self.guarded(index, pair)))
            await asyncio.sleep(self.ramp_interval)
        await asyncio.sleep(max(0.0, ramp_end + WARMUP_S - time.monotonic()))
        cpu_before, wall_before = time.process_time(), time.monotonic()
        await asyncio.gather(*tasks)
        busy = time.process_time() - cpu_before
        return {
            "latencies": self.latencies,
            "errors": self.errors,
            "joined": self.joined,
            "measure_from": ramp_end + WARMUP_S,
            "cpu_percent": 100 * busy / max(time.monotonic() - wall_before, 1e-9),
        }

    async def guarded(self, index: int, pair: dict[str, str]) -> None:
        try:
            await self.run_pair(index, pair)
        except Exception as exc:  # counted, not raised: one failed pair must not stop the run
            self.errors.append(f"{type(exc).__name__}: {exc}"[:200])


def generator_process(args: tuple, results: mp.Queue) -> None:  # type: ignore[type-arg]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    results.put(asyncio.run(Generator(*args).main()))


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2, help="load-generator processes")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="telework-load-"))
    try:
        t0 = time.monotonic()
        pairs = prepare(data_dir, args.sessions)
        print(
            f"prepared {args.sessions} users and hosts in {time.monotonic() - t0:.1f} s",
            file=sys.stderr,
        )
        relay, host, port, fingerprint = start_relay(data_dir)
        try:
            ramp_interval = args.workers / RAMP_PER_S
            start_at = time.monotonic() + 1.0
            results: mp.Queue = mp.Queue()  # type: ignore[type-arg]
            shares = [pairs[w :: args.workers] for w in range(args.workers)]
            processes = [
                mp.Process(
                    target=generator_process,
                    args=(
                        (
                            (host, port, fingerprint),
                            share,
                            w,
                            start_at,
                            args.seconds,
                            ramp_interval,
                        ),
                        results,
                    ),
                )
                for w, share in enumerate(shares)
            ]
            for p in processes:
                p.start()
            ramp_end = start_at + max(len(s) for s in shares) * ramp_interval + WARMUP_S
            time.sleep(max(0.0, ramp_end - time.monotonic()))
            cpu0, wall0 = cpu_seconds(relay.pid), time.monotonic()
            rss_peak = 0.0
            while (
                any(p.is_alive() for p in processes) and time.monotonic() < ramp_end + args.seconds
            ):
                rss_peak = max(rss_peak, rss_mb(relay.pid))
                time.sleep(0.5)
            cpu1, wall1 = cpu_seconds(relay.pid), time.monotonic()
            outcomes = [results.get(timeout=120) for _ in processes]
            for p in processes:
                p.join(timeout=30)
        finally:
            relay.terminate()
            relay.wait(timeout=30)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)

    latencies = [v for o in outcomes for v in o["latencies"]]
    errors = [e for o in outcomes for e in o["errors"]]
    for error in sorted(set(errors))[:5]:
        print("error:", error, file=sys.stderr)
    print(
        json.dumps(
            {
                "sessions": args.sessions,
                "joined": sum(o["joined"] for o in outcomes),
                "seconds": args.seconds,
                "relay_cpu_percent": round(100 * (cpu1 - cpu0) / max(wall1 - wall0, 1e-9), 1),
                "relay_rss_mb": round(rss_peak, 1),
                "added_latency_ms_p50": round(percentile(latencies, 50), 2),
                "added_latency_ms_p99": round(percentile(latencies, 99), 2),
                "latency_samples": len(latencies),
                "errors": len(errors),
                "generator_processes": args.workers,
                # The generators share the 2 cores with the relay: how loaded the machine was.
                "generator_cpu_percent": round(sum(float(o["cpu_percent"]) for o in outcomes), 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
