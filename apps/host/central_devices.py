"""The office PC's centrally registered home PCs, as the tenant's admins signed them.

``tenant-key.json``      the pinned fingerprint of the tenant's signing key (set at enrolment
                         from the enrolment code, or by ``telework-host pin-signing-key``)
``central-devices.json`` the last signed list the relay pushed that verified

Both private (0600) and replaced atomically. The stored list is verified again whenever it is
read, against the pin and the enrolment record, so a list left from another pin, tenant or
office PC never counts. What a signed list is and how it is checked:
:mod:`core.hostpolicy.signed_devices`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from apps.host.store import HostRecord, read_json
from core.hostpolicy.signed_devices import (
    NOT_PINNED,
    CentralDeviceList,
    SignedDeviceList,
    SignedListError,
    parse_key_fingerprint,
    verify_device_list,
)
from storage.atomic import write_private_json

TENANT_KEY_FILE = "tenant-key.json"
CENTRAL_DEVICES_FILE = "central-devices.json"


class CentralDevices:
    """The pinned tenant key and the verified central list in ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def pinned(self) -> str | None:
        """The pinned key fingerprint, None if none is pinned (then nothing central applies)."""
        data = read_json(self.data_dir / TENANT_KEY_FILE)
        try:
            return parse_key_fingerprint(str(data.get("fingerprint", ""))) if data else None
        except SignedListError:
            return None

    def pin(self, fingerprint: str) -> str:
        """Pin the tenant's key (as typed); a list signed by another pin is dropped.
        :class:`SignedListError` if it is not a fingerprint."""
        bare = parse_key_fingerprint(fingerprint)
        if bare != self.pinned():
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_private_json(self.data_dir / TENANT_KEY_FILE, {"fingerprint": bare})
            with contextlib.suppress(FileNotFoundError):
                (self.data_dir / CENTRAL_DEVICES_FILE).unlink()
        return bare

    def load(self, record: HostRecord | None) -> CentralDeviceList | None:
        """The stored list if it still verifies for this office PC; else None."""
        data = read_json(self.data_dir / CENTRAL_DEVICES_FILE)
        if data is None or record is None:
            return None
        try:
            return self._verify(SignedDeviceList.from_json(data), record, None)
        except SignedListError:
            return None

    def apply(self, signed: SignedDeviceList, record: HostRecord | None) -> CentralDeviceList:
        """Verify a pushed list and keep it; :class:`SignedListError` says why it was
        refused (and then nothing changed)."""
        if record is None:
            raise SignedListError(NOT_PINNED, "not enrolled")
        current = self.load(record)
        central = self._verify(signed, record, current.serial if current else None)
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private_json(self.data_dir / CENTRAL_DEVICES_FILE, signed.to_json())
        return central

    def _verify(
        self, signed: SignedDeviceList, record: HostRecord, last_serial: int | None
    ) -> CentralDeviceList:
        return verify_device_list(
            signed,
            pinned_fingerprint=self.pinned(),
            tenant=record.tenant,
            host_id=record.host_id,
            last_serial=last_serial,
        )
