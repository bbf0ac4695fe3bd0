"""SecretBox: seal/open, context binding, tamper detection, key file creation."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from core.crypto.secret_box import KEY_BYTES, SecretBox
from core.errors import CryptoError
from storage.secret_key import load_or_create_secret_box


def test_round_trip_and_context_binding() -> None:
    box = SecretBox.generate()
    sealed = box.seal(b"totp seed", b"users/1")
    assert b"totp seed" not in sealed
    assert box.open(sealed, b"users/1") == b"totp seed"
    with pytest.raises(CryptoError):
        box.open(sealed, b"users/2")
    assert box.seal(b"x", b"c") != box.seal(b"x", b"c")  # fresh nonce each time


def test_tamper_is_detected() -> None:
    box = SecretBox.generate()
    sealed = box.seal(b"secret", b"ctx")
    for index in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[index] ^= 0x01
        with pytest.raises(CryptoError):
            box.open(bytes(tampered), b"ctx")
    for bad in (b"", sealed[:20], sealed[:-1]):
        with pytest.raises(CryptoError):
            box.open(bad, b"ctx")


def test_other_key_cannot_open() -> None:
    sealed = SecretBox.generate().seal(b"secret", b"ctx")
    with pytest.raises(CryptoError):
        SecretBox.generate().open(sealed, b"ctx")


def test_key_file_created_private_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "secret.key"
    box = load_or_create_secret_box(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_bytes()) == KEY_BYTES
    assert "key hidden" in repr(box)
    sealed = box.seal(b"secret", b"ctx")
    assert load_or_create_secret_box(path).open(sealed, b"ctx") == b"secret"
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]  # no temp file left


def test_concurrent_creation_yields_one_key(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    boxes: list[SecretBox] = []
    threads = [
        threading.Thread(target=lambda: boxes.append(load_or_create_secret_box(path)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sealed = boxes[0].seal(b"s", b"c")
    assert all(box.open(sealed, b"c") == b"s" for box in boxes)


def test_damaged_key_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_bytes(b"short")
    with pytest.raises(CryptoError, match="damaged"):
        load_or_create_secret_box(path)


def test_wrong_key_length() -> None:
    with pytest.raises(CryptoError):
        SecretBox(b"\0" * 16)
