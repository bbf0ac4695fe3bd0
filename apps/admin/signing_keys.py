"""The municipalities' signing keys on this admin's PC (central home-PC registration).

One file per municipality in the console's config directory (``signing-keys/<name>.json``,
owner-only), as :class:`core.hostpolicy.signed_devices.TenantKeyFile` writes it: the private key
sealed by the passphrase, beside its public half. It never goes to the relay; an admin copies it
to another admin of the same municipality (export, import). Qt-free.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from apps.common.config_dir import user_config_dir
from core.hostpolicy.signed_devices import (
    BAD_KEY_FILE,
    MAX_KEY_FILE_BYTES,
    SignedListError,
    TenantKeyFile,
)
from storage.atomic import PRIVATE_FILE_MODE, write_atomically

CONSOLE_DIR_NAME = "telework-admin"
KEYS_DIR_NAME = "signing-keys"


def default_keys_dir() -> Path:
    return user_config_dir(CONSOLE_DIR_NAME) / KEYS_DIR_NAME


class SigningKeys:
    """The key files in ``directory``, by municipality."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_keys_dir()

    def path(self, tenant: str) -> Path:
        # Municipality names may be Japanese or hold any character: a digest names the file.
        digest = hashlib.sha256(tenant.encode()).hexdigest()[:24]
        return self.directory / f"{digest}.json"

    def load(self, tenant: str) -> TenantKeyFile | None:
        """The municipality's key file on this PC, None if there is none."""
        try:
            return self.read(self.path(tenant), tenant)
        except FileNotFoundError:
            return None

    def save(self, key_file: TenantKeyFile) -> Path:
        path = self.path(key_file.tenant)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.write(path, key_file)
        return path

    @staticmethod
    def read(path: Path, tenant: str) -> TenantKeyFile:
        """A key file (an export); :class:`SignedListError` (BAD_KEY_FILE) if it is not one
        of ``tenant``'s."""
        with path.open("rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
        key_file = TenantKeyFile.from_bytes(data)
        if key_file.tenant != tenant:
            raise SignedListError(BAD_KEY_FILE, "the key of another municipality")
        return key_file

    @staticmethod
    def write(path: Path, key_file: TenantKeyFile) -> None:
        text = json.dumps(key_file.to_json(), ensure_ascii=False, indent=1)
        write_atomically(path, text.encode("utf-8"), mode=PRIVATE_FILE_MODE)
