"""The secret box's key file: 32 random bytes, owner only, kept apart from the database.

A copied database alone then reveals no secret (:mod:`core.crypto.secret_box` does the sealing).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from core.crypto.secret_box import KEY_BYTES, SecretBox
from core.errors import CryptoError
from storage.atomic import PRIVATE_FILE_MODE, write_atomically


def load_or_create_secret_box(path: Path) -> SecretBox:
    """The box whose key is in ``path``, creating the key (mode 0600, atomically) if absent.

    Creation never overwrites a key that already exists, so a concurrent creator (the relay and
    the manage CLI starting together) never sees a partial key: the loser of the race loads the
    winner's key.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(KEY_BYTES)
        write_atomically(path, key, mode=PRIVATE_FILE_MODE, replace=False)
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise CryptoError(f"cannot read secret box key {path}: {exc.strerror}") from None
    if len(key) != KEY_BYTES:
        raise CryptoError(f"secret box key {path} is damaged (expected {KEY_BYTES} bytes)")
    return SecretBox(key)
