"""The office PC's registered home PCs in its data directory (``allowed-macs.json``).

The file is private (0600) and replaced atomically, so the ``allow-mac`` command can edit it
while the agent runs; the agent reads it on every connection request. What an entry is and how
a viewer's MACs match is :mod:`core.hostpolicy.macs`.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.errors import LocalError
from core.hostpolicy.macs import (
    RegisteredMac,
    match_registered,
    new_entry,
    registered_from_json,
    registered_to_json,
    with_registered,
)
from storage.atomic import write_private_json

MAC_FILE_NAME = "allowed-macs.json"


class MacList:
    """Load, change and save the registered MACs of ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / MAC_FILE_NAME

    def load(self) -> list[RegisteredMac]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise LocalError(f"cannot read {self.path}: {exc}") from exc
        return registered_from_json(raw)

    def allow(self, mac: str, label: str = "") -> RegisteredMac:
        """Register ``mac`` (any accepted spelling); re-registering updates its label."""
        entry = new_entry(mac, label)
        self._save(with_registered(self.load(), entry))
        return entry

    def deny(self, mac: str) -> bool:
        """Remove ``mac``; False if it was not registered."""
        target = new_entry(mac)
        entries = self.load()
        kept = [e for e in entries if e.mac != target.mac]
        if len(kept) == len(entries):
            return False
        self._save(kept)
        return True

    def match(self, macs: list[str]) -> RegisteredMac | None:
        """The registered entry for one of a viewer's reported MACs, if any."""
        return match_registered(self.load(), macs)

    def _save(self, entries: list[RegisteredMac]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_private_json(self.path, registered_to_json(entries))
