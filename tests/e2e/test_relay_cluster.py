"""Three relay nodes, PostgreSQL and HAProxy on loopback, with the real office PC agent and
viewer: the office PC on one node, the viewer through HAProxy on another, a real session
(picture and keys); then the office PC's node killed with SIGKILL mid-session. The office PC is
back online on another node and the viewer shows the live picture again without a new OTP,
each within its target, and no audit record is lost."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest

from relay.cluster.node import NODE_LEASE_S, RELAY_NODE_LOST
from tests import haproxy
from tests.e2e.rig import (
    USER,
    Accounts,
    HostAgent,
    Relay,
    Viewer,
    wait_for,
)

# The targets after the office PC's node is killed.
OFFICE_PC_BACK_TARGET_S = 30.0
PICTURE_BACK_TARGET_S = 45.0
NODES = ("node-a", "node-b", "node-c")

pytestmark = pytest.mark.skipif(haproxy.missing_reason() is not None, reason="haproxy missing")


def samples(node: Relay) -> dict[str, float]:
    with contextlib.suppress(OSError):
        return node.metrics()
    return {}


def gauge(node: Relay, name: str) -> float:
    return samples(node).get(f'{name}{{node="{node.name}"}}', 0.0)


def holding(nodes: list[Relay], name: str) -> list[Relay]:
    """The live nodes whose gauge ``name`` is above zero."""
    return [n for n in nodes if n.process and n.process.alive() and gauge(n, name) > 0]


@pytest.fixture
def cluster(tmp_path: Path, postgres_cluster) -> Iterator[tuple[list[Relay], haproxy.HaProxy]]:
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(postgres_cluster.empty_schema("cluster_e2e"))
        nodes = [Relay(tmp_path / "relay", tmp_path, database=url, node_id=n) for n in NODES]
        for node in nodes:  # one after another: the first makes the shared key and certificate
            node.extra_args = ["--trusted-proxy", haproxy.SOURCE]
            node.start()
            stack.callback(node.stop)
        backends = [
            haproxy.Backend(n.name, n.port, int(urlparse(n.metrics_url).port or 0)) for n in nodes
        ]
        front = haproxy.HaProxy(tmp_path, backends)
        stack.callback(front.stop)
        yield nodes, front


def test_killing_the_office_pcs_node_brings_both_back_on_others_without_a_new_otp(
    cluster, office_screen, home_screen, office_desktop, home_macs, tmp_path
):
    nodes, front = cluster
    public = SimpleNamespace(address=front.address, fingerprint=nodes[0].fingerprint)
    accounts = Accounts.create(nodes[0])
    agent = HostAgent(tmp_path / "host", tmp_path, "PC-CL")
    for mac in home_macs:
        agent.allow_mac(mac)
    viewer = None
    try:
        host_id = agent.enrol(public, office_screen, accounts.enrolment_token())
        accounts.grant(USER, host_id)
        wait_for(lambda: holding(nodes, "telework_hosts_online"), 20, "a node to hold it")
        (host_node,) = holding(nodes, "telework_hosts_online")

        viewer = Viewer(
            home_screen,
            tmp_path / "viewer",
            public,
            accounts.tenant,
            USER,
            host_id,
            register_on=agent,
        )
        viewer.wait_state("login", 30)
        viewer.type_otp(accounts.totp_now())
        viewer.wait_state("showing", 90)
        (session_node,) = holding(nodes, "telework_live_sessions")
        # HAProxy's leastconn sent the viewer to a node without the office PC's channel: the
        # session was offered through the office PC's node and joined on the viewer's.
        assert session_node is not host_node
        window = viewer.place_session_window()
        type_and_check(viewer, window, office_desktop, "cluster 1")

        # 1. The office PC's node dies. The session runs on through the viewer's node (its two
        # data connections are there); the office PC comes back online on another node.
        since = len(viewer.states())
        killed_at = time.monotonic()
        host_node.kill()
        office_back = wait_until_s(
            lambda: bool(agent.status()["connected"]),
            OFFICE_PC_BACK_TARGET_S,
            killed_at,
            "the office PC online on another node",
        )
        (new_host_node,) = holding(nodes, "telework_hosts_online")
        assert new_host_node is not host_node
        type_and_check(viewer, window, office_desktop, " cluster 2")
        keys_live = time.monotonic() - killed_at
        assert not any(s.get("state") == "closed" for s in viewer.states()[since:])

        # 2. The session's node dies: the viewer resumes with its ticket through HAProxy on a
        # live node, which offers the session through the office PC's new node.
        since = len(viewer.states())
        killed_at = time.monotonic()
        session_node.kill()
        picture_back = wait_until_s(
            lambda: any(s.get("state") == "showing" for s in viewer.states()[since:]),
            PICTURE_BACK_TARGET_S,
            killed_at,
            "the viewer's picture back",
        )
        print(
            f"office PC back {office_back:.2f} s, keys live {keys_live:.2f} s after its node "
            f"died; picture back {picture_back:.2f} s after the session's node died"
        )
        assert not any(s.get("state") == "login" for s in viewer.states()[since:]), (
            "the viewer asked for a new one-time password"
        )
        window = viewer.place_session_window()
        type_and_check(viewer, window, office_desktop, " cluster 3")

        (survivor,) = [n for n in nodes if n.process and n.process.alive()]

        def records() -> list[dict]:
            return survivor.manage("audit", "--limit", "1000")["records"]

        # The nodes saw the viewer's and office PC's own address, not HAProxy's.
        assert all(r["source"] != haproxy.SOURCE for r in records())
        # Nothing lost: the killed session node's session is ended on record by a survivor once
        # that node's lease runs out; the resumed login used no one-time password.
        lost = wait_for(
            lambda: [r for r in records() if r["detail"].get("reason") == RELAY_NODE_LOST],
            NODE_LEASE_S * 3,
            "the lost node's session ended on record",
        )
        assert lost[0]["detail"]["node"] == session_node.name
        events = [r["event"] for r in records()]
        assert events.count("session_start") == 2
        assert events.count("otp_used") == 1
        assert events.count("login") == 2
    finally:
        if viewer is not None:
            viewer.stop()
        agent.stop()


def wait_until_s(condition, limit_s: float, since: float, what: str) -> float:
    """Seconds from ``since`` until ``condition`` holds (fails past ``limit_s``)."""

    def met() -> bool:
        with contextlib.suppress(Exception):
            return bool(condition())
        return False

    wait_for(met, limit_s - (time.monotonic() - since), what)
    return time.monotonic() - since


def type_and_check(viewer: Viewer, window: str, office_desktop, typed: str) -> None:
    """Keys typed in the viewer arrive in the office window."""
    before = office_desktop.text()
    viewer.focus(window)
    viewer.screen.xdotool("type", "--delay", "60", typed)
    wait_for(
        lambda: office_desktop.text().endswith(typed) and len(office_desktop.text()) > len(before),
        20,
        f"{typed!r} in the office window",
    )
