"""Two relay nodes in one process sharing one PostgreSQL directory: an office PC on one, a viewer
on the other, the session joined where the viewer is; ending it and pushing a policy from the
other node; an office PC moving when its node leaves; a dead node's sessions ended on record."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.crypto.certs import Identity, generate_identity
from core.protocol.control import RefusalReason, SessionEnd, SessionOffer
from core.protocol.notices import CloseReason
from relay.admin.monitor import BandwidthMonitor
from relay.cli import main as relay_cli
from relay.cluster.local import HostElsewhere
from relay.cluster.node import RELAY_NODE_LOST, ClusterNode, NodeOptions
from relay.cluster.options import libpq_conninfo
from relay.server import RelayServer
from relay.store.directory import Directory
from relay.store.nodes import ClusterSession
from tests.integration.relay_harness import FAST, TENANT, USER, HostAgent, Relay, login, wait_until
from transport.client import RefusedByRelay
from transport.connect import RelayEndpoint

# Short leases: a dead node is found within seconds. Four heartbeats long, not two: with the
# tests run in parallel on a loaded machine, a live node's renewal came late past a two-second
# lease, and the office PC it held was, for a moment, nowhere.
TEST_LEASE_S = 4.0


@dataclass
class Cluster:
    a: Relay
    b: Relay
    url: str
    data_dir: Path


async def start_node(data_dir, url: str, node_id: str, identity: Identity, secret: str) -> Relay:
    directory = Directory.open(data_dir, database=url)
    server = RelayServer(
        directory,
        identity,
        FAST,
        node=NodeOptions(node_id, libpq_conninfo(url), lease_s=TEST_LEASE_S),
    )
    host, port = await server.start("127.0.0.1", 0)
    return Relay(
        server, directory, RelayEndpoint(host, port, fingerprint=server.fingerprint), secret
    )


@pytest.fixture
async def cluster(tmp_path, postgres_cluster) -> AsyncIterator[Cluster]:
    with postgres_cluster.empty_schema("cluster") as url:
        setup = Directory.open(tmp_path, database=url)
        setup.add_tenant(TENANT)
        _, secret = setup.add_user(TENANT, USER)
        setup.close()
        identity = generate_identity("relay")  # every node serves the same certificate
        a = await start_node(tmp_path, url, "node-a", identity, secret)
        b = await start_node(tmp_path, url, "node-b", identity, secret)
        yield Cluster(a, b, url, tmp_path)
        for relay in (a, b):
            await relay.server.close()
        await asyncio.get_running_loop().shutdown_default_executor()
        for relay in (a, b):
            relay.directory.close()


@pytest.fixture
async def host_on_a(cluster: Cluster) -> AsyncIterator[HostAgent]:
    agent = await HostAgent(cluster.a).start()
    cluster.a.directory.grant(TENANT, USER, agent.host_id)
    yield agent
    await agent.stop()


def located(relay: Relay, host: HostAgent) -> str | None:
    """The node the directory says holds ``host``."""
    where = relay.directory.host_node(host.host_id, time.time())
    return None if where is None else where.node_id


def node(relay: Relay) -> ClusterNode:
    assert isinstance(relay.server.cluster, ClusterNode)
    return relay.server.cluster


async def test_nodes_see_each_other_and_where_the_office_pc_is(cluster, host_on_a):
    now = time.time()
    live = cluster.b.directory.live_nodes(now)
    assert [n.node_id for n in live] == ["node-a", "node-b"]
    assert {n.address for n in live} == {node(cluster.a).address, node(cluster.b).address}
    await wait_until(
        lambda: cluster.b.directory.host_node(host_on_a.host_id, time.time()) is not None
    )
    assert cluster.b.directory.host_node(host_on_a.host_id, time.time()).node_id == "node-a"


async def test_viewer_on_another_node_gets_a_session_joined_on_its_own_node(cluster, host_on_a):
    await wait_until(
        lambda: cluster.b.directory.host_node(host_on_a.host_id, time.time()) is not None
    )
    channel, ok = await login(cluster.b, host_on_a.host_id, cluster.b.totp_now())
    await channel.write(b"hello across nodes")
    assert await channel.read() == b"echo:hello across nodes"
    # Joined on the viewer's node: the office PC was told to attach there.
    (offer,) = host_on_a.offers
    assert offer.attach_to == node(cluster.b).address
    assert ok.session_id in cluster.b.server.sessions
    assert not cluster.a.server.sessions
    # Every node's admin API sees it.
    await wait_until(lambda: bool(cluster.a.directory.list_cluster_sessions(time.time())))
    (listed,) = cluster.a.directory.list_cluster_sessions(time.time())
    assert (listed.session_id, listed.node_id, listed.user) == (ok.session_id, "node-b", USER)
    channel.close()


async def test_a_session_is_ended_from_another_node_and_its_office_pc_told(cluster, host_on_a):
    await wait_until(
        lambda: cluster.b.directory.host_node(host_on_a.host_id, time.time()) is not None
    )
    channel, ok = await login(cluster.b, host_on_a.host_id, cluster.b.totp_now())
    await channel.write(b"x")
    await channel.read()
    await wait_until(lambda: bool(cluster.a.directory.list_cluster_sessions(time.time())))
    assert await node(cluster.a).end_session(ok.session_id, "ended_by_admin")
    await wait_until(lambda: ok.session_id not in cluster.b.server.sessions)
    await wait_until(lambda: not cluster.a.directory.list_cluster_sessions(time.time()))
    channel.close()


async def test_an_office_pcs_cut_reaches_the_node_running_the_session(cluster, host_on_a):
    """The office PC's control channel is on node A, the session on node B: its report that
    its policy cut the session (idle) goes through the cluster bus, and B ends the session and
    its resume ticket."""
    await wait_until(
        lambda: cluster.b.directory.host_node(host_on_a.host_id, time.time()) is not None
    )
    device = generate_identity("home-pc")
    channel, ok = await login(cluster.b, host_on_a.host_id, cluster.b.totp_now(), device)
    await channel.write(b"x")
    await channel.read()
    await wait_until(lambda: bool(cluster.a.directory.list_cluster_sessions(time.time())))
    assert host_on_a.stream is not None
    await host_on_a.stream.send(SessionEnd(ok.session_id, CloseReason.IDLE_TIMEOUT))
    await wait_until(lambda: ok.session_id not in cluster.b.server.sessions)
    channel.close()
    with pytest.raises(RefusedByRelay) as refused:
        await login(cluster.b, host_on_a.host_id, "", device, resume_ticket=ok.resume_ticket)
    assert refused.value.reason == RefusalReason.BAD_RESUME_TICKET
    (end,) = cluster.b.directory.list_audit(event="session_end")
    assert end.detail["reason"] == CloseReason.IDLE_TIMEOUT


async def test_a_policy_pushed_from_another_node_reaches_the_office_pc(cluster, host_on_a):
    cluster.a.server.channels._policy_for_host = lambda host_id: {"idle_timeout_s": 600}
    await wait_until(
        lambda: cluster.b.directory.host_node(host_on_a.host_id, time.time()) is not None
    )
    assert await node(cluster.b).push_policy(host_on_a.host_id)
    await wait_until(lambda: {"idle_timeout_s": 600} in host_on_a.policies)


async def test_a_signed_list_of_home_pcs_stored_on_another_node_reaches_the_office_pc(
    cluster, host_on_a
):
    from core.hostpolicy.devices import RegisteredDevice
    from core.hostpolicy.signed_devices import (
        CentralDeviceList,
        TenantKeyFile,
        sign_device_list,
    )

    # The office PC's channel is set up (what it gets on arrival is sent), so only the push
    # below can bring the list.
    channels = cluster.a.server.channels
    await wait_until(lambda: channels.online[host_on_a.host_id].last_heard > 0)
    await wait_until(
        lambda: cluster.b.directory.host_node(host_on_a.host_id, time.time()) is not None
    )
    key_file = TenantKeyFile.create(TENANT, "a long passphrase for tests")
    directory = cluster.b.directory
    directory.set_signing_key(TENANT, key_file.public_key)
    central = CentralDeviceList(
        TENANT, host_on_a.host_id, 1, int(time.time()), (RegisteredDevice("A" * 20, "x"),)
    )
    signed = sign_device_list(central, key_file.unseal("a long passphrase for tests"))
    directory.set_device_list(TENANT, host_on_a.host_id, signed)
    # The node holding the office PC reads the list from the shared directory and pushes it.
    channels._device_list_for_host = cluster.a.directory.device_list_for_host
    assert await cluster.b.server.push_device_list(host_on_a.host_id)
    await wait_until(lambda: host_on_a.device_lists)
    assert host_on_a.device_lists[0].payload == signed.payload


async def test_an_office_pc_that_leaves_its_node_is_offline_until_it_comes_back_elsewhere(
    cluster, host_on_a
):
    await wait_until(
        lambda: cluster.b.directory.host_node(host_on_a.host_id, time.time()) is not None
    )
    await host_on_a.stop()
    await wait_until(lambda: cluster.b.directory.host_node(host_on_a.host_id, time.time()) is None)
    host_on_a.relay = cluster.b  # it reconnects through the public address: node B this time
    await host_on_a.reconnect()
    await wait_until(lambda: located(cluster.a, host_on_a) == "node-b")
    channel, _ = await login(cluster.a, host_on_a.host_id, cluster.a.totp_now())
    await channel.write(b"moved")
    assert await channel.read() == b"echo:moved"
    channel.close()


async def test_a_stale_channel_on_the_old_node_is_closed_when_the_office_pc_arrives_elsewhere(
    cluster, host_on_a
):
    host_on_a.relay = cluster.b
    await host_on_a.reconnect()  # a second channel, on node B, while A still holds the first
    await wait_until(lambda: host_on_a.host_id not in cluster.a.server.hosts)
    await wait_until(lambda: located(cluster.b, host_on_a) == "node-b")


async def test_an_offer_awaiting_a_silent_node_fails_once_the_office_pc_is_online_elsewhere(
    cluster, host_on_a
):
    """A killed node's lease names it as where its office PCs are for a while, and an offer
    sent there gets no answer. Once the office PC is back on another node, the login waiting
    hears at once that it is elsewhere (its viewer retries with its ticket), not after the
    whole answer timeout."""
    await wait_until(lambda: located(cluster.a, host_on_a) == "node-a")
    offer = SessionOffer("s-1", TENANT, USER, "", [], "10.0.0.1", node(cluster.a).address)
    asking = asyncio.create_task(node(cluster.a).ask("node-killed", host_on_a.host_id, offer))
    await asyncio.sleep(0.3)
    assert not asking.done()
    host_on_a.relay = cluster.b
    await host_on_a.reconnect()  # back, on node B
    with pytest.raises(HostElsewhere):
        await asyncio.wait_for(asking, 5)


async def test_a_dead_nodes_sessions_are_ended_on_record_by_a_live_node(cluster):
    directory = cluster.a.directory
    now = time.time()
    directory.register_node("node-dead", "127.0.0.1:1", 10, TEST_LEASE_S, now - 60)
    directory.add_cluster_session(
        ClusterSession(
            "s-lost", "node-dead", TENANT, USER, "h", "10.0.0.1", now - 50, 7, 9, now - 45
        )
    )
    await wait_until(lambda: not directory.any_dead_node(time.time()), timeout=10)
    (end,) = [
        r for r in directory.list_audit(event="session_end") if r.detail["session"] == "s-lost"
    ]
    assert end.detail["reason"] == RELAY_NODE_LOST
    assert end.detail["node"] == "node-dead"
    assert end.detail["duration_s"] == pytest.approx(5.0)
    assert "node-dead" not in {n.node_id for n in directory.live_nodes(time.time())}
    # Ended once, though both live nodes look for dead ones.
    await asyncio.sleep(2.5)
    ends = [r for r in directory.list_audit(event="session_end") if r.detail["session"] == "s-lost"]
    assert len(ends) == 1


async def elsewhere(relay: Relay, count: int) -> list[ClusterSession]:
    """The other nodes' sessions as ``relay`` sees them, once there are ``count``."""
    for _ in range(500):
        rows = await relay.server.sessions_elsewhere(None)
        if len(rows) == count:
            return rows
        await asyncio.sleep(0.01)
    raise AssertionError(f"not {count} sessions elsewhere")


