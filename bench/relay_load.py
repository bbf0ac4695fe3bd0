"""Relay load benchmark: N host-viewer pairs, and idle office PCs, through one relay process, on
loopback.

The relay runs as its own process (``telework-relay serve``), so its CPU and memory are its
own. Load generators (several processes) enrol nothing over the wire: the data directory is
prepared directly (N users with TOTP secrets, N enrolled hosts, grants). Each pair then does
the real handshake — host control channel, viewer login with a TOTP, the host's accept, the
attach — and forwards like a session: the host side sends 100 kbit/s as 10 messages a second
(like video), the viewer side small input messages (like a typing user). Messages carry a send
timestamp (CLOCK_MONOTONIC is shared by processes), so the viewer measures one-way latency
through the relay. Every connection comes from its own loopback address (127.x.y.z), as office
PCs and home PCs do, so the relay's per-source caps and login lockouts apply as in real use.

The generators are light so that they leave the relay the cores (there are 2): their TLS is
the relay's own :class:`~transport.tls_protocol.TlsConnection`, every received byte is handled
in a callback, and one ticker per process sends every session's messages (phases spread over
the period) instead of a task and a timer per connection.

``--idle-hosts N`` adds N authenticated office PCs that only answer the relay's keepalives
(with ``--sessions 0``: those alone), and reports the relay's memory and CPU per idle office PC.
``--reference haproxy`` then runs the same session traffic through HAProxy (TLS 1.3 terminated
on both legs: viewer → HAProxy → TLS → a sink playing the office PC) and reports the relay's
CPU as a ratio to that C proxy's, measured in the same run on the same machine.

Last line: JSON with sessions, seconds, relay_cpu_percent, relay_rss_mb,
added_latency_ms_p50, added_latency_ms_p99, errors, relay_exit_s (and more; see the end of main()).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing as mp
import os
import resource
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from base64 import b32encode
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyotp
import sqlalchemy as sa

from core.crypto.certs import Identity, generate_identity, host_id_for_certificate
from core.crypto.tls import check_pin, pinned_client_context, server_context
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
from core.protocol.relay_link import RelayLink, Side
from relay.cli import parse_startup
from relay.store.directory import Directory
from relay.store.schema import hosts
from relay.store.tenants import require_tenant
from transport.link_stream import LinkStream
from transport.tls_protocol import TlsConnection, open_tls

TENANT = "loadtest"
VIDEO_MESSAGE_BYTES = 1250  # 10 a second = 100 kbit/s, the per-session budget
VIDEO_PER_S = 10
INPUT_MESSAGE_BYTES = 24
INPUT_PER_S = 5
STAMP = struct.Struct(">Id")  # length, send time (monotonic seconds)
TICK_S = 0.01  # the senders' ticker: each session's phase is one of the ticks of a period
RAMP_PER_S = 100  # new pairs a second, across all generators
IDLE_RAMP_PER_S = 500  # new idle office PCs a second, across all generators
IN_FLIGHT_PER_WORKER = 32  # connects not yet answered, per generator (under the half-open caps)
WARMUP_S = 2.0  # latency samples start this long after a pair is joined
SETTLE_S = 3.0  # after the last idle office PC is in, before the idle figures are taken
IDLE_ONLINE_TIMEOUT_S = 300.0  # longest wait for the relay to have every idle office PC online
FD_HEADROOM = 1024
RELAY_EXIT_TIMEOUT_S = 300.0  # after SIGTERM; then it is killed and relay_exit_s is null
# Kinds of connection, each from its own block of source addresses (source_address).
CONTROL, VIEWER, ATTACH, IDLE_CONTROL = 0, 1, 2, 3


def source_address(worker: int, kind: int, index: int) -> str:
    """A loopback source for connection ``index`` of a worker: one address per office PC (or
    home PC) and kind of connection (control, viewer, data, idle control), as on the real
    network. Logins from one address are capped while they are checked (the lockout's
    in-flight rule), and connections by the relay's per-source caps, so a shared address would
    be refused."""
    return f"127.{10 + worker}.{kind * 64 + index // 250 % 64}.{index % 250 + 1}"


def prepare(data_dir: Path, sessions: int, database: str | None = None) -> list[dict[str, str]]:
    """Users, hosts and grants straight into the directory (the data directory's SQLite, or
    ``database``); returns each pair's credentials."""
    pairs = []
    now = time.time()
    with Directory.open(data_dir, database=database) as directory:
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


