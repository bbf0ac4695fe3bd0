"""Two relay nodes on one directory lock out together: a guesser spreading attempts over the
nodes behind a load balancer is locked as on one relay. On PostgreSQL (the cluster's directory)
and on a shared SQLite file."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from core.auth import lockout as lockout_limits
from core.crypto.certs import generate_identity
from core.protocol.control import RefusalReason
from relay.server import RelayServer
from relay.store.directory import Directory
from tests.integration.relay_harness import FAST, HostAgent, Relay, login, start_relay
from transport.client import RefusedByRelay
from transport.connect import RelayEndpoint


@pytest.fixture
async def nodes(tmp_path, database_url):
    """Relay nodes A and B sharing one directory (and its key file, as a cluster must)."""
    first = await start_relay(tmp_path, database=database_url)
    directory = Directory.open(tmp_path, database=database_url)
    server = RelayServer(directory, generate_identity("relay-b"), FAST)
    host, port = await server.start("127.0.0.1", 0)
    endpoint = RelayEndpoint(host, port, fingerprint=server.fingerprint)
    second = Relay(server, directory, endpoint, first.totp_secret)
    yield first, second
    await second.close()
    await first.close()


@pytest.fixture
async def office_pc(nodes):
    """An office PC online on node A, granted to the test user."""
    first, _ = nodes
    agent = await HostAgent(first).start()
    first.directory.grant("example-city", "tanaka", agent.host_id)
    yield agent
    await agent.stop()


async def refused(coro) -> str:
    with pytest.raises(RefusedByRelay) as caught:
        channel, _ = await coro
        channel.close()
    return caught.value.reason


async def test_wrong_otps_spread_over_two_nodes_lock_the_user_on_both(nodes, office_pc):
    first, second = nodes
    node = itertools.cycle([first, second])
    for _ in range(lockout_limits.USER_MAX_FAILURES - 1):
        assert await refused(login(next(node), office_pc.host_id, "000000")) == "wrong_otp"
    # The fifth wrong OTP, on whichever node, locks the user on every node.
    assert await refused(login(next(node), office_pc.host_id, "000000")) == "locked_out"
    for relay in (first, second):
        reason = await refused(login(relay, office_pc.host_id, first.totp_now()))
        assert reason == RefusalReason.LOCKED_OUT.value
    assert office_pc.offers == []


async def test_a_lock_set_on_one_node_is_honoured_by_the_other(nodes, office_pc):
    first, second = nodes
    for _ in range(lockout_limits.USER_MAX_FAILURES):
        await refused(login(first, office_pc.host_id, "000000"))
    # B never saw a failure of this user: only the shared lock can refuse the right code.
    assert len(second.server.context.lockouts.user.local) == 0
    assert await refused(login(second, office_pc.host_id, first.totp_now())) == "locked_out"
    assert office_pc.offers == []


async def test_a_source_locked_on_one_node_is_refused_on_the_other(nodes, office_pc):
    first, second = nodes
    node = itertools.cycle([first, second])
    # One wrong OTP each for many names (none reaches its own lock): the source's count does.
    for n in range(lockout_limits.SOURCE_MAX_FAILURES - 1):
        reason = await refused(login(next(node), office_pc.host_id, "000000", user=f"guess-{n}"))
        assert reason == "wrong_otp"
    last = f"guess-{lockout_limits.SOURCE_MAX_FAILURES}"
    assert await refused(login(first, office_pc.host_id, "000000", user=last)) == "locked_out"
    # The real user with the right code, from the locked address, on the other node.
    assert await refused(login(second, office_pc.host_id, first.totp_now())) == "locked_out"
    assert office_pc.offers == []


async def test_a_right_code_on_one_node_forgets_the_failures_counted_on_the_other(nodes, office_pc):
    first, second = nodes
    for _ in range(lockout_limits.USER_MAX_FAILURES - 1):
        await refused(login(first, office_pc.host_id, "000000"))
    # Proven on B (the office PC is on A, so B then finds it offline: the OTP was right).
    assert await refused(login(second, office_pc.host_id, first.totp_now())) == "host_offline"
    # The count started again: four more wrong OTPs on A do not lock the user.
    for _ in range(lockout_limits.USER_MAX_FAILURES - 1):
        assert await refused(login(first, office_pc.host_id, "000000")) == "wrong_otp"


async def test_a_parallel_burst_over_two_nodes_is_locked_once_the_shared_count_says_so(
    nodes, office_pc
):
    first, second = nodes
    guesses = [login(relay, office_pc.host_id, "000000") for relay in (first, second) * 6]
    results = await asyncio.gather(*guesses, return_exceptions=True)
    assert all(isinstance(r, RefusedByRelay) for r in results)
    # Each node lets at most the limit through at once; the shared count locks the user after.
    assert [r.reason for r in results].count("wrong_otp") <= 2 * lockout_limits.USER_MAX_FAILURES
    for relay in (first, second):
        assert await refused(login(relay, office_pc.host_id, first.totp_now())) == "locked_out"


async def test_a_login_costs_one_lockout_read_and_a_known_locked_source_none(
    nodes, office_pc, monkeypatch
):
    first, _ = nodes
    calls: list[str] = []
    for name in ("lockout_counts", "count_lockout_failures", "forget_lockout_failures"):
        monkeypatch.setattr(first.directory, name, counted(calls, getattr(first.directory, name)))
    channel, _ = await login(first, office_pc.host_id, first.totp_now())
    channel.close()
    assert calls == ["lockout_counts"]  # one read; nothing written for a clean login
    for n in range(lockout_limits.SOURCE_MAX_FAILURES):
        await refused(login(first, office_pc.host_id, "000000", user=f"guess-{n}"))
    calls.clear()
    assert await refused(login(first, office_pc.host_id, "000000")) == "locked_out"
    assert calls == []  # refused by the node's own front, without asking the directory


def counted(calls: list[str], method):
    def call(*args, **kwargs):
        calls.append(method.__name__)
        return method(*args, **kwargs)

    return call
