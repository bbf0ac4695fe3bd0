"""Central home-PC registration through the admin API: a municipality's admin uploads the
public half of its signing key (replacing it only on purpose), stores an office PC's signed list
(checked, serials only growing) and the relay pushes it to the online office PC; another
municipality's admin can do neither. Nothing refused changes anything."""

from __future__ import annotations

import time

from core.hostpolicy.devices import RegisteredDevice
from core.hostpolicy.signed_devices import CentralDeviceList, TenantKeyFile, sign_device_list
from tests.integration.admin.conftest import TENANT, tenant_path
from tests.integration.relay_harness import wait_until

PASSPHRASE = "a long passphrase for tests"
KEY_FILE = TenantKeyFile.create(TENANT, PASSPHRASE)
KEY_PATH = tenant_path(TENANT, "/signing-key")
CODE = "ABCDEFGHIJKLMNOPQRST"


def body(host_id: str, serial: int, key_file: TenantKeyFile = KEY_FILE) -> dict[str, str]:
    central = CentralDeviceList(
        TENANT, host_id, serial, int(time.time()), (RegisteredDevice(CODE, "Tanaka"),)
    )
    return sign_device_list(central, key_file.unseal(PASSPHRASE)).to_json()


async def test_the_signing_key_is_set_once_and_replaced_only_on_purpose(api):
    status, answer = await api.as_("alice", "GET", KEY_PATH)
    assert (status, answer["public_key"]) == (200, None)
    status, answer = await api.as_(
        "alice", "PUT", KEY_PATH, json={"public_key": KEY_FILE.public_key}
    )
    assert (status, answer["fingerprint"]) == (200, KEY_FILE.fingerprint)
    other = TenantKeyFile.create(TENANT, PASSPHRASE)
    status, answer = await api.as_("alice", "PUT", KEY_PATH, json={"public_key": other.public_key})
    assert (status, answer["code"]) == (409, "signing_key_exists")
    assert api.relay.directory.get_signing_key(TENANT) == KEY_FILE.public_key
    status, answer = await api.as_("alice", "PUT", KEY_PATH, json={"public_key": "not a key"})
    assert status == 400
    status, answer = await api.as_("bob", "PUT", KEY_PATH, json={"public_key": other.public_key})
    assert (status, answer["code"]) == (404, "no_such_tenant")
    status, answer = await api.as_(
        "alice", "PUT", KEY_PATH, json={"public_key": other.public_key, "replace": True}
    )
    assert (status, answer["fingerprint"]) == (200, other.fingerprint)
    records = api.relay.directory.list_audit(event="admin.signing_key_set")
    assert sorted(r.detail["replaced"] for r in records) == [False, True]


async def test_a_signed_list_is_stored_and_pushed_and_an_older_one_refused(world):
    api, host = world
    path = tenant_path(TENANT, f"/hosts/{host.host_id}/device-list")
    status, answer = await api.as_("alice", "PUT", path, json=body(host.host_id, 5))
    assert status == 400  # no signing key yet
    await api.as_("alice", "PUT", KEY_PATH, json={"public_key": KEY_FILE.public_key})
    signed = body(host.host_id, 5)  # once: its payload carries the second it was signed in
    status, answer = await api.as_("alice", "PUT", path, json=signed)
    assert status == 200
    assert answer == {"host_id": host.host_id, "serial": 5, "devices": 1, "pushed": True}
    await wait_until(lambda: host.device_lists)
    assert host.device_lists[0].payload == signed["payload"]
    status, answer = await api.as_("alice", "GET", path)
    assert (status, answer["signed"]["public_key"]) == (200, KEY_FILE.public_key)
    for refused in (
        body(host.host_id, 5),  # not above the stored serial
        body(host.host_id, 9, TenantKeyFile.create(TENANT, PASSPHRASE)),  # another key
        body("B" * 20, 9),  # another office PC's
    ):
        status, _ = await api.as_("alice", "PUT", path, json=refused)
        assert status == 400
    assert api.relay.directory.get_device_list(TENANT, host.host_id).to_json() == answer["signed"]
    (record,) = api.relay.directory.list_audit(event="admin.device_list_set")
    assert record.detail["serial"] == 5 and record.detail["devices"] == [CODE]
