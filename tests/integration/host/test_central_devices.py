"""Central registration of home PCs against the real relay, its real store and the real office
PC agent: a list signed by the municipality's admin key (which the relay does not hold) is
stored, pushed and applied, and that home PC gets in; a relay that forges a list, replays an
older one or hands one office PC's list to another gets nothing applied, and the home PC it
tried to let in is refused with device_not_registered."""

from __future__ import annotations

import time

import pytest

from apps.host.events import CentralDevicesChanged, CentralDevicesRefused
from core.crypto.certs import generate_identity
from core.hostpolicy.devices import RegisteredDevice, device_code
from core.hostpolicy.signed_devices import (
    BAD_SIGNATURE,
    NOT_PINNED,
    REPLAYED,
    UNKNOWN_KEY,
    WRONG_HOST,
    CentralDeviceList,
    SignedDeviceList,
    TenantKeyFile,
    sign_device_list,
)
from core.protocol.control import DeviceList, RefusalReason
from core.protocol.session import ScreenInfo
from relay.store.errors import InvalidInput
from tests.integration.host.conftest import Viewer, start_host
from tests.integration.relay_harness import TENANT, wait_until
from transport.client import RefusedByRelay

PASSPHRASE = "a long passphrase for tests"
TENANT_KEY = TenantKeyFile.create(TENANT, PASSPHRASE)
SIGNER = TENANT_KEY.unseal(PASSPHRASE)
STRANGER = generate_identity("a colleague's home PC")  # on no office PC's own list
STRANGER_CODE = device_code(STRANGER.cert_pem)


def signed_list(host_id: str, serial: int, *codes: str, key=SIGNER) -> SignedDeviceList:
    devices = tuple(RegisteredDevice(code, "central") for code in codes)
    return sign_device_list(
        CentralDeviceList(TENANT, host_id, serial, int(time.time()), devices), key
    )


class Events:
    def __init__(self, agent) -> None:
        self.seen: list[object] = []
        agent.listeners.append(self.seen.append)

    def of(self, kind) -> list:
        return [e for e in self.seen if isinstance(e, kind)]


async def refused(rig, host_id: str) -> str:
    with pytest.raises(RefusedByRelay) as caught:
        await Viewer.connect(rig, host_id, device=STRANGER)
    return caught.value.reason


async def gets_in(rig, host_id: str, agent) -> None:
    viewer = await Viewer.connect(rig, host_id, device=STRANGER)
    await viewer.next(ScreenInfo)
    viewer.close()
    await wait_until(lambda: agent.session is None)


async def push_from_relay(rig, host_id: str, signed: SignedDeviceList) -> None:
    """What a compromised relay can do: send the office PC any list over its control channel."""
    channel = rig.relay.server.channels.online[host_id]
    await channel.stream.send(DeviceList(signed.payload, signed.signature, signed.public_key))


async def test_a_list_signed_by_the_admin_key_is_pushed_and_lets_that_home_pc_in(
    rig, tmp_path, clock, xdisplay
):
    directory = rig.relay.directory
    directory.set_signing_key(TENANT, TENANT_KEY.public_key)
    host = await start_host(rig, tmp_path, clock, inject=False, tenant_key=TENANT_KEY.fingerprint)
    events = Events(host.agent)
    host_id = host.agent.host_id
    try:
        assert host.agent.central.pinned() == TENANT_KEY.fingerprint  # from the enrolment
        assert await refused(rig, host_id) == RefusalReason.DEVICE_NOT_REGISTERED

        stored = directory.set_device_list(TENANT, host_id, signed_list(host_id, 1, STRANGER_CODE))
        assert stored.serial == 1
        assert await rig.relay.server.push_device_list(host_id)
        await wait_until(lambda: events.of(CentralDevicesChanged))
        await gets_in(rig, host_id, host.agent)
        assert host.agent.devices.load().devices[0].code != STRANGER_CODE  # not the local list

        # An admin removes it: a newer list without it.
        directory.set_device_list(TENANT, host_id, signed_list(host_id, 2))
        assert await rig.relay.server.push_device_list(host_id)
        await wait_until(lambda: len(events.of(CentralDevicesChanged)) == 2)
        assert await refused(rig, host_id) == RefusalReason.DEVICE_NOT_REGISTERED

        # The relay's store refuses an older serial and a list the tenant's key did not sign.
        with pytest.raises(InvalidInput):
            directory.set_device_list(TENANT, host_id, signed_list(host_id, 1, STRANGER_CODE))
        forger = TenantKeyFile.create(TENANT, PASSPHRASE).unseal(PASSPHRASE)
        with pytest.raises(InvalidInput):
            directory.set_device_list(
                TENANT, host_id, signed_list(host_id, 9, STRANGER_CODE, key=forger)
            )
    finally:
        await host.stop()


