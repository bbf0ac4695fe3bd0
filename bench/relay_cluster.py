"""Relay cluster bench: N relay node processes on one PostgreSQL directory behind HAProxy, idle
office PCs and live sessions through the one public address, and one node killed mid-run.

    python bench/relay_cluster.py --nodes 2 --idle-hosts 2000 --sessions 300 --seconds 60 \\
        --kill-node-at 25

Starts a throwaway PostgreSQL (tests/postgres_cluster.py; the nodes reach it over its unix
socket), puts the tenant, its staff, office PCs and grants in it (bench/relay_load.py's set-up),
then N ``telework-relay serve --node-id node-i`` processes sharing one data directory (relay.key,
relay.crt, directory.key) and HAProxy in front of them as docs/deployment-cluster.md has it (TCP
mode, ``balance leastconn``, ``GET /healthz`` on each node's metrics port every second, down
after 2 failed checks, ``option redispatch``, a long ``timeout tunnel``), all on loopback.

One load-generator process (uvloop, the relay's own light TLS connections, as relay_load.py):

- office PCs hold a control channel through HAProxy, answer keepalives, and when it drops wait
  and reconnect with the agent's jittered back-off (core/hostpolicy/backoff.py), as the real
  agent does; like it they end their session when their control channel ends;
- a live session is a viewer logging in through HAProxy with a TOTP, its office PC accepting
  the offer and attaching its data connection where the offer's ``attach_to`` says
  (transport/client.py ``attach_endpoint``: the viewer's node, straight, not through HAProxy),
  then 100 kbit/s of stamped "video" one way and small input messages the other (relay_load.py's
  traffic); the viewer measures the added one-way latency. A viewer whose session drops comes
  back with its resume ticket on the real viewer's schedule (apps/viewer/reconnect.py), no new
  OTP; a refusal that hands back a ticket is retried with it.

At ``--kill-node-at`` seconds (once every office PC and session is in) the node holding the most
office PCs (by the directory's ``host_locations``) is SIGKILLed. Measured from that instant:

- ``rehome_s``: for each office PC it held, until the agent's reconnect succeeded (HostReady
  from another node), p50/p99/max;
- ``resume_s_max``: for each session that dropped (joined on the dead node, or whose office PC
  was on it), until the viewer received messages again;
- ``reconnects_per_s_peak``: successful reconnects (office PCs' control channels and viewers'
  resumed logins) a second at the survivors, the busiest second.

Also joined, errors, added latency p50/p99 (ms) over the run, and each node's CPU % (from the
start of the load to the end, or to its death) and peak RSS, and to see where the time goes:
the resumed logins' outcomes (``resume_logins``: count, mean seconds), how long after its own
office PC a session resumed, each node's directory calls in flight at most and its refusals.
The last line printed is one JSON object. Everything started is stopped at the end, on an
error or on Ctrl-C.

HAProxy sends each node a PROXY v2 header naming the client (``send-proxy-v2``, from
127.0.0.2, which the nodes trust with ``--trusted-proxy``), so a node counts its per-source
limits by each viewer's and office PC's own address, as deployed (docs/deployment-cluster.md).
``--no-proxy-protocol`` shows the cluster without it: every client is HAProxy's one address
(``--haproxy-sources N`` then spreads that over N addresses).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pyotp
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from apps.viewer.reconnect import ReconnectPlan  # noqa: E402
from bench.relay_load import (  # noqa: E402
    STAMP,
    TENANT,
    cpu_seconds,
    percentile,
    prepare,
    prepare_idle_hosts,
    raise_fd_limit,
    rss_kb,
    send_stamped,
    source_address,
)
from core.crypto.tls import check_pin, pinned_client_context  # noqa: E402
from core.errors import Error  # noqa: E402
from core.hostpolicy.backoff import RECONNECT_FIRST_SPREAD_STEPS, Backoff  # noqa: E402
from core.protocol.control import (  # noqa: E402
    DEAD_AFTER_S,
    Attach,
    Attached,
    ControlMessage,
    HostAuth,
    HostReady,
    Login,
    LoginOk,
    Ping,
    Pong,
    Progress,
    RefusalReason,
    Refused,
    SessionAnswer,
    SessionOffer,
)
from core.protocol.relay_link import Side  # noqa: E402
from relay.cli import parse_startup  # noqa: E402
from relay.settings import RELAY_COMMON_NAME, RELAY_IDENTITY_STEM  # noqa: E402
from storage.identity import load_or_create_identity  # noqa: E402
from tests.haproxy import SOURCE as HAPROXY_SOURCE  # noqa: E402
from tests.postgres_cluster import running_cluster  # noqa: E402
from transport.client import RefusedByRelay, attach_endpoint  # noqa: E402
from transport.connect import RelayEndpoint  # noqa: E402
from transport.link_stream import LinkStream, PeerGone  # noqa: E402
from transport.tls_protocol import TlsConnection, open_tls  # noqa: E402

IDLE_RAMP_PER_S = 500  # new idle office PCs a second while the load comes up
SESSION_RAMP_PER_S = 100  # new sessions a second
# Connects not yet answered while the load comes up: under a node's half-open cap per source
# (every connection through HAProxy comes from HAProxy's address). Reconnects after the kill
# are not held back by the bench: real office PCs and viewers do not wait for each other.
RAMP_IN_FLIGHT = 32
CONNECT_TIMEOUT_S = 30.0
REPLY_TIMEOUT_S = 60.0  # a resumed login may wait for its office PC, then for its answer
QUIET_S = 2.0  # the nodes had no directory call in flight this long: the load is in
QUIET_TIMEOUT_S = 180.0
WARMUP_S = 0.5  # latency is sampled from this long after a session (re)joined
NODE_START_TIMEOUT_S = 60.0
HAPROXY_START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 15.0  # a node or HAProxy asked to stop, before it is killed
FD_HEADROOM = 1024
PR_SET_PDEATHSIG = 1
# HAProxy as docs/deployment-cluster.md sets it up, with a shorter health check interval.
HAPROXY_CONFIG = """\
global
    maxconn {maxconn}
    stats socket {stats} mode 600 level admin

defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    timeout client-fin 30s
    timeout server-fin 30s
    option redispatch
    retries 3

frontend relay
    bind 127.0.0.1:{port}
    maxconn {maxconn}
    default_backend relay_nodes

backend relay_nodes
    balance leastconn
    option httpchk GET /healthz
    http-check expect status 200
    timeout check 1s
    default-server inter 1s fall 2 rise 1{server_options}
{servers}
"""


# -- the processes: nodes and HAProxy --------------------------------------------------------------


def die_with_parent() -> None:
    """In a child: be killed when the bench dies, whatever way it dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def child_set_up(fds: int) -> None:
    die_with_parent()
    raise_fd_limit(fds)


class Node:
    """One ``telework-relay serve --node-id`` process."""

    def __init__(self, index: int, process: subprocess.Popen[bytes], log: Path) -> None:
        self.index = index
        self.node_id = f"node-{index}"
        self.process = process
        self.log = log
        self.port = 0
        self.metrics_port = 0
        self.fingerprint = ""
        self.advertised = ""
        self.cpu_start = 0.0
        self.cpu_end: float | None = None
        self.wall_end: float | None = None
        self.rss_peak_kb = 0
        self.killed = False
        self.directory_calls_peak = 0  # its directory calls running or queued, at most
        self.directory_calls = -1  # the same, as last read
        self.refusals: dict[str, int] = {}  # its refusals by reason, as last read

    @property
    def pid(self) -> int:
        return self.process.pid


def start_node(
    index: int, data_dir: Path, url: str, work: Path, fds: int, trusted: list[str]
) -> Node:
    """Node ``index``; ``trusted``: the balancer addresses whose PROXY headers it believes."""
    log = work / f"node-{index}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "relay.cli", "serve"),
                *("--data-dir", str(data_dir), "--database", url, "--node-id", f"node-{index}"),
                *("--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"),
                *("--loop", "uvloop", "--log-level", "WARNING"),
                *(option for address in trusted for option in ("--trusted-proxy", address)),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
            preexec_fn=partial(child_set_up, fds),
        )
    return Node(index, process, log)


_NODE_LINE = re.compile(r"^cluster node (\S+) at (\S+)$", re.M)


def wait_for_nodes(nodes: list[Node]) -> None:
    deadline = time.monotonic() + NODE_START_TIMEOUT_S
    waiting = list(nodes)
    while waiting:
        for node in list(waiting):
            printed = node.log.read_text(errors="replace")
            started, line = parse_startup(printed), _NODE_LINE.search(printed)
            if started is not None and line is not None:
                node.port, node.fingerprint = started.port, started.fingerprint
                node.metrics_port = int(started.metrics_url.rsplit(":", 1)[1].split("/")[0])
                node.advertised = line[2]
                waiting.remove(node)
            elif node.process.poll() is not None:
                raise RuntimeError(f"{node.node_id} exited at start:\n{printed[-2000:]}")
        if waiting and time.monotonic() > deadline:
            raise RuntimeError(f"{waiting[0].node_id} did not start in time")
        time.sleep(0.1)
    if len({node.fingerprint for node in nodes}) != 1:
        raise RuntimeError("the nodes serve different certificates")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def haproxy_stat(stats: Path) -> list[dict[str, str]]:
    """HAProxy's ``show stat`` rows, as dicts."""
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(5)
        conn.connect(str(stats))
        conn.sendall(b"show stat\n")
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    lines = data.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    return [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]


def haproxy_sources(node_index: int, sources: int) -> list[str]:
    """The addresses HAProxy connects to node ``node_index`` from: 127.0.0.2 (one), or
    127.0.100+i.j (``sources`` of them, spreading a node's per-source counts without the PROXY
    protocol)."""
    if sources <= 1:
        return [HAPROXY_SOURCE]
    return [f"127.0.{100 + node_index}.{j + 1}" for j in range(sources)]


def haproxy_servers(nodes: list[Node], sources: int, proxy_protocol: bool) -> str:
    """The backend's servers: one per node and source address HAProxy connects from, each
    sending a PROXY v2 header with the client's address (unless ``proxy_protocol`` is off)."""
    proxy = " send-proxy-v2" if proxy_protocol else ""
    return "\n".join(
        f"    server {n.node_id}-s{j} 127.0.0.1:{n.port} check port {n.metrics_port} "
        f"source {source}{proxy}"
        for n in nodes
        for j, source in enumerate(haproxy_sources(n.index, sources))
    )


