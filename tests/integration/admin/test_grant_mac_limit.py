"""A grant adds the user's home PCs to the office PC's central list: it must never take that
list past MAX_MACS (the office PC would reject the whole policy and keep its old one), however
the login is spelled, through the API or the manage CLI, or when grants race."""

from __future__ import annotations

import asyncio

import pytest

from core.policy import MAX_MACS
from relay.manage import EXIT_ERROR, main
from relay.store.errors import InvalidInput
from tests.integration.admin.conftest import (
    OTHER_TENANT,
    OTHER_USER,
    TENANT,
    Api,
    snapshot,
    tenant_path,
)
from tests.integration.relay_harness import database_options

GRANTS = tenant_path(TENANT, "/grants")
# Grants sent at once, each bringing a different home PC to an office PC with room for one.
RACERS = 6


def fill_central_list(api: Api, host_id: str, count: int) -> None:
    """Register office-PC MACs until ``host_id``'s central list has ``count`` entries."""
    directory = api.relay.directory
    for i in range(count - directory.central_mac_count(host_id)):
        directory.add_mac(TENANT, f"02:00:00:00:01:{i:02x}", host_id=host_id)
    assert directory.central_mac_count(host_id) == count


def add_user_with_mac(api: Api, login: str, mac: str, tenant: str = TENANT) -> None:
    api.relay.directory.add_user(tenant, login)
    api.relay.directory.add_mac(tenant, mac, login=login)


async def test_a_grant_past_max_macs_is_refused_however_the_login_is_spelled(world):
    api, host = world
    fill_central_list(api, host.host_id, MAX_MACS)
    add_user_with_mac(api, "sato", "02:00:00:00:02:01")
    before = snapshot(api)
    for spelling in ("sato", "ｓａｔｏ"):  # full-width finds the same account
        status, answer = await api.as_(
            "alice", "POST", GRANTS, json={"login": spelling, "host_id": host.host_id}
        )
        assert status == 400, (spelling, answer)
        assert f"more than {MAX_MACS} home PCs" in answer["error"]
    assert snapshot(api) == before
    assert api.relay.directory.central_mac_count(host.host_id) == MAX_MACS


async def test_the_store_and_the_manage_cli_refuse_it_too(world, tmp_path, database_url, capsys):
    api, host = world
    fill_central_list(api, host.host_id, MAX_MACS)
    add_user_with_mac(api, "sato", "02:00:00:00:02:01")
    before = snapshot(api)
    with pytest.raises(InvalidInput, match=f"more than {MAX_MACS}"):
        api.relay.directory.grant(TENANT, "ｓａｔｏ", host.host_id)
    # The relay's data directory is tmp_path (see conftest); the CLI writes to it alongside.
    status = main(
        [
            *("--data-dir", str(tmp_path), *database_options(database_url)),
            *("grant", "--tenant", TENANT, "sato", host.host_id),
        ]
    )
    assert status == EXIT_ERROR
    assert f"more than {MAX_MACS} home PCs" in capsys.readouterr().err
    assert snapshot(api) == before


async def test_a_grant_within_the_limit_still_works(world):
    api, host = world
    fill_central_list(api, host.host_id, MAX_MACS - 1)
    add_user_with_mac(api, "sato", "02:00:00:00:02:01")
    status, answer = await api.as_(
        "alice", "POST", GRANTS, json={"login": "sato", "host_id": host.host_id}
    )
    assert status == 201, answer
    assert api.relay.directory.central_mac_count(host.host_id) == MAX_MACS
    # Granting the same pair again adds nothing, so it is not refused at the limit.
    status, _ = await api.as_(
        "alice", "POST", GRANTS, json={"login": "sato", "host_id": host.host_id}
    )
    assert status == 201


async def test_racing_grants_cannot_both_pass_the_check(world):
    api, host = world
    fill_central_list(api, host.host_id, MAX_MACS - 1)  # room for one more home PC
    logins = [f"racer{i}" for i in range(RACERS)]
    for i, login in enumerate(logins):
        add_user_with_mac(api, login, f"02:00:00:00:02:{i:02x}")
    await api.sign_in("alice")
    answers = await asyncio.gather(
        *(
            api.as_("alice", "POST", GRANTS, json={"login": login, "host_id": host.host_id})
            for login in logins
        )
    )
    assert sorted(status for status, _ in answers) == [201] + [400] * (RACERS - 1)
    assert api.relay.directory.central_mac_count(host.host_id) == MAX_MACS


async def test_another_tenants_host_is_not_found_before_any_limit_is_checked(world):
    api, host = world
    fill_central_list(api, host.host_id, MAX_MACS)
    api.relay.directory.add_mac(OTHER_TENANT, "02:00:00:00:03:01", login=OTHER_USER)
    before = snapshot(api, OTHER_TENANT)
    status, answer = await api.as_(
        "bob",
        "POST",
        tenant_path(OTHER_TENANT, "/grants"),
        json={"login": OTHER_USER, "host_id": host.host_id},
    )
    assert status == 404, answer
    assert "home PCs" not in answer["error"]
    assert snapshot(api, OTHER_TENANT) == before