async def test_the_stored_list_reaches_an_office_pc_that_comes_online(
    rig, tmp_path, clock, xdisplay
):
    directory = rig.relay.directory
    directory.set_signing_key(TENANT, TENANT_KEY.public_key)
    host = await start_host(rig, tmp_path, clock, inject=False, tenant_key=TENANT_KEY.fingerprint)
    host_id = host.agent.host_id
    await host.stop()
    directory.set_device_list(TENANT, host_id, signed_list(host_id, 7, STRANGER_CODE))
    host = await start_host_again(host)
    try:
        await wait_until(lambda: host.agent.central.load(host.agent.record) is not None)
        await gets_in(rig, host_id, host.agent)
    finally:
        await host.stop()


async def start_host_again(host):
    import asyncio

    from tests.integration.host.conftest import RunningHost

    task = asyncio.create_task(host.agent.run())
    await wait_until(lambda: host.agent.connected)
    return RunningHost(host.agent, task, host.shutdown_marker)


async def test_a_relay_that_forges_or_replays_a_list_gets_nothing_applied(
    rig, tmp_path, clock, xdisplay
):
    directory = rig.relay.directory
    directory.set_signing_key(TENANT, TENANT_KEY.public_key)
    host = await start_host(rig, tmp_path, clock, inject=False, tenant_key=TENANT_KEY.fingerprint)
    events = Events(host.agent)
    host_id = host.agent.host_id
    old_add = signed_list(host_id, 10, STRANGER_CODE)
    try:
        await push_from_relay(rig, host_id, old_add)
        await wait_until(lambda: events.of(CentralDevicesChanged))
        await push_from_relay(rig, host_id, signed_list(host_id, 20))  # the admin removed it
        await wait_until(lambda: len(events.of(CentralDevicesChanged)) == 2)
        relay_key = TenantKeyFile.create(TENANT, PASSPHRASE)
        forged = signed_list(host_id, 30, STRANGER_CODE, key=relay_key.unseal(PASSPHRASE))
        disguised = SignedDeviceList(forged.payload, forged.signature, TENANT_KEY.public_key)
        another_pc = signed_list("B" * 20, 40, STRANGER_CODE)
        attempts = [
            (old_add, REPLAYED),  # the add an admin has since removed
            (forged, UNKNOWN_KEY),  # signed by a key of the relay's own
            (disguised, BAD_SIGNATURE),  # the same, passed off as the tenant's key
            (another_pc, WRONG_HOST),  # a genuine list, for another office PC
        ]
        for signed, reason in attempts:
            await push_from_relay(rig, host_id, signed)
            await wait_until(
                lambda r=reason: (
                    events.of(CentralDevicesRefused)[-1:] != []
                    and events.of(CentralDevicesRefused)[-1].reason == r
                )
            )
            assert await refused(rig, host_id) == RefusalReason.DEVICE_NOT_REGISTERED
        assert [e.reason for e in events.of(CentralDevicesRefused)] == [r for _, r in attempts]
        assert host.agent.central.load(host.agent.record).serial == 20
    finally:
        await host.stop()


async def test_an_office_pc_that_pinned_no_key_applies_no_central_list(
    rig, tmp_path, clock, xdisplay
):
    host = await start_host(rig, tmp_path, clock, inject=False)  # enrolled before the feature
    events = Events(host.agent)
    host_id = host.agent.host_id
    try:
        await push_from_relay(rig, host_id, signed_list(host_id, 1, STRANGER_CODE))
        await wait_until(lambda: events.of(CentralDevicesRefused))
        assert events.of(CentralDevicesRefused)[0].reason == NOT_PINNED
        assert await refused(rig, host_id) == RefusalReason.DEVICE_NOT_REGISTERED
        # Once the admin has it pinned (telework-host pin-signing-key), a newer list applies.
        host.agent.central.pin(TENANT_KEY.fingerprint.upper())
        await push_from_relay(rig, host_id, signed_list(host_id, 2, STRANGER_CODE))
        await wait_until(lambda: events.of(CentralDevicesChanged))
        await gets_in(rig, host_id, host.agent)
    finally:
        await host.stop()