def start_haproxy(
    work: Path,
    nodes: list[Node],
    maxconn: int,
    sources: int,
    server_options: str = "",
    proxy_protocol: bool = True,
) -> tuple[subprocess.Popen[bytes], int, Path]:
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        raise SystemExit("this bench needs HAProxy: apt-get install -y haproxy")
    port, stats = free_port(), work / "haproxy.sock"
    servers = haproxy_servers(nodes, sources, proxy_protocol)
    config = work / "haproxy.cfg"
    config.write_text(
        HAPROXY_CONFIG.format(
            maxconn=maxconn,
            stats=stats,
            port=port,
            servers=servers,
            server_options=f" {server_options}" if server_options else "",
        )
    )
    process = subprocess.Popen(
        [haproxy, "-db", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=(work / "haproxy.log").open("wb"),
        stdin=subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )
    deadline = time.monotonic() + HAPROXY_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"HAProxy exited: {(work / 'haproxy.log').read_text()[-2000:]}")
        with contextlib.suppress(OSError, IndexError):
            rows = haproxy_stat(stats)
            backend = [r for r in rows if r["pxname"] == "relay_nodes" and r["svname"] != "BACKEND"]
            if len(backend) == len(nodes) * max(1, sources) and all(
                r["status"] == "UP" for r in backend
            ):
                return process, port, stats
        time.sleep(0.2)
    raise RuntimeError("HAProxy did not mark every node up in time")


def stop_process(process: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGINT) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


# -- the load: office PCs, viewers, their traffic --------------------------------------------------


class Traffic:
    """One ticker writes each session's messages at its phase of the period (relay_load.py's),
    over the sessions running at the moment."""

    def __init__(self) -> None:
        self.video: list[TlsConnection] = []  # office PCs' data connections
        self.input: list[TlsConnection] = []  # viewers
        self.latencies: list[float] = []

    @staticmethod
    def drop(senders: list[TlsConnection], connection: TlsConnection) -> None:
        with contextlib.suppress(ValueError):
            senders.remove(connection)

    async def ticker(self, stop_at: float) -> None:
        await send_stamped(self.video, self.input, lambda: stop_at)


class OfficePc:
    """An office PC's agent, as far as the relay can tell: control channel, keepalives, offers
    accepted and attached where they say, reconnects with the agent's back-off."""

    def __init__(self, bench: Bench, index: int, host_id: str, secret: str, kind: int) -> None:
        self.bench = bench
        self.index = index
        self.host_id = host_id
        self.secret = secret
        self.kind = kind  # the source address's kind: 3 idle, 0 an office PC with a session
        self.backoff = Backoff(first_spread_steps=RECONNECT_FIRST_SPREAD_STEPS)
        self.online_at: list[float] = []  # each successful (re)connect, monotonic
        self.dropped_at: list[float] = []
        self.online = asyncio.Event()
        self.control: TlsConnection | None = None
        self.stream: LinkStream | None = None
        self.data: TlsConnection | None = None
        self.last_heard = 0.0

    async def run(self) -> None:
        first = True
        while not self.bench.stopping:
            try:
                stream = await self.connect(first)
            except (Error, PeerGone, OSError, TimeoutError, RuntimeError) as exc:
                self.bench.failure("office_pc", exc)
                await asyncio.sleep(self.backoff.next_delay())
                continue
            first = False
            self.backoff.reset()
            try:
                await stream.serve_messages(self.handle)
            except (Error, PeerGone, OSError):
                pass
            finally:
                self.lost()
            if self.bench.stopping:
                return
            await asyncio.sleep(self.backoff.next_delay())

    async def connect(self, first: bool) -> LinkStream:
        connection = await self.bench.connect(self.kind, self.index, ramp=first)
        stream = LinkStream(connection, connection, Side.CLIENT)
        try:
            await stream.send(HostAuth(self.host_id, self.secret, "bench"))
            reply = await stream.next_message(REPLY_TIMEOUT_S)
            if isinstance(reply, Refused):
                raise RefusedByRelay(reply.reason, reply.retry_after, reply.resume_ticket)
            if not isinstance(reply, HostReady):
                raise RuntimeError(f"office PC got {type(reply).__name__}")
        except BaseException:
            connection.abort()
            raise
        now = time.monotonic()
        self.control, self.stream, self.last_heard = connection, stream, now
        self.online_at.append(now)
        self.online.set()
        return stream

    def handle(self, message: ControlMessage) -> None:
        """The relay's messages, in the connection's callback (no task per office PC)."""
        self.last_heard = time.monotonic()
        stream = self.stream
        assert stream is not None
        if isinstance(message, Ping):
            stream.send_nowait(Pong(message.nonce))
        elif isinstance(message, SessionOffer):
            stream.send_nowait(SessionAnswer(message.session_id, True))
            self.bench.spawn(self.attach(message))

    def lost(self) -> None:
        """The control channel ended: like the real agent, its session ends with it."""
        if self.control is not None:
            self.control.abort()
            self.control = self.stream = None
        self.online.clear()
        if not self.bench.stopping:
            self.dropped_at.append(time.monotonic())
        self.end_session()

    def end_session(self) -> None:
        if self.data is not None:
            Traffic.drop(self.bench.traffic.video, self.data)
            self.data.abort()
            self.data = None

    async def attach(self, offer: SessionOffer) -> None:
        endpoint = attach_endpoint(self.bench.endpoint, offer.attach_to)
        try:
            connection = await self.bench.connect(2, self.index, (endpoint.host, endpoint.port))
        except (OSError, TimeoutError, Error) as exc:
            self.bench.failure("attach", exc)
            return
        stream = LinkStream(connection, connection, Side.CLIENT)
        try:
            await stream.send(Attach(self.host_id, self.secret, offer.session_id))
            reply = await stream.next_message(REPLY_TIMEOUT_S)
        except (PeerGone, OSError, Error) as exc:
            connection.abort()
            self.bench.failure("attach", exc)
            return
        if not isinstance(reply, Attached):
            connection.abort()
            self.bench.failure("attach", RuntimeError(f"attach got {type(reply).__name__}"))
            return
        self.end_session()  # one session at a time: a resumed one replaces the old
        self.data = connection

        def on_eof() -> None:
            if self.data is connection:
                self.end_session()

        connection.set_receiver(lambda data: None, on_eof)
        self.bench.traffic.video.append(connection)


