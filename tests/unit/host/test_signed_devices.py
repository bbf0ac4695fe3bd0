"""Central home-PC registration signed by the tenant's admin key: the key file and its
passphrase, signing, and every refusal an office PC makes (tampering, another key, another
office PC or tenant, a replayed older serial)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from core.crypto.certs import generate_identity
from core.hostpolicy.devices import DeviceRegistry, RegisteredDevice, device_code
from core.hostpolicy.signed_devices import (
    BAD_KEY_FILE,
    BAD_SIGNATURE,
    MALFORMED,
    MAX_SIGNED_PAYLOAD_CHARS,
    MIN_PASSPHRASE_CHARS,
    NOT_PINNED,
    REPLAYED,
    TOO_LARGE,
    UNKNOWN_KEY,
    WEAK_PASSPHRASE,
    WRONG_HOST,
    WRONG_PASSPHRASE,
    WRONG_TENANT,
    CentralDeviceList,
    SignedDeviceList,
    SignedListError,
    TenantKeyFile,
    key_fingerprint,
    next_serial,
    parse_key_fingerprint,
    sign_device_list,
    verify_device_list,
)
from core.protocol.control import MAX_STRING_CHARS, DeviceList, decode_control, encode_control
from core.protocol.framing import MAX_CONTROL_PAYLOAD, FrameDecoder

PASSPHRASE = "correct horse battery"
KEY_FILE = TenantKeyFile.create("city", PASSPHRASE)
KEY = KEY_FILE.unseal(PASSPHRASE)
HOST_ID = "ABCDEFGHIJKLMNOPQRST"
HOME = device_code(generate_identity("home").cert_pem)


def central(serial: int = 5, host_id: str = HOST_ID, tenant: str = "city") -> CentralDeviceList:
    return CentralDeviceList(tenant, host_id, serial, 1_800_000_000, (RegisteredDevice(HOME, "T"),))


def verify(signed: SignedDeviceList, **changes: object) -> CentralDeviceList:
    arguments: dict[str, object] = {
        "pinned_fingerprint": KEY_FILE.fingerprint,
        "tenant": "city",
        "host_id": HOST_ID,
        "last_serial": 4,
    }
    arguments.update(changes)
    return verify_device_list(signed, **arguments)  # type: ignore[arg-type]


def reason_of(signed: SignedDeviceList, **changes: object) -> str:
    with pytest.raises(SignedListError) as caught:
        verify(signed, **changes)
    return caught.value.reason


def test_a_signed_list_verifies_with_the_pinned_key_and_names_its_home_pcs():
    signed = sign_device_list(central(), KEY)
    opened = verify(signed)
    assert opened == central() and opened.accepts(HOME)
    assert verify(signed, last_serial=None) == opened  # the first one an office PC gets
    # It travels as a control message and comes back the same.
    message = DeviceList(signed.payload, signed.signature, signed.public_key)
    (frame,) = FrameDecoder(MAX_CONTROL_PAYLOAD).frames(encode_control(message))
    assert decode_control(frame) == message


def test_tampering_with_any_part_is_refused():
    signed = sign_device_list(central(), KEY)
    other = device_code(generate_identity("intruder").cert_pem)
    added = signed.payload.replace(HOME, other)
    assert reason_of(dataclasses.replace(signed, payload=added)) == BAD_SIGNATURE
    flipped = ("A" if signed.signature[0] != "A" else "B") + signed.signature[1:]
    assert reason_of(dataclasses.replace(signed, signature=flipped)) == BAD_SIGNATURE
    assert reason_of(dataclasses.replace(signed, signature="not base64!")) == BAD_SIGNATURE


def test_a_list_signed_by_another_key_is_refused_even_if_it_carries_that_key():
    forger = TenantKeyFile.create("city", PASSPHRASE)
    forged = sign_device_list(central(), forger.unseal(PASSPHRASE))
    assert reason_of(forged) == UNKNOWN_KEY
    # Passing off the tenant's public key with the forger's signature fails the signature.
    assert reason_of(dataclasses.replace(forged, public_key=KEY_FILE.public_key)) == BAD_SIGNATURE


def test_an_office_pc_without_a_pinned_key_applies_nothing():
    assert reason_of(sign_device_list(central(), KEY), pinned_fingerprint=None) == NOT_PINNED


def test_a_list_for_another_office_pc_or_tenant_is_refused():
    assert reason_of(sign_device_list(central(host_id="B" * 20), KEY)) == WRONG_HOST
    assert reason_of(sign_device_list(central(tenant="town"), KEY)) == WRONG_TENANT


def test_an_older_or_the_same_serial_is_a_replay():
    signed = sign_device_list(central(serial=5), KEY)
    assert reason_of(signed, last_serial=5) == REPLAYED
    assert reason_of(signed, last_serial=9) == REPLAYED
    assert next_serial(5, 0.0) == 6
    assert next_serial(5, 1_800_000_000.5) == 1_800_000_000_500


def test_a_list_too_long_for_the_wire_is_refused_when_signing():
    full = DeviceRegistry()
    for n in range(64):
        full = full.with_device(device_code(generate_identity(f"h{n}").cert_pem), "\x00" * 64)
    big = dataclasses.replace(central(), devices=full.devices)
    with pytest.raises(SignedListError) as caught:
        sign_device_list(big, KEY)
    assert caught.value.reason == TOO_LARGE
    assert MAX_SIGNED_PAYLOAD_CHARS <= MAX_STRING_CHARS
    # 64 entries with ordinary full-length labels fit.
    named = DeviceRegistry(devices=tuple(RegisteredDevice(d.code, "山" * 64) for d in full.devices))
    verify(sign_device_list(dataclasses.replace(central(), devices=named.devices), KEY))


def test_a_malformed_payload_signed_by_the_key_is_still_refused_clearly():
    from core.hostpolicy.signed_devices import SIGNATURE_CONTEXT

    def signed_payload(body: object) -> SignedDeviceList:
        payload = json.dumps(body)
        import base64

        signature = base64.b64encode(KEY.sign(SIGNATURE_CONTEXT + payload.encode())).decode()
        return SignedDeviceList(payload, signature, KEY_FILE.public_key)

    good = json.loads(central().canonical())
    for broken in (
        [],
        {**good, "v": 2},
        {**good, "serial": "5"},
        {**good, "serial": True},
        {**good, "devices": [{"code": "nonsense"}]},
        {**good, "devices": "x"},
        {**good, "host_id": None},
    ):
        assert reason_of(signed_payload(broken)) == MALFORMED


def test_the_key_file_opens_only_with_its_passphrase_and_round_trips():
    data = json.dumps(KEY_FILE.to_json()).encode()
    again = TenantKeyFile.from_bytes(data)
    assert again == KEY_FILE
    assert json.loads(data)["fingerprint"] == key_fingerprint(KEY_FILE.public_key)
    with pytest.raises(SignedListError) as caught:
        again.unseal("wrong passphrase!")
    assert caught.value.reason == WRONG_PASSPHRASE
    # The private key never appears unsealed in the file.
    assert "ENCRYPTED PRIVATE KEY" in KEY_FILE.sealed_private_key
    for bad in (b"", b"[]", b"{}", b'{"format": "telework-tenant-signing-key"}', b"\xff"):
        with pytest.raises(SignedListError) as caught:
            TenantKeyFile.from_bytes(bad)
        assert caught.value.reason == BAD_KEY_FILE
    swapped = dataclasses.replace(
        KEY_FILE, public_key=TenantKeyFile.create("city", PASSPHRASE).public_key
    )
    with pytest.raises(SignedListError) as caught:
        swapped.unseal(PASSPHRASE)
    assert caught.value.reason == BAD_KEY_FILE


def test_a_short_passphrase_is_refused():
    with pytest.raises(SignedListError) as caught:
        TenantKeyFile.create("city", "x" * (MIN_PASSPHRASE_CHARS - 1))
    assert caught.value.reason == WEAK_PASSPHRASE


def test_fingerprints_as_people_type_them():
    fingerprint = KEY_FILE.fingerprint
    spaced = " ".join(fingerprint[i : i + 4].upper() for i in range(0, 64, 4))
    assert parse_key_fingerprint(spaced) == fingerprint
    for wrong in ("", "abc", fingerprint + "0", "g" * 64):
        with pytest.raises(SignedListError):
            parse_key_fingerprint(wrong)
