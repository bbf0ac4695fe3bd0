"""The office PC's side of central registration without a relay: ``telework-host
pin-signing-key``, ``devices`` listing the central entries, ``--enroll`` with a whole enrolment
code, and the stored list counting only while it verifies for this office PC and pin."""

from __future__ import annotations

import json
import time

import pytest

from apps.common.enrolment_code import EnrolmentCode
from apps.host.central_devices import CentralDevices
from apps.host.main import enrolment_from, main
from apps.host.options import AgentOptions
from apps.host.store import DataDir, HostRecord
from core.crypto.certs import generate_identity
from core.hostpolicy.devices import RegisteredDevice, device_code
from core.hostpolicy.signed_devices import (
    NOT_PINNED,
    CentralDeviceList,
    SignedListError,
    TenantKeyFile,
    group_key_fingerprint,
    sign_device_list,
)

PASSPHRASE = "a long passphrase for tests"
KEY = TenantKeyFile.create("city", PASSPHRASE)
RECORD = HostRecord("ABCDEFGHIJKLMNOPQRST", "city", "relay:8443", "ab" * 32, "PC-01")
HOME = device_code(generate_identity("home").cert_pem)


def signed(serial: int, key: TenantKeyFile = KEY):
    central = CentralDeviceList(
        "city", RECORD.host_id, serial, int(time.time()), (RegisteredDevice(HOME, "Sato"),)
    )
    return sign_device_list(central, key.unseal(PASSPHRASE))


@pytest.fixture
def data_dir(tmp_path):
    DataDir(tmp_path).save_enrolment(RECORD, "secret")
    return tmp_path


def test_pin_signing_key_then_devices_lists_the_central_entries(data_dir, capsys):
    central = CentralDevices(data_dir)
    with pytest.raises(SignedListError) as caught:
        central.apply(signed(1), RECORD)
    assert caught.value.reason == NOT_PINNED
    assert (
        main(
            ["--data-dir", str(data_dir), "pin-signing-key", group_key_fingerprint(KEY.fingerprint)]
        )
        == 0
    )
    assert central.pinned() == KEY.fingerprint
    central.apply(signed(1), RECORD)
    capsys.readouterr()
    assert main(["--data-dir", str(data_dir), "devices", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["central"] == [{"code": HOME, "label": "Sato"}]
    assert listed["central_serial"] == 1 and listed["devices"] == []
    assert main(["--data-dir", str(data_dir), "devices"]) == 0
    assert "(registered centrally)" in capsys.readouterr().out


def test_a_bad_fingerprint_is_refused_and_changes_nothing(data_dir, capsys):
    CentralDevices(data_dir).pin(KEY.fingerprint)
    assert main(["--data-dir", str(data_dir), "pin-signing-key", "12345"]) == 1
    assert "64 hex digits" in capsys.readouterr().err
    assert CentralDevices(data_dir).pinned() == KEY.fingerprint


def test_pinning_another_key_drops_the_list_the_old_one_signed(data_dir):
    central = CentralDevices(data_dir)
    central.pin(KEY.fingerprint)
    central.apply(signed(1), RECORD)
    assert central.load(RECORD).accepts(HOME)
    central.pin(KEY.fingerprint)  # the same again: kept
    assert central.load(RECORD) is not None
    other = TenantKeyFile.create("city", PASSPHRASE)
    central.pin(other.fingerprint)
    assert central.load(RECORD) is None
    central.apply(signed(1, other), RECORD)  # the new key's first list applies
    # A stored list edited on disk no longer verifies, so it counts for nothing.
    path = data_dir / "central-devices.json"
    stored = json.loads(path.read_text())
    stored["payload"] = stored["payload"].replace("Sato", "Suzuki")
    path.write_text(json.dumps(stored))
    assert central.load(RECORD) is None


def test_enroll_takes_a_whole_enrolment_code(tmp_path):
    code = EnrolmentCode("relay.example:8443", "cd" * 32, "tok", "city", KEY.fingerprint)
    options = AgentOptions(data_dir=tmp_path)
    assert enrolment_from(options, code.encode()) == ("tok", KEY.fingerprint)
    assert (options.relay, options.relay_fingerprint) == ("relay.example:8443", "cd" * 32)
    assert enrolment_from(AgentOptions(data_dir=tmp_path), "plain-token") == ("plain-token", None)