class Viewer:
    """A home PC's viewer: logs in once with a TOTP, then resumes with its ticket."""

    def __init__(self, bench: Bench, index: int, pair: dict[str, str], office: OfficePc) -> None:
        self.bench = bench
        self.index = index
        self.pair = pair
        self.office = office
        self.plan: ReconnectPlan | None = None
        self.joined_at: list[float] = []
        self.dropped_at: list[float] = []
        self.first_message_at: list[float] = []  # the first message of each (re)join
        self.connection: TlsConnection | None = None
        self.last_heard = 0.0
        self.gave_up = ""
        self.attempts: list[tuple[float, float, str]] = []  # each login: start, end, outcome

    async def run(self) -> None:
        await asyncio.wait_for(self.office.online.wait(), REPLY_TIMEOUT_S)
        totp = pyotp.TOTP(self.pair["totp"])
        while not self.bench.stopping:
            ticket = self.plan.ticket if self.plan is not None else ""
            otp = "" if ticket else totp.now()
            tried = time.monotonic()
            try:
                connection, ok, trailing = await self.login(otp, ticket)
            except RefusedByRelay as refusal:
                self.attempts.append((tried, time.monotonic(), refusal.reason))
                self.bench.refusals[refusal.reason] += 1
                if refusal.resume_ticket:
                    if self.plan is None:
                        self.plan = ReconnectPlan.after_refusal(
                            refusal.resume_ticket, time.monotonic()
                        )
                    self.plan.ticket = refusal.resume_ticket
                elif refusal.reason == RefusalReason.LOCKED_OUT:
                    # Not checked: too many logins in flight from one source (HAProxy's address,
                    # which every viewer shares). The OTP or ticket was not used: the user
                    # presses "connect" again once the time shown has passed (the real viewer
                    # stops there, a resuming one too), and so does this one.
                    await asyncio.sleep(max(0.1, refusal.retry_after - time.time()))
                    continue
                else:
                    self.give_up(f"refused: {refusal.reason}")
                    return
                if not await self.wait_to_retry():
                    return
                continue
            except (Error, PeerGone, OSError, TimeoutError) as exc:
                self.attempts.append((tried, time.monotonic(), type(exc).__name__))
                self.bench.failure("viewer", exc)
                if self.plan is None and not self.joined_at:
                    self.give_up(f"first login failed: {type(exc).__name__}")
                    return
                if not await self.wait_to_retry():
                    return
                continue
            if self.plan is None:
                self.plan = ReconnectPlan.after_login(ok.resume_ticket, ok.resume_ttl_s)
            else:
                self.plan.renewed(ok.resume_ticket, ok.resume_ttl_s)
            self.attempts.append((tried, time.monotonic(), "ok"))
            dropped = self.run_session(connection, trailing)
            await dropped.wait()
            if self.bench.stopping:
                return
            self.plan.dropped(self.last_heard)
            if not await self.wait_to_retry():
                return

    def give_up(self, why: str) -> None:
        self.gave_up = why
        self.bench.errors.append(f"viewer {self.index}: {why}")

    async def wait_to_retry(self) -> bool:
        assert self.plan is not None
        at = self.plan.schedule(time.monotonic())
        if at is None:
            self.give_up("resume ticket ran out")
            return False
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        return not self.bench.stopping

    async def login(self, otp: str, ticket: str) -> tuple[TlsConnection, LoginOk, bytes]:
        connection = await self.bench.connect(1, self.index, ramp=not self.joined_at)
        stream = LinkStream(connection, connection, Side.CLIENT)
        try:
            pair = self.pair
            await stream.send(
                Login(
                    TENANT,
                    pair["login"],
                    otp,
                    pair["host_id"],
                    pair["device"],
                    ["02:00:00:00:00:01"],
                    resume_ticket=ticket,
                )
            )
            while isinstance(reply := await stream.next_message(REPLY_TIMEOUT_S), Progress):
                pass
            if isinstance(reply, Refused):
                raise RefusedByRelay(reply.reason, reply.retry_after, reply.resume_ticket)
            if not isinstance(reply, LoginOk):
                raise RuntimeError(f"viewer got {type(reply).__name__}")
        except BaseException:
            connection.abort()
            raise
        return connection, reply, stream.take_trailing()

    def run_session(self, connection: TlsConnection, first: bytes) -> asyncio.Event:
        """Read the office PC's stamped messages (latency) and send input, until it drops."""
        bench, traffic = self.bench, self.bench.traffic
        joined = time.monotonic()
        self.joined_at.append(joined)
        self.last_heard = joined
        self.connection = connection
        dropped = asyncio.Event()
        buffer = bytearray()
        heard = False

        def on_data(data: bytes) -> None:
            nonlocal heard
            buffer.extend(data)
            now = time.monotonic()
            while len(buffer) >= STAMP.size:
                size, sent = STAMP.unpack_from(buffer)
                if len(buffer) < size:
                    break
                del buffer[:size]
                if not heard:
                    heard = True
                    self.first_message_at.append(now)
                elif now - joined >= WARMUP_S and not bench.stopping:
                    traffic.latencies.append((now - sent) * 1000)
            self.last_heard = now

        def on_eof() -> None:
            Traffic.drop(traffic.input, connection)
            if self.connection is connection:
                self.connection = None
            if not bench.stopping:
                self.dropped_at.append(time.monotonic())
            dropped.set()

        if first:
            on_data(first)
        connection.set_receiver(on_data, on_eof)
        traffic.input.append(connection)
        return dropped