def prepare_idle_hosts(
    data_dir: Path, count: int, database: str | None = None
) -> list[tuple[str, str]]:
    """``count`` enrolled office PCs in one transaction (enrolling 50,000 one by one would take
    longer than the run); returns (host ID, secret) of each. Host IDs are random in the host
    ID's form: only their control channels are used, never a certificate."""
    cert_pem = generate_identity("idle").cert_pem.decode()
    now = time.time()
    credentials = []
    rows = []
    for i in range(count):
        host_id = b32encode(secrets.token_bytes(15)).decode()[:20]
        secret = secrets.token_urlsafe(32)
        credentials.append((host_id, secret))
        rows.append(
            {
                "host_id": host_id,
                "name": f"IDLE-{i:06d}",
                "cert_pem": cert_pem,
                "secret_hash": hashlib.sha256(secret.encode()).hexdigest(),
                "agent_version": "bench",
                "created_at": now,
                "last_seen_at": None,
                "retired": False,
            }
        )
    with Directory.open(data_dir, database=database) as directory:
        if count:
            with directory._db.write() as conn:
                tenant_id = require_tenant(conn, TENANT)
                for row in rows:
                    row["tenant_id"] = tenant_id
                conn.execute(sa.insert(hosts), rows)
    return credentials


def raise_fd_limit(wanted: int) -> None:
    """Raise this process's open-files limit to ``wanted`` (root may raise the hard limit
    too), or at least to the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(hard, wanted)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start_relay(
    data_dir: Path, loop: str, fds: int, relay_path: Path | None, extra: Sequence[str] = ()
) -> tuple[subprocess.Popen[str], str, int, str, str]:
    env = dict(os.environ)
    if relay_path is not None:  # another checkout's relay (a baseline), same bench
        env["PYTHONPATH"] = f"{relay_path}{os.pathsep}{env.get('PYTHONPATH', '')}"
    loop_option = ["--loop", loop] if relay_path is None else []
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
            *loop_option,
            *extra,
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=relay_path,  # ``-m`` puts the working directory first on the path
        preexec_fn=lambda: raise_fd_limit(fds),
    )
    assert process.stdout is not None
    printed = ""
    while (started := parse_startup(printed)) is None:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("relay did not start")
        printed += line
    return process, started.host, started.port, started.fingerprint, started.metrics_url


def open_files_limit(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, for how loaded it was meanwhile."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def wait_for_quiet_directory(metrics_url: str, limit_s: float = IDLE_ONLINE_TIMEOUT_S) -> None:
    """Wait until the relay has had no directory call for SETTLE_S: an office PC is online (and
    counted) before its audit record is committed, and those commits queue behind the disk."""
    deadline = time.monotonic() + limit_s
    since = time.monotonic()
    while time.monotonic() < deadline:
        in_flight = relay_gauge(metrics_url, "telework_directory_calls_in_flight")
        if in_flight < 0:  # a relay without the gauge (a baseline): a longer fixed settle
            time.sleep(4 * SETTLE_S)
            return
        if in_flight:
            since = time.monotonic()
        elif time.monotonic() - since >= SETTLE_S:
            return
        time.sleep(0.25)


def relay_gauge(metrics_url: str, name: str) -> int:
    text = urllib.request.urlopen(metrics_url, timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return int(line.split()[1])
    return -1


def hosts_online(metrics_url: str) -> int:
    return relay_gauge(metrics_url, "telework_hosts_online")


class Window:
    """CPU of one process and of the machine over a measured window."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.cpu0, self.wall0, self.machine0 = cpu_seconds(pid), time.monotonic(), machine_busy()

    def close(self) -> dict[str, float]:
        cpu1, wall1, machine1 = cpu_seconds(self.pid), time.monotonic(), machine_busy()
        busy, total = (machine1[0] - self.machine0[0]), (machine1[1] - self.machine0[1])
        return {
            "cpu_percent": 100 * (cpu1 - self.cpu0) / max(wall1 - self.wall0, 1e-9),
            "machine_busy_percent": 100 * busy / max(total, 1),
        }


