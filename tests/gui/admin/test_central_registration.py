"""Central registration in the console: the municipality's signing key is created here with a
passphrase (kept on this PC, sealed; only its public half uploaded), a home-PC code is registered
for an office PC by signing its new list here, and the office PC gets a list that verifies
against the key the console's enrolment codes carry; a wrong passphrase signs nothing."""

from __future__ import annotations

import json
import stat

import pytest
from conftest import press, settled, wait_for

from apps.admin.signing_keys import SigningKeys
from apps.admin.texts import tr
from apps.common.enrolment_code import parse_code
from core.crypto.certs import generate_identity
from core.hostpolicy.devices import device_code, format_device_code
from core.hostpolicy.signed_devices import (
    SignedDeviceList,
    group_key_fingerprint,
    verify_device_list,
)
from tests.integration.relay_harness import TENANT, HostAgent

PASSPHRASE = "とても長い合言葉 for tests"
HOME = device_code(generate_identity("home").cert_pem)
SPARE = device_code(generate_identity("spare").cert_pem)


def status(window) -> str:
    return window.statusBar().currentMessage()


@pytest.fixture
def tab(console, tmp_path):
    tab = console.central
    tab.keys = SigningKeys(tmp_path / "keys")  # never the tester's own config directory
    answers = [PASSPHRASE]

    async def passphrase(new: bool) -> str | None:
        return answers[-1]

    tab.ask_passphrase = passphrase
    tab.answers = answers
    return tab


def test_an_admin_creates_the_key_and_registers_a_home_pc_for_an_office_pc(
    console, tab, live, qloop, tmp_path
):
    run = qloop.run_until_complete
    relay = live.relay
    office_pc = live.run(HostAgent(relay).start())
    try:
        run(tab.refresh())
        assert tab.key_status.text() == tr("signing_key_none")
        tab.pc.pick(office_pc.host_id)
        tab.code.setText(format_device_code(HOME).lower())
        press(tab, "add")  # no key on this PC yet: said, nothing sent
        run(settled(console))
        assert status(console) == tr("error", message=tr("signing_key_none"))

        press(tab, "create_signing_key")
        run(settled(console))
        key_file = tab.key_file()
        assert key_file is not None
        assert relay.directory.get_signing_key(TENANT) == key_file.public_key
        fingerprint = group_key_fingerprint(key_file.fingerprint)
        assert status(console) == tr("signing_key_created", fingerprint=fingerprint)
        path = tab.keys.path(TENANT)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        stored = json.loads(path.read_text())
        assert "ENCRYPTED PRIVATE KEY" in stored["sealed_private_key"]
        assert PASSPHRASE not in path.read_text()

        tab.label.setText("佐藤 自宅")
        press(tab, "add")
        run(settled(console))
        pc = tab.pcs[office_pc.host_id]
        assert tr("central_pushed") in status(console)
        wait_for(lambda: office_pc.device_lists)
        pushed = office_pc.device_lists[-1]
        central = verify_device_list(
            SignedDeviceList(pushed.payload, pushed.signature, pushed.public_key),
            pinned_fingerprint=key_file.fingerprint,
            tenant=TENANT,
            host_id=office_pc.host_id,
            last_serial=None,
        )
        assert [(d.code, d.label) for d in central.devices] == [(HOME, "佐藤 自宅")]
        assert tab.table.keys == [HOME] and pc["host_id"] == office_pc.host_id

        # A wrong passphrase signs nothing: the stored list stays.
        tab.answers.append("not the passphrase at all")
        tab.code.setText(SPARE)
        press(tab, "add")
        run(settled(console))
        assert status(console) == tr("error", message=tr("signing_error_wrong_passphrase"))
        assert relay.directory.get_device_list(TENANT, office_pc.host_id).payload == pushed.payload
        tab.answers.pop()

        # Removing it signs a newer list without it.
        tab.table.selectRow(0)
        press(tab, "delete")
        run(settled(console))
        wait_for(lambda: len(office_pc.device_lists) == 2)
        assert tab.table.keys == []
        assert HOME not in office_pc.device_lists[-1].payload

        # Enrolment codes made here now carry the key for office PCs to pin.
        run(console.hosts.new_token())
        code = parse_code(console.hosts.code_view.toPlainText())
        assert code.tenant_key == key_file.fingerprint

        # Another admin gets it by export and import.
        exported = run(tab.export_key(tmp_path / "export.json"))
        other = SigningKeys(tmp_path / "other-admin")
        tab.keys = other
        imported = run(tab.import_key(exported))
        assert imported == key_file and other.load(TENANT) == key_file
    finally:
        live.run(office_pc.stop())


def test_replacing_the_key_is_asked_first(console, tab, live, qloop):
    run = qloop.run_until_complete
    asked = []

    async def decline(question: str) -> bool:
        asked.append(question)
        return False

    run(tab.refresh())
    first = run(tab.create_key(PASSPHRASE))
    console.confirm = decline
    assert run(tab.create_key(PASSPHRASE)) == first  # declined: nothing changed
    assert asked and live.relay.directory.get_signing_key(TENANT) == first.public_key
    assert tab.key_file() == first


def test_after_the_key_is_replaced_a_new_list_is_started_only_if_the_admin_agrees(
    console, tab, live, qloop
):
    run = qloop.run_until_complete
    relay = live.relay
    office_pc = live.run(HostAgent(relay).start())
    asked: list[str] = []
    answers = [True]

    async def answer(question: str) -> bool:
        asked.append(question)
        return answers[-1]

    console.confirm = answer
    try:
        run(tab.refresh())
        first = run(tab.create_key(PASSPHRASE))
        run(tab.register(office_pc.host_id, HOME, "old"))
        old_list = relay.directory.get_device_list(TENANT, office_pc.host_id)
        new_key = run(tab.create_key(PASSPHRASE))  # replaced: asked, and agreed
        fingerprint = group_key_fingerprint(first.fingerprint)
        assert asked == [tr("confirm_replace_signing_key", fingerprint=fingerprint)]

        answers.append(False)  # the list signed by the old key: not started anew
        tab.pc.pick(office_pc.host_id)
        tab.code.setText(SPARE)
        press(tab, "add")
        run(settled(console))
        assert asked[-1] == tr("confirm_new_central_list")
        assert status(console) == tr("error", message=tr("signing_error_unknown_key"))
        assert relay.directory.get_device_list(TENANT, office_pc.host_id) == old_list

        answers.append(True)
        run(tab.register(office_pc.host_id, SPARE, "new"))
        stored = relay.directory.get_device_list(TENANT, office_pc.host_id)
        assert stored.public_key == new_key.public_key
        assert SPARE in stored.payload and HOME not in stored.payload
    finally:
        live.run(office_pc.stop())
