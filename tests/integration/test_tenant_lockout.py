"""A tenant's own lockout (its policy's lockout_failures and lockout_minutes), on two relay
nodes sharing one directory: the count that locks its staff's accounts and the lock's length,
while another tenant keeps the defaults. On PostgreSQL and on a shared SQLite file; the
relays' wall clock (the lockouts') is a test clock, so hour-long locks take no real time."""

from __future__ import annotations

import itertools
import time
from dataclasses import replace

import pyotp
import pytest

from core.auth import lockout as limits
from core.crypto.certs import generate_identity
from relay.server import RelayServer
from relay.store.directory import Directory
from relay.store.errors import InvalidInput
from tests.integration.relay_harness import (
    FAST,
    TENANT,
    USER,
    Relay,
    login_message,
    start_relay,
)
from transport.client import RefusedByRelay, viewer_login
from transport.connect import RelayEndpoint

STRICT = "strict-city"
STAFF = "suzuki"
HOST_ID = "A" * 20  # no such office PC: a right code, not locked out, hears "not granted"
SECRETS: dict[str, str] = {}  # tenant -> its user's TOTP secret, while a test runs


class WallClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance_min(self, minutes: float) -> None:
        self.now += minutes * 60


@pytest.fixture
def wall() -> WallClock:
    return WallClock()


@pytest.fixture
async def nodes(tmp_path, database_url, wall):
    """Nodes A and B on one directory and one clock; tenant STRICT's STAFF beside the
    harness's tenant and user."""
    first = await start_relay(tmp_path, database=database_url, wall_clock=wall)
    first.directory.add_tenant(STRICT)
    _, strict_secret = first.directory.add_user(STRICT, STAFF)
    directory = Directory.open(tmp_path, database=database_url)
    server = RelayServer(directory, generate_identity("relay-b"), FAST, wall_clock=wall)
    host, port = await server.start("127.0.0.1", 0)
    second = Relay(server, directory, RelayEndpoint(host, port, server.fingerprint), "")
    SECRETS.update({TENANT: first.totp_secret, STRICT: strict_secret})
    yield first, second
    SECRETS.clear()
    await second.close()
    await first.close()


async def attempt(relay: Relay, tenant: str, otp: str) -> str:
    """A login's refusal reason (every one is refused: HOST_ID is no office PC)."""
    user = STAFF if tenant == STRICT else USER
    message = replace(
        login_message(relay, HOST_ID, otp, generate_identity("home-pc")), tenant=tenant, user=user
    )
    with pytest.raises(RefusedByRelay) as caught:
        channel, _ = await viewer_login(relay.endpoint, message, generate_identity("home-pc"))
        channel.close()
    return caught.value.reason


def right_code(tenant: str, wall: WallClock) -> str:
    """The tenant's user's TOTP code at the relays' time."""
    return pyotp.TOTP(SECRETS[tenant]).at(wall.now)


async def test_a_tenant_with_three_failures_locks_after_three_on_every_node(nodes, wall):
    first, second = nodes
    first.directory.set_tenant_policy(STRICT, {"lockout_failures": 3})
    node = itertools.cycle([first, second])
    assert [await attempt(next(node), STRICT, "000000") for _ in range(3)] == [
        "wrong_otp",
        "wrong_otp",
        "locked_out",
    ]
    for relay in nodes:
        assert await attempt(relay, STRICT, right_code(STRICT, wall)) == "locked_out"
    # Another tenant's staff keep the relay's default of five.
    reasons = [await attempt(next(node), TENANT, "000000") for _ in range(5)]
    assert reasons == ["wrong_otp"] * (limits.USER_MAX_FAILURES - 1) + ["locked_out"]
    # The default lock (15 minutes) for both: the strict tenant set no length.
    wall.advance_min(limits.USER_LOCK_S / 60 + 1)
    for tenant in (STRICT, TENANT):
        assert await attempt(second, tenant, right_code(tenant, wall)) == "not_granted"


async def test_lockout_minutes_sets_the_locks_length_and_a_lock_keeps_its_end(nodes, wall):
    first, second = nodes
    first.directory.set_tenant_policy(STRICT, {"lockout_failures": 4, "lockout_minutes": 60})
    for relay in (first, second, first, second):
        await attempt(relay, STRICT, "000000")
    # Shortened meanwhile: the lock set already ends when it was to.
    first.directory.set_tenant_policy(STRICT, {"lockout_minutes": 20})
    wall.advance_min(59)
    for relay in nodes:
        assert await attempt(relay, STRICT, right_code(STRICT, wall)) == "locked_out"
    wall.advance_min(2)
    assert await attempt(first, STRICT, right_code(STRICT, wall)) == "not_granted"
    # The new length for the next lock (its count the default now: five).
    for _ in range(limits.USER_MAX_FAILURES):
        await attempt(second, STRICT, "000000")
    wall.advance_min(19)
    assert await attempt(first, STRICT, right_code(STRICT, wall)) == "locked_out"
    wall.advance_min(2)
    assert await attempt(first, STRICT, right_code(STRICT, wall)) == "not_granted"


async def test_an_office_pcs_policy_may_not_set_the_lockout_nor_is_it_sent_one(nodes):
    first, _ = nodes
    directory = first.directory
    token = directory.issue_enrollment_token(TENANT, 600, time.time())
    host_id = "B" * 20
    directory.redeem_enrollment_token(token, host_id, "PEM", "PC-01", "1", time.time())
    before = directory.get_host_policy(TENANT, host_id)
    with pytest.raises(InvalidInput, match="lockout_failures: the tenant's alone"):
        directory.set_host_policy(TENANT, host_id, {"lockout_failures": 3})
    assert directory.get_host_policy(TENANT, host_id) == before
    directory.set_tenant_policy(TENANT, {"lockout_failures": 3, "watermark": True})
    pushed = directory.effective_policy(host_id)
    assert pushed["watermark"] and "lockout_failures" not in pushed
    assert directory.tenant_lockout(TENANT) == (3, limits.USER_LOCK_S)
    no_such = "no-such-city"  # a typed name no account has: the defaults
    assert directory.tenant_lockout(no_such) == (limits.USER_MAX_FAILURES, limits.USER_LOCK_S)
