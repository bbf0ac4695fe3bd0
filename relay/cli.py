"""``telework-relay``: run the relay (``serve``) or administer its data directory (``manage``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import resource
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from core.errors import Error
from core.syslog import (
    DEFAULT_FACILITY,
    Facility,
    SyslogConfigError,
    SyslogDestination,
    parse_destination,
)
from relay.admin.hooks import admin_hooks
from relay.admin.server import DEFAULT_ADMIN_LISTEN, start_admin_api
from relay.cluster.options import (
    add_node_options,
    add_proxy_option,
    node_options,
    trusted_proxies,
)
from relay.hooks import RelayHooks
from relay.manage import add_database_option, add_manage_parser, run_manage
from relay.metrics import start_metrics_server
from relay.server import RelayServer
from relay.settings import RELAY_COMMON_NAME, RELAY_IDENTITY_STEM, RelaySettings
from relay.store.directory import Directory
from storage.identity import load_or_create_identity
from transport.connect import parse_host_port

DEFAULT_LISTEN = "127.0.0.1:8443"
DEFAULT_METRICS_LISTEN = "127.0.0.1:9464"

log = logging.getLogger("telework.relay")


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOOPS = ("uvloop", "asyncio")
DEFAULT_LOOP = "uvloop"
EXIT_STARTUP_FAILED = 2  # as manage's errors: one line on stderr, no traceback


def _address(text: str) -> tuple[str, int]:
    try:
        return parse_host_port(text, allow_any_port=True)
    except Error as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="telework-relay", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the relay")
    serve.add_argument(
        "--data-dir",
        type=Path,
        required=True,
        help="certificate, key and directory database live here",
    )
    add_database_option(serve)
    serve.add_argument(
        "--listen",
        type=_address,
        default=DEFAULT_LISTEN,
        help=f"HOST:PORT for hosts and viewers (default {DEFAULT_LISTEN})",
    )
    serve.add_argument(
        "--metrics-listen",
        type=_address,
        default=DEFAULT_METRICS_LISTEN,
        help=f"HOST:PORT for Prometheus metrics (default {DEFAULT_METRICS_LISTEN})",
    )
    serve.add_argument(
        "--admin-listen",
        type=_address,
        default=None,
        help=f"HOST:PORT for the admin API (HTTPS, TLS 1.3); off unless given "
        f"(e.g. {DEFAULT_ADMIN_LISTEN})",
    )
    serve.add_argument(
        "--loop",
        choices=LOOPS,
        default=DEFAULT_LOOP,
        help=f"event loop: uvloop (libuv, less CPU per connection) or asyncio's own "
        f"(default {DEFAULT_LOOP})",
    )
    serve.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default="INFO",
        help="how much to log (default INFO)",
    )

    serve.add_argument(
        "--syslog",
        metavar="URL",
        help="send a copy of every audit record to this syslog collector: tls://HOST[:PORT] "
        "(RFC 5425, port 6514 by default) or udp://HOST[:PORT] (RFC 5426, unencrypted, for old "
        "collectors); each tenant may have its own too (admin API, console)",
    )
    serve.add_argument(
        "--syslog-ca",
        type=Path,
        metavar="FILE",
        help="PEM CA certificates the TLS collector's certificate must chain to (default: the "
        "system's CAs)",
    )
    serve.add_argument(
        "--syslog-fingerprint",
        metavar="SHA256",
        help="instead of a CA: the TLS collector's certificate SHA-256 fingerprint",
    )
    serve.add_argument(
        "--syslog-facility",
        type=str.lower,
        choices=[f.name.lower() for f in Facility],
        default=DEFAULT_FACILITY.name.lower(),
        help=f"syslog facility of the copies (default {DEFAULT_FACILITY.name.lower()})",
    )

    add_node_options(serve)
    add_proxy_option(serve)
    add_manage_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        logging.basicConfig(
            level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        raise_open_files_limit()
        try:
            return asyncio.run(_serve(args), loop_factory=loop_factory(args.loop))
        except KeyboardInterrupt:
            return 0
        except (OSError, Error) as exc:  # a port in use, an unreadable data directory, ...
            print(f"telework-relay serve: error: {exc}", file=sys.stderr)
            return EXIT_STARTUP_FAILED
        except sa.exc.SQLAlchemyError as exc:  # the database is down, refuses us, ...
            reason = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
            print(f"telework-relay serve: error: directory database: {reason}", file=sys.stderr)
            return EXIT_STARTUP_FAILED
    return run_manage(args)


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
    """The event loop ``--loop`` names. The relay needs nothing of asyncio's own loop (its
    TLS is its own protocol, not start_tls), so uvloop serves it the same."""
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return asyncio.new_event_loop


def raise_open_files_limit() -> None:
    """Raise the soft limit on open files to the hard one: each office PC holds a connection
    (a descriptor) for as long as it is on, and the default soft limit (1024) is far fewer."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == hard:
        log.info("open files limit %d", soft)
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError) as exc:
        log.warning("open files limit stays %d (hard limit %d): %s", soft, hard, exc)
        return
    log.info("open files limit raised from %d to %d (the hard limit)", soft, hard)


