"""A real relay with its admin API on loopback (TLS 1.3), three admins and an injected clock."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import pyotp
import pytest

from core.crypto.certs import Identity, generate_identity
from relay.admin.hooks import admin_hooks
from relay.admin.server import AdminApi, start_admin_api
from relay.server import RelayServer
from relay.store.directory import Directory
from tests.integration.relay_harness import FAST, TENANT, USER, HostAgent, Relay, wait_until
from transport.connect import RelayEndpoint

OTHER_TENANT = "other-town"
OTHER_USER = "suzuki"
HOME_MAC = "02:00:00:00:00:01"  # what the harness's viewer reports
# The test admins: their tenant and role.
ADMINS: dict[str, tuple[str | None, str]] = {
    "root": (None, "operator"),
    "alice": (TENANT, "tenant_admin"),
    "bob": (OTHER_TENANT, "tenant_admin"),
    "audrey": (TENANT, "auditor"),
    "helen": (TENANT, "helpdesk"),
}
# Sampling interval in these tests: alerts must come within a fraction of a second.
TEST_MONITOR_INTERVAL_S = 0.1
# These tests read and write the directory synchronously on the relay's own loop (PostgreSQL
# under a loaded CI machine can hold it past the harness's one-second dead_after): an office PC
# is not declared dead for that here. Keepalive itself is tested with FAST in test_relay.py.
ADMIN_SETTINGS = replace(FAST, dead_after_s=30.0)


class Clock:
    """Wall time that tests move forward instead of sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class AdminAccount:
    login: str
    password: str
    totp_secret: str


@dataclass
class Api:
    """An HTTPS client of the admin API that pins the relay's certificate."""

    relay: Relay
    admin: AdminApi
    clock: Clock
    http: aiohttp.ClientSession
    accounts: dict[str, AdminAccount] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return self.admin.url

    def account(self, login: str) -> AdminAccount:
        """The admin ``login`` (see :data:`ADMINS`), created on first use: each costs a
        password hash, which tests should not pay for in vain."""
        if login not in self.accounts:
            tenant, role = ADMINS[login]
            _, password, secret = self.relay.directory.add_admin(login, tenant, role=role)
            self.accounts[login] = AdminAccount(login, password, secret)
        return self.accounts[login]

    def otp(self, login: str) -> str:
        return pyotp.TOTP(self.account(login).totp_secret).at(self.clock())

    async def request(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(
            method, self.base + path, headers=headers, **kwargs
        ) as response:
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, await response.text()

    async def sign_in(self, login: str) -> str:
        account = self.account(login)
        status, body = await self.request(
            "POST",
            "/api/v1/login",
            json={"login": login, "password": account.password, "otp": self.otp(login)},
        )
        assert status == 200, body
        self.tokens[login] = body["token"]
        return str(body["token"])

    async def as_(self, login: str, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        token = self.tokens.get(login) or await self.sign_in(login)
        return await self.request(method, path, token, **kwargs)


def tenant_path(tenant: str, rest: str = "") -> str:
    return f"/api/v1/tenants/{tenant}{rest}"


async def start_relay_with_identity(
    data_dir: Path, database: str | None = None
) -> tuple[Relay, Identity]:
    """The harness's relay, but keeping its identity: the admin API serves the same one."""
    identity = generate_identity("relay")
    directory = Directory.open(data_dir, database=database)
    directory.add_tenant(TENANT)
    _, secret = directory.add_user(TENANT, USER)
    server = RelayServer(directory, identity, ADMIN_SETTINGS, hooks=admin_hooks(directory))
    host, port = await server.start("127.0.0.1", 0)
    endpoint = RelayEndpoint(host, port, fingerprint=server.fingerprint)
    return Relay(server, directory, endpoint, secret), identity


@pytest.fixture
async def api(tmp_path, database_url):
    """The admin API of a relay, on each directory engine (SQLite, PostgreSQL)."""
    relay, identity = await start_relay_with_identity(tmp_path, database_url)
    directory = relay.directory
    directory.add_tenant(OTHER_TENANT)
    directory.add_user(OTHER_TENANT, OTHER_USER)
    clock = Clock()
    admin = await start_admin_api(
        relay.server,
        identity,
        "127.0.0.1",
        0,
        clock=clock,
        monitor_interval_s=TEST_MONITOR_INTERVAL_S,
    )
    fingerprint = bytes.fromhex(relay.server.fingerprint)
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=aiohttp.Fingerprint(fingerprint))
    )
    client = Api(relay, admin, clock, http)
    yield client
    await http.close()
    await admin.close()
    await relay.close()


@pytest.fixture
async def world(api: Api):
    """A host of TENANT online and granted to USER, with one home PC registered for USER."""
    host = await HostAgent(api.relay).start()
    # The relay records host_online just after it lists the host: let it land first, so tests
    # comparing audit logs see only their own records.
    await wait_until(lambda: "host_online" in api.relay.audit_events())
    api.relay.directory.grant(TENANT, USER, host.host_id)
    api.relay.directory.add_mac(TENANT, HOME_MAC, login=USER)
    yield api, host
    await host.stop()


def snapshot(api: Api, tenant: str = TENANT) -> dict[str, object]:
    """Everything an admin can change in ``tenant``, to check a refusal changed nothing."""
    d = api.relay.directory
    hosts = d.list_hosts(tenant, include_retired=True)
    return {
        "users": d.list_users(tenant),
        "hosts": [(h.host_id, h.name, h.retired, h.can_wake) for h in hosts],
        "grants": d.list_grants(tenant),
        "macs": d.list_macs(tenant),
        "policy": d.get_tenant_policy(tenant),
        "host_policies": [d.get_host_policy(tenant, h.host_id) for h in hosts if not h.retired],
        "limits": d.get_bandwidth_limits(tenant),
        "sessions": sorted(api.relay.server.sessions),
    }


__all__ = [
    "ADMINS",
    "HOME_MAC",
    "OTHER_TENANT",
    "OTHER_USER",
    "TENANT",
    "USER",
    "Api",
    "snapshot",
    "tenant_path",
]
