"""The office PC's registered home-PC keys: codes as people type them, the list's limits and
JSON form, and what an empty list means."""

from __future__ import annotations

import pytest

from core.crypto.certs import generate_identity
from core.hostpolicy.devices import (
    MAX_DEVICES,
    DeviceRegistry,
    device_code,
    format_device_code,
    parse_device_code,
)
from core.policy import PolicyError

HOME = generate_identity("home-pc")


def test_a_home_pc_code_is_its_key_in_twenty_typeable_characters():
    code = device_code(HOME.cert_pem)
    assert len(code) == 20 and code == device_code(HOME.cert_pem.decode())
    shown = format_device_code(code)
    assert shown.count("-") == 3
    assert parse_device_code(shown.lower().replace("-", " ")) == code
    assert device_code(generate_identity("home-pc").cert_pem) != code  # another key
    for wrong in ("", "ABCDE", "ABCDE-FGHIJ-KLMNO-PQRS1", "any"):
        with pytest.raises(PolicyError):
            parse_device_code(wrong)


def test_an_empty_list_accepts_nobody_unless_the_check_is_switched_off():
    code = device_code(HOME.cert_pem)
    assert not DeviceRegistry().accepts(code)
    assert DeviceRegistry(accept_any=True).accepts(code)
    registry = DeviceRegistry().with_device(format_device_code(code), " Tanaka ")
    assert registry.accepts(code) and registry.devices[0].label == "Tanaka"
    assert registry.without(code) == DeviceRegistry()
    assert DeviceRegistry().without(code) is None


def test_the_list_is_bounded_and_relabelling_does_not_grow_it():
    registry = DeviceRegistry()
    codes = [device_code(generate_identity(f"pc-{i}").cert_pem) for i in range(MAX_DEVICES)]
    for code in codes:
        registry = registry.with_device(code)
    assert len(registry.with_device(codes[0], "again").devices) == MAX_DEVICES
    with pytest.raises(PolicyError):
        registry.with_device(device_code(generate_identity("one-more").cert_pem))


def test_the_stored_form_round_trips_and_skips_what_is_not_a_code():
    code = device_code(HOME.cert_pem)
    registry = DeviceRegistry(accept_any=False).with_device(code, "home")
    assert DeviceRegistry.from_json(registry.to_json()) == registry
    stored = {"devices": [{"code": "nonsense"}, 7, {"code": code}], "accept_any": "yes"}
    loaded = DeviceRegistry.from_json(stored)
    assert [d.code for d in loaded.devices] == [code]
    assert loaded.accept_any is False  # only a real true switches the check off
    assert DeviceRegistry.from_json(["not", "a", "dict"]) == DeviceRegistry()
