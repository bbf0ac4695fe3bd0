"""Admin sign-ins live in the directory: a token issued by one relay node's admin API works on
another's over the same database, survives a restart, expires, and a sign-out ends it
everywhere. On PostgreSQL (the cluster's directory) and on a shared SQLite file."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from core.auth.lockout import USER_LOCK_S, USER_MAX_FAILURES
from relay.admin.auth import ADMIN_TOKEN_TTL_S
from relay.admin.hooks import admin_hooks
from relay.admin.server import start_admin_api
from relay.server import RelayServer
from relay.store.directory import Directory
from tests.integration.admin.conftest import TENANT, Api
from tests.integration.relay_harness import FAST, Relay
from transport.connect import RelayEndpoint


@contextlib.asynccontextmanager
async def other_node(api: Api, data_dir: Path, database: str | None) -> AsyncIterator[Api]:
    """A second relay node with its admin API, on ``api``'s directory (same database and key
    file, same certificate), the same clock and the same admins."""
    identity = api.relay.server.identity
    directory = Directory.open(data_dir, database=database)
    server = RelayServer(directory, identity, FAST, hooks=admin_hooks(directory))
    host, port = await server.start("127.0.0.1", 0)
    relay = Relay(server, directory, RelayEndpoint(host, port, server.fingerprint), "")
    admin = await start_admin_api(server, identity, "127.0.0.1", 0, clock=api.clock)
    try:
        yield replace(api, relay=relay, admin=admin, tokens={})
    finally:
        await admin.close()
        # Not Relay.close: that shuts the loop's executor down, and a restart needs it.
        await server.close()
        directory.close()


async def me(node: Api, token: str) -> tuple[int, object]:
    return await node.request("GET", "/api/v1/me", token)


@pytest.fixture
async def second(api: Api, tmp_path: Path, database_url: str | None) -> AsyncIterator[Api]:
    async with other_node(api, tmp_path, database_url) as node:
        yield node


async def test_a_token_issued_by_one_node_works_on_the_other(api: Api, second: Api) -> None:
    token = await api.sign_in("alice")
    status, body = await me(second, token)
    assert status == 200 and body["login"] == "alice" and body["tenant"] == TENANT
    token = await second.sign_in("root")
    status, body = await me(api, token)
    assert status == 200 and body["role"] == "operator"


async def test_a_sign_out_on_one_node_ends_the_token_on_every_node(api: Api, second: Api) -> None:
    token = await api.sign_in("alice")
    assert (await second.request("POST", "/api/v1/logout", token))[0] == 204
    for node in (api, second):
        status, body = await me(node, token)
        assert status == 401 and "not valid" in body["error"]


async def test_a_token_expires_on_every_node(api: Api, second: Api) -> None:
    token = await api.sign_in("alice")
    api.clock.advance(ADMIN_TOKEN_TTL_S + 1)
    for node in (api, second):
        status, body = await me(node, token)
        assert status == 401 and "expired" in body["error"]


async def test_a_restart_keeps_admins_signed_in(
    api: Api, tmp_path: Path, database_url: str | None
) -> None:
    async with other_node(api, tmp_path, database_url) as node:
        token = await node.sign_in("alice")
    # That node is gone; the same directory behind a node started afresh still knows it.
    async with other_node(api, tmp_path, database_url) as restarted:
        assert (await me(restarted, token))[0] == 200
    assert (await me(api, token))[0] == 200


async def test_a_forged_token_is_refused_on_every_node(api: Api, second: Api) -> None:
    await api.sign_in("alice")
    for node in (api, second):
        status, body = await me(node, "forged-" + "x" * 40)
        assert status == 401 and "not valid" in body["error"]


async def test_wrong_sign_ins_spread_over_two_nodes_lock_the_login_on_both(
    api: Api, second: Api
) -> None:
    account = api.account("alice")
    wrong = {"login": "alice", "password": "wrong", "otp": api.otp("alice")}
    statuses = []
    for n in range(USER_MAX_FAILURES):
        node = api if n % 2 else second
        statuses.append((await node.request("POST", "/api/v1/login", json=wrong))[0])
    assert statuses == [401] * (USER_MAX_FAILURES - 1) + [429]
    right = {"login": "alice", "password": account.password, "otp": api.otp("alice")}
    for node in (api, second):
        assert (await node.request("POST", "/api/v1/login", json=right))[0] == 429
    api.clock.advance(USER_LOCK_S + 60)  # the lock ends on every node (a fresh TOTP step too)
    await second.sign_in("alice")