# -- the load generators (each its own process, on uvloop) ---------------------------------------


class Traffic:
    """One generator's senders and receivers: a ticker writes each session's messages at its
    phase of the period; receivers parse stamps in the connection's callback."""

    def __init__(self, stop_at: float) -> None:
        self.stop_at = stop_at
        self.video: list[TlsConnection] = []
        self.input: list[TlsConnection] = []
        self.latencies: list[float] = []
        self.arrivals: list[float] = []  # when each latency sample arrived (monotonic)
        self.errors: list[str] = []
        self.closing = False
        self.measuring = False  # latencies are sampled in the measured window only

    def receiver(
        self, sample_after: float | None, what: str
    ) -> tuple[Callable[[bytes], None], Callable[[], None]]:
        buffer = bytearray()
        latencies, arrivals = self.latencies, self.arrivals

        def on_data(data: bytes) -> None:
            if sample_after is None:
                return  # nothing measured this way
            buffer.extend(data)
            now = time.monotonic()
            while len(buffer) >= STAMP.size:
                size, sent = STAMP.unpack_from(buffer)
                if len(buffer) < size:
                    break
                del buffer[:size]
                if self.measuring and now >= sample_after:
                    latencies.append((now - sent) * 1000)
                    arrivals.append(now)

        def on_eof() -> None:
            if not self.closing and time.monotonic() < self.stop_at:
                self.errors.append(f"ConnectionError: the far end closed a {what} stream")

        return on_data, on_eof

    async def ticker(self) -> None:
        await send_stamped(self.video, self.input, lambda: self.stop_at)


async def send_stamped(
    video: list[TlsConnection], inputs: list[TlsConnection], stop_at: Callable[[], float]
) -> None:
    """Until ``stop_at()``, every tick one stamped message to each video and input sender
    whose phase it is. A late tick is not made up with a burst (a screen grabbed late is not
    grabbed twice)."""
    video_ticks = round(1 / (VIDEO_PER_S * TICK_S))
    input_ticks = round(1 / (INPUT_PER_S * TICK_S))
    video_pad = bytes(VIDEO_MESSAGE_BYTES - STAMP.size)
    input_pad = bytes(INPUT_MESSAGE_BYTES - STAMP.size)
    start = time.monotonic()
    done_tick = -1
    while (now := time.monotonic()) < stop_at():
        tick = int((now - start) / TICK_S)
        # At most one period of missed ticks is sent: one message per sender at most.
        first = max(done_tick + 1, tick - video_ticks + 1)
        for t in range(first, tick + 1):
            stamp_now = time.monotonic()
            for senders, ticks, size, pad in (
                (video, video_ticks, VIDEO_MESSAGE_BYTES, video_pad),
                (inputs, input_ticks, INPUT_MESSAGE_BYTES, input_pad),
            ):
                for i in range(t % ticks, len(senders), ticks):
                    senders[i].write(STAMP.pack(size, stamp_now) + pad)
        done_tick = tick
        await asyncio.sleep(max(0.0, start + (tick + 1) * TICK_S - time.monotonic()))