class Bench:
    """The load generator (this process, one event loop) and the kill."""

    def __init__(
        self,
        args: argparse.Namespace,
        nodes: list[Node],
        haproxy: tuple[int, Path],
        pairs: list[dict[str, str]],
        idle: list[tuple[str, str]],
        engine: sa.Engine,
    ) -> None:
        self.args = args
        self.nodes = nodes
        self.port, self.stats = haproxy
        self.fingerprint = nodes[0].fingerprint
        self.endpoint = RelayEndpoint("127.0.0.1", self.port, fingerprint=self.fingerprint)
        self.engine = engine
        self.context = pinned_client_context()
        self.traffic = Traffic()
        self.stopping = False
        self.errors: list[str] = []
        self.failures: Counter[str] = Counter()  # attempts that failed and were retried
        self.refusals: Counter[str] = Counter()
        self.connect_times: list[float] = []  # every connect attempt through HAProxy
        self.ramp = asyncio.Semaphore(RAMP_IN_FLIGHT)
        self.tasks: set[asyncio.Task[Any]] = set()
        self.online_at_end = self.flowing_at_end = 0
        self.connections: set[TlsConnection] = set()
        self.offices = [
            OfficePc(self, i, host_id, secret, 3) for i, (host_id, secret) in enumerate(idle)
        ]
        self.session_offices = [
            OfficePc(self, i, p["host_id"], p["host_secret"], 0) for i, p in enumerate(pairs)
        ]
        self.viewers = [Viewer(self, i, p, self.session_offices[i]) for i, p in enumerate(pairs)]

    # -- helpers -----------------------------------------------------------------------------

    def spawn(self, work: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(self.guarded(work))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def guarded(self, work: Any) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug of the bench or an unexpected answer: counted
            self.errors.append(f"{type(exc).__name__}: {exc}"[:200])

    def failure(self, what: str, exc: BaseException) -> None:
        if not self.stopping:
            reason = exc.reason if isinstance(exc, RefusedByRelay) else type(exc).__name__
            self.failures[f"{what}: {reason}"] += 1

    async def connect(
        self, kind: int, index: int, address: tuple[str, int] | None = None, ramp: bool = False
    ) -> TlsConnection:
        """A TLS connection from the source address of ``kind`` and ``index``: through HAProxy,
        or to ``address`` (a node, for a data connection)."""
        host, port = address or ("127.0.0.1", self.port)
        local = (source_address(0, kind, index), 0)
        if address is None:
            self.connect_times.append(time.monotonic())
        async with self.ramp if ramp else contextlib.nullcontext():
            connection = await asyncio.wait_for(
                open_tls(self.context, host, port, local_addr=local), CONNECT_TIMEOUT_S
            )
        self.connections.add(connection)
        check_pin(connection.get_extra_info("ssl_object"), self.fingerprint)
        return connection

    def watch_silence(self) -> None:
        """As the agent's ``dead_after_s``: a control channel silent that long is dropped."""
        now = time.monotonic()
        for office in (*self.offices, *self.session_offices):
            if office.control is not None and now - office.last_heard > DEAD_AFTER_S:
                office.control.abort()

    def sample_nodes(self) -> None:
        for node in self.nodes:
            if not node.killed and node.process.poll() is None:
                with contextlib.suppress(OSError):
                    node.rss_peak_kb = max(node.rss_peak_kb, rss_kb(node.pid))

    async def watch_directory_calls(self, stop_at: float) -> None:
        """Each node's directory calls in flight (its metrics), the peak: how far its database
        work queues behind."""

        def read(node: Node) -> int:
            url = f"http://127.0.0.1:{node.metrics_port}/metrics"
            text = urllib.request.urlopen(url, timeout=2).read().decode()
            found = re.search(
                r"^telework_directory_calls_in_flight(?:\{[^}]*\})? (\d+)", text, re.M
            )
            node.refusals = {
                reason: int(count)
                for reason, count in re.findall(
                    r'^telework_refusals_total\{[^}]*reason="([^"]+)"[^}]*\} (\d+)', text, re.M
                )
            }
            return int(found[1]) if found else 0

        while time.monotonic() < stop_at:
            for node in self.nodes:
                if not node.killed:
                    with contextlib.suppress(OSError):
                        node.directory_calls = calls = await asyncio.to_thread(read, node)
                        node.directory_calls_peak = max(node.directory_calls_peak, calls)
            await asyncio.sleep(0.5)

    def where(self) -> tuple[dict[str, list[str]], Counter[str]]:
        """Node ID -> host IDs the directory says it holds, and its sessions' count."""
        held: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT node_id, host_id FROM host_locations"))
            for node_id, host_id in rows:
                held.setdefault(node_id, []).append(host_id)
            counts = sa.text("SELECT node_id, count(*) FROM cluster_sessions GROUP BY node_id")
            sessions: Counter[str] = Counter(
                {str(node_id): int(n) for node_id, n in conn.execute(counts)}
            )
        return held, sessions

    # -- the run -----------------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        args = self.args
        # SIGTERM as Ctrl-C: the runner cancels this task, and everything started is stopped.
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGTERM, os.kill, os.getpid(), signal.SIGINT
        )
        started = time.monotonic()
        stop_at = started + args.seconds
        for node in self.nodes:
            node.cpu_start = cpu_seconds(node.pid)
        # Both run until cancelled at the end (which a delayed kill puts off).
        ticker = asyncio.create_task(self.traffic.ticker(math.inf))
        self.spawn(self.watch_directory_calls(math.inf))
        ramp = asyncio.create_task(self.come_up())
        killed: dict[str, Any] = {}
        kill_at = started + args.kill_node_at
        try:
            while (now := time.monotonic()) < stop_at:
                self.sample_nodes()
                self.watch_silence()
                if not killed and now >= kill_at:
                    if not ramp.done():
                        print("warning: the load is not all in yet; kill waits", file=sys.stderr)
                        await ramp
                    killed = await self.kill_busiest()
                    # A kill the load delayed still gets the whole time after it.
                    stop_at = max(stop_at, killed["at"] + args.seconds - args.kill_node_at)
                await asyncio.sleep(min(0.25, max(0.0, stop_at - time.monotonic())))
        finally:
            self.stopping = True
            ended = time.monotonic()
            offices = (*self.offices, *self.session_offices)
            self.online_at_end = sum(1 for o in offices if o.control is not None)
            self.flowing_at_end = sum(1 for v in self.viewers if v.connection is not None)
            for node in self.nodes:
                if not node.killed and node.process.poll() is None:
                    node.cpu_end, node.wall_end = cpu_seconds(node.pid), ended
            ramp.cancel()
            ticker.cancel()
            for task in list(self.tasks):
                task.cancel()
            await asyncio.gather(ramp, ticker, *self.tasks, return_exceptions=True)
            for connection in self.connections:
                connection.abort()
        return self.report(started, ended, killed)

    async def come_up(self) -> None:
        """Idle office PCs first, then the sessions (office PC, then its viewer), at a ramp."""
        for office in self.offices:
            self.spawn(office.run())
            await asyncio.sleep(1 / self.args.idle_ramp)
        for office, viewer in zip(self.session_offices, self.viewers, strict=True):
            self.spawn(office.run())
            self.spawn(viewer.run())
            await asyncio.sleep(1 / self.args.session_ramp)
        everyone = [o.online.wait() for o in (*self.offices, *self.session_offices)]
        await asyncio.wait_for(asyncio.gather(*everyone), REPLY_TIMEOUT_S)
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while time.monotonic() < deadline and any(
            not v.first_message_at and not v.gave_up for v in self.viewers
        ):
            await asyncio.sleep(0.1)
        # Online before the directory knows where: the nodes' writes (locations, records)
        # queue behind. The kill picks its node and orphans by the directory, once it is quiet.
        quiet_since, deadline = time.monotonic(), time.monotonic() + QUIET_TIMEOUT_S
        while time.monotonic() < deadline and time.monotonic() - quiet_since < QUIET_S:
            if any(n.directory_calls != 0 for n in self.nodes):
                quiet_since = time.monotonic()
            await asyncio.sleep(0.25)

    async def kill_busiest(self) -> dict[str, Any]:
        held, sessions = await asyncio.to_thread(self.where)
        alive = [n for n in self.nodes if n.process.poll() is None]
        victim = max(alive, key=lambda n: len(held.get(n.node_id, [])))
        orphans = set(held.get(victim.node_id, []))
        located = sum(len(v) for v in held.values())
        online = sum(1 for o in (*self.offices, *self.session_offices) if o.control is not None)
        if located < online:
            print(f"warning: {online} office PCs online, {located} located", file=sys.stderr)
        victim.cpu_end, victim.wall_end = cpu_seconds(victim.pid), time.monotonic()
        t_kill = time.monotonic()
        victim.process.send_signal(signal.SIGKILL)
        victim.killed = True
        print(
            f"killed {victim.node_id} holding {len(orphans)} office PCs "
            f"({', '.join(f'{k}: {len(v)}' for k, v in sorted(held.items()))})",
            file=sys.stderr,
        )
        return {
            "node": victim.node_id,
            "at": t_kill,
            "orphans": orphans,
            "sessions": sessions[victim.node_id],
        }

    # -- the figures ---------------------------------------------------------------------------

    def report(self, started: float, ended: float, killed: dict[str, Any]) -> dict[str, Any]:
        args = self.args
        offices = [*self.offices, *self.session_offices]
        latencies = self.traffic.latencies
        report: dict[str, Any] = {
            "nodes": args.nodes,
            "idle_hosts": args.idle_hosts,
            "sessions": args.sessions,
            "seconds": args.seconds,
            "haproxy_sources": args.haproxy_sources,
            "haproxy_server": args.haproxy_server,
            "joined": sum(1 for v in self.viewers if v.first_message_at),
            "hosts_online_at_end": self.online_at_end,
            "sessions_live_at_end": self.flowing_at_end,
            "added_latency_ms_p50": round(percentile(latencies, 50), 2),
            "added_latency_ms_p99": round(percentile(latencies, 99), 2),
            "latency_samples": len(latencies),
        }
        rehome: list[float] = []
        resume: list[float] = []
        if killed:
            t_kill = killed["at"]
            orphans = [o for o in offices if o.host_id in killed["orphans"]]
            missing = 0
            for office in orphans:
                back = [t for t in office.online_at if t > t_kill]
                if back:
                    rehome.append(back[0] - t_kill)
                else:
                    missing += 1
            others_dropped = sum(
                1
                for o in offices
                if o.host_id not in killed["orphans"] and any(t > t_kill for t in o.dropped_at)
            )
            not_resumed = 0
            affected = [v for v in self.viewers if any(t >= t_kill for t in v.dropped_at)]
            after_rehome: list[float] = []  # resumed this long after its own office PC was back
            for viewer in affected:
                back = [t for t in viewer.first_message_at if t > t_kill]
                if back:
                    resume.append(back[0] - t_kill)
                    office_back = [t for t in viewer.office.online_at if t > t_kill]
                    if viewer.office.host_id in killed["orphans"] and office_back:
                        after_rehome.append(back[0] - office_back[0])
                else:
                    not_resumed += 1
            if after_rehome:
                report["resume_after_own_rehome_s_p50"] = round(percentile(after_rehome, 50), 2)
                report["resume_after_own_rehome_s_max"] = round(max(after_rehome), 2)
            seconds: Counter[int] = Counter()
            for office in orphans + [o for o in offices if o not in orphans]:
                for t in office.online_at:
                    if t > t_kill:
                        seconds[int(t - t_kill)] += 1
            for viewer in affected:
                for t in viewer.joined_at:
                    if t > t_kill:
                        seconds[int(t - t_kill)] += 1
            attempts = Counter(int(t - t_kill) for t in self.connect_times if t > t_kill)
            # How the dropped sessions' logins after the kill went: outcome -> count, mean s.
            outcomes: dict[str, list[float]] = {}
            for viewer in affected:
                for begun, done, outcome in viewer.attempts:
                    if begun > t_kill:
                        outcomes.setdefault(outcome, []).append(done - begun)
            report["resume_logins"] = {
                k: [len(v), round(sum(v) / len(v), 2)] for k, v in sorted(outcomes.items())
            }
            # The real viewer stops resuming at a refusal without a ticket (locked_out) and
            # asks for a new OTP: how many of the dropped sessions' viewers met one.
            report["resume_viewers_locked_out"] = sum(
                1
                for viewer in affected
                if any(b > t_kill and o == "locked_out" for b, _, o in viewer.attempts)
            )
            report.update(
                {
                    "killed_node": killed["node"],
                    "killed_at_s": round(t_kill - started, 1),
                    "orphaned_hosts": len(orphans),
                    "orphans_back": len(orphans) - missing,
                    "other_hosts_dropped": others_dropped,
                    "sessions_on_killed_node": killed["sessions"],
                    "sessions_dropped": len(affected),
                    "sessions_resumed": len(affected) - not_resumed,
                    "reconnects_per_s_peak": max(seconds.values(), default=0),
                    "connect_attempts_per_s_peak": max(attempts.values(), default=0),
                }
            )
        report.update(
            {
                "rehome_s_p50": round(percentile(rehome, 50), 2) if rehome else None,
                "rehome_s_p99": round(percentile(rehome, 99), 2) if rehome else None,
                "rehome_s_max": round(max(rehome), 2) if rehome else None,
                "resume_s_p50": round(percentile(resume, 50), 2) if resume else None,
                "resume_s_max": round(max(resume), 2) if resume else None,
            }
        )
        report.setdefault("reconnects_per_s_peak", 0)
        never_online = sum(1 for o in offices if not o.online_at)
        never_joined = sum(1 for v in self.viewers if not v.first_message_at and not v.gave_up)
        errors = list(self.errors)
        errors += [f"office PC never online ({never_online})"] * never_online
        errors += [f"session never joined ({never_joined})"] * never_joined
        if killed:
            errors += ["orphaned office PC not back"] * (
                report["orphaned_hosts"] - report["orphans_back"]
            )
            errors += ["dropped session not resumed"] * (
                report["sessions_dropped"] - report["sessions_resumed"]
            )
        for error in sorted(set(errors))[:8]:
            print("error:", error, file=sys.stderr)
        report["errors"] = len(errors)
        report["retried_failures"] = dict(self.failures.most_common(8))
        report["refusals"] = dict(self.refusals)
        report["node_cpu_percent"] = [
            round(
                100
                * ((n.cpu_end or n.cpu_start) - n.cpu_start)
                / max((n.wall_end or ended) - started, 1e-9),
                1,
            )
            for n in self.nodes
        ]
        report["node_rss_mb"] = [round(n.rss_peak_kb / 1024, 1) for n in self.nodes]
        report["node_directory_calls_peak"] = [n.directory_calls_peak for n in self.nodes]
        report["node_refusals"] = [n.refusals for n in self.nodes]
        report["generator_cpu_percent"] = round(
            100 * time.process_time() / max(time.monotonic() - self.process_start, 1e-9), 1
        )
        return report

    process_start = time.monotonic()


