"""The central MAC check through the admin API and a real login: a central list emptied by
deleting its last entry refuses everyone until an admin switches the check off, and the office
PC's own list and the central one are matched against the same reported MAC.

The office PC is the harness's scripted one, deciding with the host agent's own rules
(core.hostpolicy) over the policy the relay pushed to it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from core.crypto.certs import generate_identity
from core.hostpolicy.decision import decide
from core.hostpolicy.macs import RegisteredMac, registered_on_both
from core.policy import Policy
from core.protocol.control import RefusalReason, SessionOffer
from tests.integration.admin.conftest import HOME_MAC, TENANT, USER, snapshot, tenant_path
from tests.integration.relay_harness import HostAgent, login, wait_until
from transport.client import RefusedByRelay

OTHER_MAC = "02:00:00:00:00:02"


@dataclass
class PolicyHost(HostAgent):
    """A scripted office PC with its own MAC list, deciding as the agent does."""

    own_macs: list[RegisteredMac] = field(default_factory=list)

    async def _decide(self, offer: SessionOffer) -> str | None:
        self.offers.append(offer)
        policy = Policy.from_dict(self.policies[-1]) if self.policies else Policy()
        verdict = decide(
            device_registered=True,
            registered=registered_on_both(self.own_macs, policy, offer.macs),
            policy=policy,
            paused=False,
            busy=False,
            allow_take_over=False,
            now=dt.datetime.now(),
        )
        return None if verdict.refusal is None else verdict.refusal.value


async def log_in(api, host, macs: list[str]) -> str:
    """``"ok"`` or the refusal's reason."""
    (code,) = api.relay.directory.issue_codes(TENANT, USER, 1)
    try:
        channel, _ = await login(
            api.relay, host.host_id, code, generate_identity("home"), macs=macs
        )
    except RefusedByRelay as refused:
        return refused.reason
    channel.close()
    await wait_until(lambda: not api.relay.server.sessions)
    return "ok"


@pytest.fixture
async def office_pc(api):
    own = [RegisteredMac(HOME_MAC), RegisteredMac(OTHER_MAC)]
    host = PolicyHost(api.relay, own_macs=own)
    await host.start()
    api.relay.directory.grant(TENANT, USER, host.host_id)
    yield host
    await host.stop()


async def pushed(host: PolicyHost, count: int) -> dict:
    await wait_until(lambda: len(host.policies) > count)
    return host.policies[-1]


async def test_an_emptied_central_list_refuses_everyone_until_switched_off(api, office_pc):
    host, path = office_pc, tenant_path(TENANT, "/home-pcs")
    host_path = tenant_path(TENANT, f"/hosts/{host.host_id}")
    assert await log_in(api, host, [HOME_MAC]) == "ok"  # no central list yet: the own one
    status, body = await api.as_("alice", "POST", path, json={"mac": HOME_MAC, "login": USER})
    assert status == 201, body
    assert (await pushed(host, 0))["allowed_macs"] == [HOME_MAC]
    assert await log_in(api, host, [HOME_MAC]) == "ok"
    status, listed = await api.as_("alice", "GET", tenant_path(TENANT, "/hosts"))
    assert [h["central_macs"] for h in listed["hosts"]] == [True]

    # Switching the check off is refused while the list holds a home PC: nothing changes.
    before = snapshot(api)
    for bad in ({"central_macs": False}, {"central_macs": "no"}):
        status, answer = await api.as_("alice", "PATCH", host_path, json=bad)
        assert status == 400, answer
    assert snapshot(api) == before
    assert api.relay.directory.get_host(host.host_id).central_macs

    count = len(host.policies)
    status, _ = await api.as_("alice", "DELETE", f"{path}/{body['id']}")
    assert status == 204
    assert (await pushed(host, count))["allowed_macs"] == []  # not dropped: an empty list
    assert await log_in(api, host, [HOME_MAC]) == RefusalReason.MAC_NOT_REGISTERED

    count = len(host.policies)
    status, answer = await api.as_("alice", "PATCH", host_path, json={"central_macs": False})
    assert status == 200 and answer["central_macs"] is False, answer
    assert "allowed_macs" not in await pushed(host, count)
    assert await log_in(api, host, [HOME_MAC]) == "ok"
    (record,) = api.relay.directory.list_audit(event="admin.host_central_macs")
    assert record.detail["central_macs"] is False

    # Switched on by hand with nothing on the list: a lock-down, nobody passes.
    count = len(host.policies)
    status, answer = await api.as_("alice", "PATCH", host_path, json={"central_macs": True})
    assert status == 200 and answer["central_macs"] is True, answer
    assert (await pushed(host, count))["allowed_macs"] == []
    assert await log_in(api, host, [HOME_MAC]) == RefusalReason.MAC_NOT_REGISTERED


async def test_a_revoked_grant_that_empties_the_list_keeps_the_check_on(api, office_pc):
    directory, host_id = api.relay.directory, office_pc.host_id
    assert "allowed_macs" not in directory.effective_policy(host_id)
    directory.add_mac(TENANT, HOME_MAC, login=USER)  # USER is granted: the list is on
    assert directory.effective_policy(host_id)["allowed_macs"] == [HOME_MAC]
    directory.revoke(TENANT, USER, host_id)
    assert directory.effective_policy(host_id)["allowed_macs"] == []


async def test_both_lists_are_matched_against_the_same_reported_mac(api):
    # The office PC registered only HOME_MAC; the admin registered only OTHER_MAC centrally.
    host = PolicyHost(api.relay, own_macs=[RegisteredMac(HOME_MAC)])
    await host.start()
    home_pcs = tenant_path(TENANT, "/home-pcs")
    try:
        api.relay.directory.grant(TENANT, USER, host.host_id)
        status, _ = await api.as_(
            "alice",
            "POST",
            tenant_path(TENANT, "/home-pcs"),
            json={"mac": OTHER_MAC, "login": USER},
        )
        assert status == 201
        await pushed(host, 0)
        # Reporting both passes neither check: no one address is on both lists.
        refused = await log_in(api, host, [HOME_MAC, OTHER_MAC])
        assert refused == RefusalReason.MAC_NOT_REGISTERED
        assert host.offers[-1].macs == [HOME_MAC, OTHER_MAC]  # the relay passed them all on
        count = len(host.policies)
        status, _ = await api.as_("alice", "POST", home_pcs, json={"mac": HOME_MAC, "login": USER})
        await pushed(host, count)
        assert await log_in(api, host, [OTHER_MAC, HOME_MAC]) == "ok"
    finally:
        await host.stop()