class Generator:
    """One load-generator process: its share of pairs (through the relay or the reference
    proxy) and of idle office PCs, on its own event loop."""

    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.host, self.port, self.fingerprint = plan["relay"]
        self.worker: int = plan["worker"]
        self.context = pinned_client_context()
        self.traffic = Traffic(0.0)
        self.joined = 0
        self.idle_online = 0
        self.connections: list[TlsConnection] = []
        self.in_flight = asyncio.Semaphore(IN_FLIGHT_PER_WORKER)
        # An office PC's data connection answers an offer the relay is waiting for (within
        # attach_timeout_s): queued behind new pairs' connects it timed out under a ramp, an
        # error of this generator, not of the relay. It has its own turn.
        self.attaching = asyncio.Semaphore(IN_FLIGHT_PER_WORKER)

    async def connect(self, kind: int, index: int, port: int | None = None) -> TlsConnection:
        async with self.attaching if kind == ATTACH else self.in_flight:
            connection = await asyncio.wait_for(
                open_tls(
                    self.context,
                    self.host,
                    port or self.port,
                    local_addr=(source_address(self.worker, kind, index), 0),
                ),
                60,
            )
        self.connections.append(connection)
        if self.fingerprint:
            check_pin(connection.get_extra_info("ssl_object"), self.fingerprint)
        return connection

    def serve_control(
        self,
        stream: LinkStream,
        connection: TlsConnection,
        offers: asyncio.Queue[SessionOffer] | None,
    ) -> None:
        """Answer the relay's keepalives (and accept its offers) in the connection's callback."""
        link: RelayLink = stream.link
        on_eof = self.traffic.receiver(None, "control")[1]

        def on_data(data: bytes) -> None:
            for message in link.receive_data(data):
                if isinstance(message, Ping):
                    connection.write(link.send(Pong(message.nonce)))
                elif isinstance(message, SessionOffer) and offers is not None:
                    connection.write(link.send(SessionAnswer(message.session_id, True)))
                    offers.put_nowait(message)

        connection.set_receiver(on_data, on_eof)

    async def idle_host(self, index: int, host_id: str, secret: str) -> None:
        connection = await self.connect(IDLE_CONTROL, index)
        stream = LinkStream(connection, connection, Side.CLIENT)
        await stream.send(HostAuth(host_id, secret, "bench"))
        reply = await stream.next_message(60)
        if not isinstance(reply, HostReady):
            raise RuntimeError(f"office PC refused: {reply}")
        self.idle_online += 1
        self.serve_control(stream, connection, None)

    async def run_pair(self, index: int, pair: dict[str, str]) -> None:
        control = await self.connect(CONTROL, index)
        control_stream = LinkStream(control, control, Side.CLIENT)
        await control_stream.send(HostAuth(pair["host_id"], pair["host_secret"], "bench"))
        if not isinstance(reply := await control_stream.next_message(60), HostReady):
            raise RuntimeError(f"office PC refused: {reply}")
        offers: asyncio.Queue[SessionOffer] = asyncio.Queue()
        self.serve_control(control_stream, control, offers)
        viewer = await self.connect(VIEWER, index)
        viewer_stream = LinkStream(viewer, viewer, Side.CLIENT)
        await viewer_stream.send(
            Login(
                TENANT,
                pair["login"],
                pyotp.TOTP(pair["totp"]).now(),
                pair["host_id"],
                pair["device"],
                ["02:00:00:00:00:01"],
            )
        )
        offer = await asyncio.wait_for(offers.get(), 60)
        data = await self.connect(ATTACH, index)
        data_stream = LinkStream(data, data, Side.CLIENT)
        await data_stream.send(Attach(pair["host_id"], pair["host_secret"], offer.session_id))
        if not isinstance(reply := await data_stream.next_message(60), Attached):
            raise RuntimeError(f"attach refused: {reply}")
        while isinstance(reply := await viewer_stream.next_message(60), Progress):
            pass
        if not isinstance(reply, LoginOk):
            raise RuntimeError(f"login refused: {reply}")
        self.joined += 1
        self.start_session(viewer, viewer_stream.take_trailing(), data, data_stream)

    def start_session(
        self,
        viewer: TlsConnection,
        first: bytes,
        office: TlsConnection,
        office_stream: LinkStream | None,
    ) -> None:
        on_data, on_eof = self.traffic.receiver(time.monotonic() + WARMUP_S, "viewer")
        if first:
            on_data(first)
        viewer.set_receiver(on_data, on_eof)
        if office_stream is not None:
            office.set_receiver(lambda data: None, self.traffic.receiver(None, "office PC")[1])
            self.traffic.video.append(office)
        self.traffic.input.append(viewer)

    async def run_reference_pair(self, index: int) -> None:
        """A viewer through the reference proxy: the sink behind it plays the office PC."""
        viewer = await self.connect(VIEWER, index)
        self.joined += 1
        self.start_session(viewer, b"", viewer, None)

    async def main(self) -> dict[str, Any]:
        plan = self.plan
        await asyncio.sleep(max(0.0, plan["start_at"] - time.monotonic()))
        self.traffic.stop_at = plan["stop_at"]
        idle: list[tuple[str, str]] = plan["idle"]
        pairs: list[dict[str, str]] = plan["pairs"]
        tasks: list[asyncio.Task[None]] = []
        ramp_interval, idle_interval = plan["ramp_interval"], plan["idle_interval"]
        for index, (host_id, secret) in enumerate(idle):
            tasks.append(asyncio.create_task(self.guarded(self.idle_host(index, host_id, secret))))
            await asyncio.sleep(idle_interval)
        self.traffic.stop_at = plan["stop_at"]
        ticker = asyncio.create_task(self.traffic.ticker())
        for index, pair in enumerate(pairs):
            work = (
                self.run_reference_pair(index) if plan["reference"] else self.run_pair(index, pair)
            )
            tasks.append(asyncio.create_task(self.guarded(work)))
            await asyncio.sleep(ramp_interval)
        cpu_before, wall_before = time.process_time(), time.monotonic()
        stop, measuring = plan["stop"], plan["measuring"]
        while not ticker.done():
            self.traffic.measuring = measuring.is_set()
            if stop.is_set():
                self.traffic.stop_at = 0.0
            await asyncio.sleep(0.1)
        await ticker
        busy = time.process_time() - cpu_before
        await asyncio.gather(*tasks)
        self.traffic.closing = True
        for connection in self.connections:
            connection.abort()
        return {
            "latencies": self.traffic.latencies,
            "arrivals": self.traffic.arrivals,
            "errors": self.traffic.errors,
            "joined": self.joined,
            "idle_online": self.idle_online,
            "cpu_percent": 100 * busy / max(time.monotonic() - wall_before, 1e-9),
        }

    async def guarded(self, work: Any) -> None:
        try:
            await work
        except Exception as exc:  # counted, not raised: one failed pair must not stop the run
            text = f"{type(exc).__name__}: {exc}"[:200]
            if isinstance(exc, AssertionError) or "Refused" in text:
                text = f"refused: {text}"
            self.traffic.errors.append(text)