async def test_the_admin_side_of_every_node_sees_and_acts_on_the_whole_cluster(cluster, host_on_a):
    host_on_b = await HostAgent(cluster.b).start()
    cluster.b.directory.grant(TENANT, USER, host_on_b.host_id)
    try:
        assert await cluster.a.server.leads_cluster()
        assert not await cluster.b.server.leads_cluster()
        await wait_until(lambda: located(cluster.a, host_on_b) == "node-b")
        both = [host_on_a.host_id, host_on_b.host_id]
        assert await cluster.a.server.hosts_online_anywhere(both) == set(both)

        on_a, _ = await login(cluster.a, host_on_a.host_id, cluster.a.totp_now())
        on_b, ok_b = await login(
            cluster.b, host_on_b.host_id, cluster.b.directory.issue_codes(TENANT, USER, 1)[0]
        )
        (row,) = await elsewhere(cluster.a, 1)
        assert (row.session_id, row.node_id) == (ok_b.session_id, "node-b")

        # A tenant's cap is shared by its sessions on every node.
        monitor = BandwidthMonitor(cluster.a.server)
        monitor.limits[TENANT] = (None, 60_000)
        monitor.sample([row])
        assert monitor.elsewhere_counts == {TENANT: 1}
        assert monitor.share_bps(TENANT) == 30_000

        # Taking a user's access away on one node ends their sessions on the others.
        ended = await cluster.a.server.end_sessions_elsewhere(TENANT, "ended_by_admin", user=USER)
        assert ended == [ok_b.session_id]
        await wait_until(lambda: ok_b.session_id not in cluster.b.server.sessions)
        for channel in (on_a, on_b):
            channel.close()
    finally:
        await host_on_b.stop()