# -- the run ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def stopped_on_sigterm() -> Iterator[None]:
    """SIGTERM ends the bench as Ctrl-C does (everything it started is stopped)."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def node_warnings(nodes: list[Node]) -> None:
    """The nodes' warnings, a few of each kind, for the reader of the run (stderr)."""
    for node in nodes:
        with contextlib.suppress(OSError):
            lines = node.log.read_text(errors="replace").splitlines()
            kinds = Counter(
                re.sub(r"^\S+ \S+ ", "", line)[:120]
                for line in lines
                if " WARNING " in line or " ERROR " in line or "Traceback" in line
            )
            for text, count in kinds.most_common(5):
                print(f"{node.node_id}: {count}x {text}", file=sys.stderr)
            first = next((i for i, line in enumerate(lines) if line.startswith("Traceback")), None)
            if first is not None:  # the first traceback whole: a bug's place
                print("\n".join(lines[first - 1 : first + 30]), file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--idle-hosts", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=60.0, help="the whole run, from the load")
    parser.add_argument(
        "--kill-node-at", type=float, default=25.0, help="seconds into the run (0: no kill)"
    )
    parser.add_argument("--idle-ramp", type=float, default=IDLE_RAMP_PER_S)
    parser.add_argument("--session-ramp", type=float, default=SESSION_RAMP_PER_S)
    parser.add_argument(
        "--haproxy-sources",
        type=int,
        default=1,
        help="source addresses HAProxy connects to each node from (default 1, as deployed: "
        "the nodes count every viewer and office PC as one source, for their per-source "
        "limits); more spread those counts, as the clients' own addresses would",
    )
    parser.add_argument(
        "--no-proxy-protocol",
        dest="proxy_protocol",
        action="store_false",
        help="HAProxy sends no PROXY v2 header (the nodes then count every client as "
        "HAProxy's address, for comparison)",
    )
    parser.add_argument(
        "--haproxy-server",
        default="",
        metavar="OPTIONS",
        help="more options of HAProxy's default-server line, e.g. "
        '"observe layer4 error-limit 1 on-error mark-down"',
    )
    args = parser.parse_args()
    if args.nodes < 1 or (args.kill_node_at and args.nodes < 2):
        parser.error("killing a node needs --nodes 2 or more")
    if args.kill_node_at and args.seconds <= args.kill_node_at:
        parser.error("--seconds must be past --kill-node-at")

    connections = args.idle_hosts + 3 * args.sessions
    fds = connections + FD_HEADROOM
    raise_fd_limit(fds)
    report: dict[str, Any] = {}
    nodes: list[Node] = []
    with stopped_on_sigterm(), contextlib.ExitStack() as stack:
        t0 = time.monotonic()
        postgres = stack.enter_context(running_cluster())
        url = postgres.url()
        work = Path(tempfile.mkdtemp(prefix="telework-cluster-"))
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        data_dir = work / "data"
        pairs = prepare(data_dir, args.sessions, url)
        idle = prepare_idle_hosts(data_dir, args.idle_hosts, url)
        load_or_create_identity(data_dir, RELAY_IDENTITY_STEM, RELAY_COMMON_NAME)
        print(
            f"prepared {args.sessions} pairs and {args.idle_hosts} idle office PCs "
            f"in {time.monotonic() - t0:.1f} s",
            file=sys.stderr,
        )
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        stack.callback(engine.dispose)
        stack.callback(node_warnings, nodes)
        for index in range(args.nodes):
            trusted = haproxy_sources(index, args.haproxy_sources) if args.proxy_protocol else []
            fds = 2 * connections + FD_HEADROOM
            nodes.append(start_node(index, data_dir, url, work, fds, trusted))
            stack.callback(stop_process, nodes[-1].process)
        wait_for_nodes(nodes)
        # Through HAProxy: control channels and viewers (data connections go to the nodes).
        # HAProxy needs two descriptors a connection, under the hard limit.
        through = args.idle_hosts + 2 * args.sessions + FD_HEADROOM
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if hard != resource.RLIM_INFINITY and 2 * through + FD_HEADROOM > hard:
            print(f"warning: HAProxy may hold {hard // 2} connections", file=sys.stderr)
            through = (hard - FD_HEADROOM) // 2
        haproxy, port, stats = start_haproxy(
            work, nodes, through, args.haproxy_sources, args.haproxy_server, args.proxy_protocol
        )
        stack.callback(stop_process, haproxy, signal.SIGTERM)
        import uvloop

        bench = Bench(args, nodes, (port, stats), pairs, idle, engine)
        report = uvloop.run(bench.run())
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