def generator_process(plan: dict[str, Any], results: mp.Queue) -> None:  # type: ignore[type-arg]
    import uvloop

    raise_fd_limit(plan["fds"])
    results.put(uvloop.run(Generator(plan).main()))


# -- the reference: HAProxy, and a sink behind it that plays the office PC -----------------------


def sink_process(identity: Identity, seconds: float, ready: mp.Queue) -> None:  # type: ignore[type-arg]
    """Accept TLS connections (from HAProxy) and send each the office PC's video, reading the
    viewer's input, like the data connection of a session."""
    import uvloop

    raise_fd_limit(65536)

    async def main() -> None:
        context = server_context(identity)
        traffic = Traffic(time.monotonic() + seconds)

        async def serve(connection: TlsConnection) -> None:
            await connection.handshake()
            connection.set_receiver(lambda data: None)
            traffic.video.append(connection)

        def made(connection: TlsConnection) -> bool:
            handshakes.add(task := asyncio.ensure_future(serve(connection)))
            task.add_done_callback(handshakes.discard)
            return True

        handshakes: set[asyncio.Future[None]] = set()

        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: TlsConnection(context, server_side=True, on_made=made), "127.0.0.1", 0
        )
        ready.put(server.sockets[0].getsockname()[1])
        await traffic.ticker()
        server.close()

    uvloop.run(main())


