"""HAProxy (the Debian package) in TCP mode on loopback, in front of relay nodes, as the one
public address of a cluster: ``balance leastconn``, each node health-checked on its
``/healthz`` (metrics port), TLS left end to end to the nodes."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# How often HAProxy checks each node, and after how many failed checks it is down: a killed
# node stops getting new connections within about two seconds.
CHECK_INTER_MS = 500
CHECK_FALL = 3
# HAProxy connects to the nodes from this address, which they trust to name the client in a
# PROXY v2 header (serve --trusted-proxy): distinct from 127.0.0.1, where office PCs attach
# their sessions' data connections to the nodes directly.
SOURCE = "127.0.0.2"
# Connections HAProxy takes at once; it needs two descriptors each, under the sandbox's limit.
MAX_CONNECTIONS = 4000
START_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Backend:
    name: str
    port: int  # where the node takes office PCs and viewers
    health_port: int  # its metrics port (/healthz)


def missing_reason() -> str | None:
    """Why HAProxy cannot run here (for a skip message), or None."""
    return None if shutil.which("haproxy") else "haproxy not installed: apt-get install haproxy"


def config(port: int, backends: list[Backend]) -> str:
    servers = "\n".join(
        f"    server {b.name} 127.0.0.1:{b.port} check port {b.health_port}"
        f" inter {CHECK_INTER_MS} fall {CHECK_FALL} rise 1 send-proxy-v2 source {SOURCE}"
        for b in backends
    )
    return f"""global
    maxconn {MAX_CONNECTIONS}

defaults
    mode tcp
    timeout connect 3s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    option redispatch
    retries 2

frontend relay
    bind 127.0.0.1:{port}
    default_backend nodes

backend nodes
    balance leastconn
    option httpchk GET /healthz
{servers}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HaProxy:
    """``haproxy -db`` with :func:`config`; stop() ends it."""

    def __init__(self, work: Path, backends: list[Backend]) -> None:
        self.port = free_port()
        cfg = work / "haproxy.cfg"
        cfg.write_text(config(self.port, backends), encoding="utf-8")
        self.log = work / "haproxy.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                ["haproxy", "-f", str(cfg), "-db"], stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"haproxy did not start: {self.log.read_text()}") from None
                time.sleep(0.1)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
