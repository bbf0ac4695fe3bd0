"""``serve``'s options for running as a node of a cluster, and their checks."""

from __future__ import annotations

import argparse
import ipaddress

import sqlalchemy as sa

from core.errors import Error, LocalError
from relay.cluster.node import NODE_MAX_HOSTS, NodeOptions
from relay.settings import DRAIN_TIMEOUT_S
from relay.store.database import checked_url
from relay.store.errors import InvalidInput
from relay.store.nodes import check_node_id
from transport.connect import parse_host_port


def add_node_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--node-id",
        default=None,
        help="run as this node of a cluster of relays sharing the --database (PostgreSQL); "
        "unique in the cluster, e.g. relay-a",
    )
    serve.add_argument(
        "--advertise",
        default=None,
        metavar="HOST:PORT",
        help="where office PCs reach this node directly, to attach the sessions of viewers "
        "logged in here (default: the --listen address)",
    )
    serve.add_argument(
        "--max-hosts",
        type=int,
        default=NODE_MAX_HOSTS,
        help=f"office PCs this node holds at most; more are refused and retry on another node "
        f"(default {NODE_MAX_HOSTS})",
    )
    serve.add_argument(
        "--drain-timeout",
        type=float,
        default=DRAIN_TIMEOUT_S,
        metavar="SECONDS",
        help=f"on SIGTERM, how long live sessions may go on before they are cut and resume on "
        f"other nodes (default {DRAIN_TIMEOUT_S:.0f}); SIGINT stops at once",
    )


def add_proxy_option(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a load balancer (HAProxy with send-proxy-v2) whose connections start with a "
        "PROXY v2 header naming the client: limits, lockouts and the audit log then count "
        "the client, not the balancer (repeat for several)",
    )


def trusted_proxies(args: argparse.Namespace) -> frozenset[str]:
    """The ``--trusted-proxy`` addresses, checked (LocalError names a bad one)."""
    out = set()
    for text in args.trusted_proxy:
        try:
            out.add(str(ipaddress.ip_address(text)))
        except ValueError:
            raise LocalError(f"--trusted-proxy: {text!r} is not an IP address") from None
    return frozenset(out)


def node_options(args: argparse.Namespace) -> NodeOptions | None:
    """The cluster options given, checked; None for a relay on its own. LocalError with a
    message for the operator when they do not fit together."""
    if args.node_id is None:
        if args.advertise is not None:
            raise LocalError("--advertise needs --node-id (it is a cluster node's address)")
        return None
    try:
        check_node_id(args.node_id)
    except InvalidInput as exc:
        raise LocalError(f"--node-id: {exc}") from exc
    if args.database is None or checked_url(args.database).get_backend_name() != "postgresql":
        raise LocalError("--node-id needs --database postgresql://...: nodes share one directory")
    if args.max_hosts < 1:
        raise LocalError("--max-hosts must be at least 1")
    if args.advertise is not None:
        try:
            parse_host_port(args.advertise)
        except Error as exc:
            raise LocalError(f"--advertise: {exc}") from exc
    return NodeOptions(
        args.node_id, libpq_conninfo(args.database), args.advertise or "", args.max_hosts
    )


def libpq_conninfo(database_url: str) -> str:
    """The SQLAlchemy URL of the directory as the libpq URI the cluster bus connects with."""
    url: sa.URL = checked_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)