HAPROXY_CONFIG = """\
global
    maxconn {maxconn}
    nbthread 1
    ssl-default-bind-options ssl-min-ver TLSv1.3
    ssl-default-server-options ssl-min-ver TLSv1.3

defaults
    mode tcp
    timeout connect 10s
    timeout client 120s
    timeout server 120s

frontend viewers
    bind 127.0.0.1:{port} ssl crt {pem}
    maxconn {maxconn}
    default_backend office_pcs

backend office_pcs
    server sink 127.0.0.1:{sink_port} ssl verify none
"""


def start_haproxy(
    work_dir: Path, identity: Identity, sink_port: int, sessions: int
) -> tuple[subprocess.Popen[bytes], int]:
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        raise SystemExit("--reference haproxy needs HAProxy: apt-get install -y haproxy")
    pem = work_dir / "reference.pem"
    pem.touch(mode=0o600)
    pem.write_bytes(identity.cert_pem + identity.key_pem)
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = work_dir / "haproxy.cfg"
    config.write_text(
        HAPROXY_CONFIG.format(maxconn=2 * sessions + 100, port=port, pem=pem, sink_port=sink_port)
    )
    process = subprocess.Popen(
        [haproxy, "-db", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        preexec_fn=lambda: raise_fd_limit(4 * sessions + FD_HEADROOM),
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process, port
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("HAProxy did not start")


# -- one run ------------------------------------------------------------------------------------


def run_generators(
    args: argparse.Namespace,
    relay: tuple[str, int, str],
    pairs: list[dict[str, str]],
    idle: list[tuple[str, str]],
    reference: bool,
    pid: int,
    done: Any = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Start the generators, measure process ``pid`` over the hold (``args.seconds``, or until
    ``done``, an event, is set), and collect the results."""
    workers = args.workers
    ramp_interval = workers / args.ramp
    idle_interval = workers / args.idle_ramp
    start_at = time.monotonic() + 1.0
    pair_shares = [pairs[w::workers] for w in range(workers)]
    idle_shares = [idle[w::workers] for w in range(workers)]
    idle_end = start_at + max(len(s) for s in idle_shares) * idle_interval
    ramp_end = idle_end + max(len(s) for s in pair_shares) * ramp_interval + WARMUP_S
    idle_only = bool(idle) and not pairs
    # Held until measured (the parent waits for the relay to be done with logging them in).
    stop_at = ramp_end + IDLE_ONLINE_TIMEOUT_S + SETTLE_S + args.seconds + 60
    stop, measuring = mp.Event(), mp.Event()
    results: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    per_worker_fds = 3 * max(len(s) for s in pair_shares) + max(len(s) for s in idle_shares)
    processes = [
        mp.Process(
            target=generator_process,
            args=(
                {
                    "relay": relay,
                    "worker": w,
                    "pairs": pair_shares[w],
                    "idle": idle_shares[w],
                    "start_at": start_at,
                    "stop_at": stop_at,
                    "ramp_interval": ramp_interval,
                    "idle_interval": idle_interval,
                    "reference": reference,
                    "fds": per_worker_fds + FD_HEADROOM,
                    "stop": stop,
                    "measuring": measuring,
                },
                results,
            ),
        )
        for w in range(workers)
    ]
    rss_before = rss_kb(pid)
    for p in processes:
        p.start()
    measured: dict[str, Any] = {}
    if idle_only:
        # Idle office PCs alone: once the relay has them all online (or the ramp gave up),
        # let the last handshakes settle, then hold and measure.
        time.sleep(max(0.0, idle_end - time.monotonic()))
        deadline = time.monotonic() + IDLE_ONLINE_TIMEOUT_S
        while hosts_online(args.metrics_url) < len(idle) and time.monotonic() < deadline:
            time.sleep(1.0)
        measured["online_after_ramp_s"] = round(time.monotonic() - start_at, 1)
        wait_for_quiet_directory(args.metrics_url)
        window = Window(pid)
        time.sleep(args.seconds)
    else:
        # Sessions: once the last has joined and the directory is done with the logins (their
        # audit records queue behind the disk), hold and measure.
        time.sleep(max(0.0, ramp_end - time.monotonic()))
        if not reference:
            wait_for_quiet_directory(args.metrics_url)
        measured["measured_after_s"] = round(time.monotonic() - start_at, 1)
        measuring.set()
        window = Window(pid)
        rss_peak, measure_end = 0, time.monotonic() + args.seconds
        while (
            any(p.is_alive() for p in processes)
            and time.monotonic() < measure_end
            and not (done is not None and done.is_set())
        ):
            rss_peak = max(rss_peak, rss_kb(pid))
            time.sleep(0.5)
        measured["rss_peak_kb"] = rss_peak
    measured.update(window.close())
    measured["rss_kb"] = rss_kb(pid)
    measured["rss_before_kb"] = rss_before
    if not reference and relay[2]:
        measured["hosts_online_at_relay"] = hosts_online(args.metrics_url)
    stop.set()
    outcomes = [results.get(timeout=args.seconds + 600) for _ in processes]
    for p in processes:
        p.join(timeout=30)
    return outcomes, measured


def stop_relay(relay: subprocess.Popen[str]) -> float | None:
    """SIGTERM, as systemd stops it; the seconds it took to exit (it finishes the audit records
    of the office PCs that just left), or None if it had to be killed."""
    started = time.monotonic()
    relay.send_signal(signal.SIGTERM)
    try:
        relay.wait(timeout=RELAY_EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(
            f"relay still running {RELAY_EXIT_TIMEOUT_S:.0f} s after SIGTERM: killed",
            file=sys.stderr,
        )
        relay.kill()
        relay.wait()
        return None
    return round(time.monotonic() - started, 1)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    latencies = [v for o in outcomes for v in o["latencies"]]
    errors = [e for o in outcomes for e in o["errors"]]
    for error in sorted(set(errors))[:5]:
        print("error:", error, file=sys.stderr)
    return {
        "joined": sum(o["joined"] for o in outcomes),
        "idle_online": sum(o["idle_online"] for o in outcomes),
        "added_latency_ms_p50": round(percentile(latencies, 50), 2),
        "added_latency_ms_p99": round(percentile(latencies, 99), 2),
        "latency_samples": len(latencies),
        "errors": len(errors),
        "generator_cpu_percent": round(sum(float(o["cpu_percent"]) for o in outcomes), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2, help="load-generator processes")
    parser.add_argument(
        "--idle-hosts", type=int, default=0, help="office PCs that only answer keepalives"
    )
    parser.add_argument("--ramp", type=float, default=RAMP_PER_S, help="new pairs a second")
    parser.add_argument("--idle-ramp", type=float, default=IDLE_RAMP_PER_S, help="idle PCs/s")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--reference", choices=("haproxy",), default=None)
    parser.add_argument(
        "--relay-path", type=Path, default=None, help="run the relay of another checkout"
    )
    args = parser.parse_args()
    if args.reference and not args.sessions:
        parser.error("--reference compares session traffic: give --sessions")

    fds = 3 * args.sessions + args.idle_hosts + FD_HEADROOM
    raise_fd_limit(fds)
    data_dir = Path(tempfile.mkdtemp(prefix="telework-load-"))
    args.data_dir = data_dir
    report: dict[str, Any] = {
        "sessions": args.sessions,
        "seconds": args.seconds,
        "relay_loop": args.loop if args.relay_path is None else "baseline",
    }
    try:
        t0 = time.monotonic()
        pairs = prepare(data_dir, args.sessions)
        idle = prepare_idle_hosts(data_dir, args.idle_hosts)
        print(
            f"prepared {args.sessions} pairs and {args.idle_hosts} idle office PCs "
            f"in {time.monotonic() - t0:.1f} s",
            file=sys.stderr,
        )
        relay, host, port, fingerprint, args.metrics_url = start_relay(
            data_dir, args.loop, fds, args.relay_path
        )
        report["relay_open_files_limit"] = open_files_limit(relay.pid)
        if report["relay_open_files_limit"] < fds:
            print(
                f"warning: the relay may open {report['relay_open_files_limit']} files, "
                f"this run needs about {fds} (a hard limit only root may raise)",
                file=sys.stderr,
            )
        try:
            outcomes, measured = run_generators(
                args, (host, port, fingerprint), pairs, idle, False, relay.pid
            )
        finally:
            report["relay_exit_s"] = stop_relay(relay)
        result = summary(outcomes)
        report.update(
            {
                "joined": result["joined"],
                "relay_cpu_percent": round(measured["cpu_percent"], 1),
                "relay_rss_mb": round(measured.get("rss_peak_kb", measured["rss_kb"]) / 1024, 1),
                "added_latency_ms_p50": result["added_latency_ms_p50"],
                "added_latency_ms_p99": result["added_latency_ms_p99"],
                "latency_samples": result["latency_samples"],
                "errors": result["errors"],
                "generator_processes": args.workers,
                # The generators share the 2 cores with the relay: how loaded the machine was.
                "generator_cpu_percent": result["generator_cpu_percent"],
                "machine_busy_percent": round(measured["machine_busy_percent"], 1),
            }
        )
        if args.sessions:
            report["relay_cpu_percent_per_session"] = round(
                measured["cpu_percent"] / max(result["joined"], 1), 4
            )
        if args.idle_hosts:
            idle_hosts = result["idle_online"]
            report["idle_hosts"] = idle_hosts
            report["hosts_online_at_relay"] = measured.get("hosts_online_at_relay")
            if idle_hosts and not args.sessions:
                grown = measured["rss_kb"] - measured["rss_before_kb"]
                report["rss_kb_per_idle_host"] = round(grown / idle_hosts, 1)
                report["cpu_percent_per_1000_idle_hosts"] = round(
                    1000 * measured["cpu_percent"] / idle_hosts, 3
                )
        if args.reference == "haproxy":
            report.update(reference_run(args, data_dir, report))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(report))
    return 0


def reference_run(
    args: argparse.Namespace, data_dir: Path, report: dict[str, Any]
) -> dict[str, Any]:
    """The same sessions through HAProxy, measured the same way."""
    identity = generate_identity("reference")
    ready: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    hold = 1.0 + args.sessions / args.ramp + WARMUP_S + args.seconds + 600  # then ended
    sink = mp.Process(target=sink_process, args=(identity, hold, ready))
    sink.start()
    try:
        sink_port = ready.get(timeout=30)
        haproxy, port = start_haproxy(data_dir, identity, sink_port, args.sessions)
        try:
            outcomes, measured = run_generators(
                args, ("127.0.0.1", port, ""), [{}] * args.sessions, [], True, haproxy.pid
            )
        finally:
            haproxy.terminate()
            haproxy.wait(timeout=30)
    finally:
        sink.terminate()
        sink.join(timeout=10)
    result = summary(outcomes)
    reference_cpu = measured["cpu_percent"]
    # Per session that ran: a run where some sessions failed to join is compared fairly.
    relay_per_session = report["relay_cpu_percent"] / max(report["joined"], 1)
    reference_per_session = reference_cpu / max(result["joined"], 1)
    return {
        "reference": "haproxy",
        "reference_joined": result["joined"],
        "reference_cpu_percent": round(reference_cpu, 1),
        "cpu_ratio_to_reference": round(relay_per_session / max(reference_per_session, 1e-9), 2),
        "reference_added_latency_ms_p99": result["added_latency_ms_p99"],
        "reference_errors": result["errors"],
        "reference_machine_busy_percent": round(measured["machine_busy_percent"], 1),
    }


if __name__ == "__main__":
    sys.exit(main())