# What ``serve`` prints once it listens; scripts and tests read it back with parse_startup.
_LISTENING = re.compile(r"^relay listening on (\S+):(\d+) ", re.M)
_FINGERPRINT = re.compile(r"^certificate fingerprint \(SHA-256\): ([0-9a-f]{64})$", re.M)
_METRICS = re.compile(r"^metrics on (http://\S+/metrics)$", re.M)


@dataclass(frozen=True)
class Startup:
    host: str
    port: int
    fingerprint: str
    metrics_url: str


def parse_startup(printed: str) -> Startup | None:
    """Where a ``serve`` process listens, from what it printed; None until it has said all."""
    listening, pin, metrics = (p.search(printed) for p in (_LISTENING, _FINGERPRINT, _METRICS))
    if not (listening and pin and metrics):
        return None
    return Startup(listening[1], int(listening[2]), pin[1], metrics[1])


def syslog_option(args: argparse.Namespace) -> SyslogDestination | None:
    """The operator's collector from ``--syslog`` and its trust options (checked)."""
    if args.syslog is None:
        if args.syslog_ca is not None or args.syslog_fingerprint is not None:
            raise SyslogConfigError("--syslog-ca and --syslog-fingerprint need --syslog", "usage")
        return None
    ca_pem = None
    if args.syslog_ca is not None:
        ca_pem = args.syslog_ca.read_text(encoding="ascii", errors="replace")
    try:
        return parse_destination(args.syslog, ca_pem=ca_pem, fingerprint=args.syslog_fingerprint)
    except SyslogConfigError as exc:
        raise SyslogConfigError(f"--syslog: {exc}", exc.code) from None


async def _serve(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir
    node = node_options(args)
    identity = load_or_create_identity(data_dir, RELAY_IDENTITY_STEM, RELAY_COMMON_NAME)
    syslog = syslog_option(args)
    directory = Directory.open(data_dir, database=args.database)
    hooks = admin_hooks(directory) if args.admin_listen is not None else RelayHooks()
    settings = RelaySettings(trusted_proxies=trusted_proxies(args))
    server = RelayServer(
        directory,
        identity,
        settings,
        hooks=hooks,
        node=node,
        syslog=syslog,
        syslog_facility=Facility[args.syslog_facility.upper()],
    )
    host, port = await server.start(*args.listen)
    if node is not None:
        server.metrics.node_id = node.node_id
    metrics_host, metrics_port = args.metrics_listen
    metrics_runner, metrics_port = await start_metrics_server(
        server.metrics, metrics_host, metrics_port, lambda: not server.cluster.draining
    )
    print(f"relay listening on {host}:{port} (TLS 1.3)", flush=True)
    if node is not None:
        print(f"cluster node {node.node_id} at {server.cluster.attach_address}", flush=True)
    print(f"certificate fingerprint (SHA-256): {server.fingerprint}", flush=True)
    print(f"metrics on http://{args.metrics_listen[0]}:{metrics_port}/metrics", flush=True)
    # --- admin API (relay/admin) ---
    admin_api = None
    if args.admin_listen is not None:
        admin_api = await start_admin_api(server, identity, *args.admin_listen)
        print(f"admin API on {admin_api.url} (TLS 1.3, same certificate)", flush=True)
    stop = asyncio.Event()
    drain = asyncio.Event()
    loop = asyncio.get_running_loop()
    # A cluster node drains on SIGTERM (its work moves to the other nodes); a relay on its own
    # stops at once, as on SIGINT: its office PCs and viewers come back when it restarts.
    on_term = drain if node is not None else stop
    for sig, event in ((signal.SIGINT, stop), (signal.SIGTERM, on_term)):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, event.set)
    await asyncio.wait(
        [asyncio.create_task(stop.wait()), asyncio.create_task(drain.wait())],
        return_when=asyncio.FIRST_COMPLETED,
    )
    if drain.is_set() and not stop.is_set():
        print(f"relay draining (at most {args.drain_timeout:.0f} s)", flush=True)
        drained = asyncio.create_task(server.drain(args.drain_timeout))
        await asyncio.wait(
            [drained, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
        )
    print("relay stopping", flush=True)
    if admin_api is not None:
        await admin_api.close()
    await server.close()
    await metrics_runner.cleanup()
    directory.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