async def test_a_draining_node_moves_idle_office_pcs_and_lets_sessions_finish(cluster, host_on_a):
    busy = await HostAgent(cluster.a).start()
    cluster.a.directory.grant(TENANT, USER, busy.host_id)
    try:
        channel, ok = await login(cluster.a, busy.host_id, cluster.a.totp_now())
        draining = asyncio.create_task(cluster.a.server.drain(timeout_s=30))
        # The idle office PC is sent away at once; the one in a session stays until it ends.
        await wait_until(lambda: host_on_a.host_id not in cluster.a.server.hosts)
        assert busy.host_id in cluster.a.server.hosts
        assert cluster.a.server.cluster.draining
        with pytest.raises(OSError):  # no longer listening: the balancer sends work elsewhere
            await asyncio.open_connection(cluster.a.endpoint.host, cluster.a.endpoint.port)
        await channel.write(b"still here")
        assert await channel.read() == b"echo:still here"
        assert not draining.done()
        channel.close()  # the session ends: its office PC moves, and the drain is over
        await asyncio.wait_for(draining, 10)
        assert not cluster.a.server.hosts and not cluster.a.server.sessions
        assert ok.session_id
    finally:
        await busy.stop()


def test_the_operator_lists_the_live_nodes_and_their_load(cluster, host_on_a, capsys):
    def nodes() -> dict[str, dict]:
        capsys.readouterr()
        argv = ["manage", "--data-dir", str(cluster.data_dir), "--database", cluster.url]
        assert relay_cli([*argv, "--json", "nodes"]) == 0
        return {n["node_id"]: n for n in json.loads(capsys.readouterr().out)["nodes"]}

    listed = nodes()
    assert set(listed) == {"node-a", "node-b"}
    assert listed["node-a"]["address"] == node(cluster.a).address
    assert listed["node-a"]["draining"] is False
