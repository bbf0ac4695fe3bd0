"""Relay metrics in the Prometheus text format, served on a separate loopback port."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class RelayMetrics:
    bytes_to_viewer: int = 0
    bytes_to_host: int = 0
    logins: int = 0
    sessions_started: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    store_errors: int = 0  # directory calls that failed (a full disk, a lost database)
    cleanup_failures: Counter[str] = field(default_factory=Counter)  # by clean-up step
    audit_records_dropped: int = 0  # the audit backlog was full
    audit_records_quieted: int = 0  # not written: their source sends too much noise
    # Gauges are read live from the server at scrape time.
    live_sessions: Callable[[], int] = lambda: 0
    hosts_online: Callable[[], int] = lambda: 0
    audit_backlog: Callable[[], int] = lambda: 0
    directory_calls: Callable[[], int] = lambda: 0
    # Syslog collectors by name ("operator", "tenant/<name>"): messages dropped, and each
    # one's queue length and whether it is connected now.
    syslog_dropped: Callable[[], dict[str, int]] = dict
    syslog_queues: Callable[[], dict[str, tuple[int, bool]]] = dict
    node_id: str = ""  # a cluster node's ID: every sample is labelled node="<ID>"

    def render(self) -> str:
        lines = [
            "# HELP telework_live_sessions Sessions currently forwarding.",
            "# TYPE telework_live_sessions gauge",
            f"telework_live_sessions {self.live_sessions()}",
            "# HELP telework_hosts_online Host agents with a live control channel.",
            "# TYPE telework_hosts_online gauge",
            f"telework_hosts_online {self.hosts_online()}",
            "# HELP telework_forwarded_bytes_total Bytes forwarded between viewers and hosts.",
            "# TYPE telework_forwarded_bytes_total counter",
            f'telework_forwarded_bytes_total{{direction="to_viewer"}} {self.bytes_to_viewer}',
            f'telework_forwarded_bytes_total{{direction="to_host"}} {self.bytes_to_host}',
            "# HELP telework_logins_total Successful viewer logins.",
            "# TYPE telework_logins_total counter",
            f"telework_logins_total {self.logins}",
            "# HELP telework_sessions_started_total Sessions joined and forwarding.",
            "# TYPE telework_sessions_started_total counter",
            f"telework_sessions_started_total {self.sessions_started}",
            "# HELP telework_refusals_total Refused logins, enrolments and host connections.",
            "# TYPE telework_refusals_total counter",
        ]
        lines += [
            f'telework_refusals_total{{reason="{reason}"}} {count}'
            for reason, count in sorted(self.refusals.items())
        ]
        lines += [
            "# HELP telework_store_errors_total Directory calls that failed (full disk, lost DB).",
            "# TYPE telework_store_errors_total counter",
            f"telework_store_errors_total {self.store_errors}",
            "# HELP telework_audit_backlog Audit records waiting to be written.",
            "# TYPE telework_audit_backlog gauge",
            f"telework_audit_backlog {self.audit_backlog()}",
            "# HELP telework_directory_calls_in_flight Directory calls running or queued.",
            "# TYPE telework_directory_calls_in_flight gauge",
            f"telework_directory_calls_in_flight {self.directory_calls()}",
            "# HELP telework_audit_records_dropped_total Audit records lost: backlog full.",
            "# TYPE telework_audit_records_dropped_total counter",
            f"telework_audit_records_dropped_total {self.audit_records_dropped}",
            "# HELP telework_audit_records_quieted_total Failures from a noisy source, counted"
            " but not written.",
            "# TYPE telework_audit_records_quieted_total counter",
            f"telework_audit_records_quieted_total {self.audit_records_quieted}",
            "# HELP telework_cleanup_failures_total Clean-up steps that failed (the others ran).",
            "# TYPE telework_cleanup_failures_total counter",
        ]
        lines += [
            f'telework_cleanup_failures_total{{step="{step}"}} {count}'
            for step, count in sorted(self.cleanup_failures.items())
        ]
        lines += self._syslog_lines()
        if self.node_id:
            lines = [_labelled(line, "node", self.node_id) for line in lines]
        return "\n".join(lines) + "\n"

    def _syslog_lines(self) -> list[str]:
        queues, dropped = self.syslog_queues(), self.syslog_dropped()
        lines = [
            "# HELP telework_syslog_dropped_total Audit copies for a syslog collector dropped:"
            " its queue was full.",
            "# TYPE telework_syslog_dropped_total counter",
        ]
        lines += [
            f"telework_syslog_dropped_total{{destination={_quoted(name)}}} {count}"
            for name, count in sorted(dropped.items())
        ]
        lines += [
            "# HELP telework_syslog_queue Audit copies waiting for a syslog collector.",
            "# TYPE telework_syslog_queue gauge",
        ]
        lines += [
            f"telework_syslog_queue{{destination={_quoted(name)}}} {length}"
            for name, (length, _) in sorted(queues.items())
        ]
        lines += [
            "# HELP telework_syslog_connected Whether a syslog collector is connected (1) or not.",
            "# TYPE telework_syslog_connected gauge",
        ]
        lines += [
            f"telework_syslog_connected{{destination={_quoted(name)}}} {int(up)}"
            for name, (_, up) in sorted(queues.items())
        ]
        return lines


def _quoted(value: str) -> str:
    """A label value in the text format's quotes, escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _labelled(line: str, name: str, value: str) -> str:
    """A sample line of the text format with one more label (comment lines as they are)."""
    if line.startswith("#"):
        return line
    label = f"{name}={_quoted(value)}"
    metric, sample = line.split(" ", 1)
    if metric.endswith("}"):
        return f"{metric[:-1]},{label}}} {sample}"
    return f"{metric}{{{label}}} {sample}"


async def start_metrics_server(
    metrics: RelayMetrics, host: str, port: int, serving: Callable[[], bool] = lambda: True
) -> tuple[web.AppRunner, int]:
    """Serve ``/metrics``, and ``/healthz`` for a load balancer's health check (200 while the
    relay takes work, 503 once it drains); returns the runner (to clean up) and the port
    actually bound."""

    async def handle(_request: web.Request) -> web.Response:
        return web.Response(text=metrics.render(), content_type="text/plain", charset="utf-8")

    async def health(_request: web.Request) -> web.Response:
        if serving():
            return web.Response(text="serving\n")
        return web.Response(text="draining\n", status=503)

    app = web.Application()
    app.router.add_get("/metrics", handle)
    app.router.add_get("/healthz", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    # Bind the socket ourselves so that port 0 ("any free port") can be reported back.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # "[::1]:9464" is IPv6
    sock = socket.create_server((host, port), family=family)
    await web.SockSite(runner, sock).start()
    return runner, int(sock.getsockname()[1])
