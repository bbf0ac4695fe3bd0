"""The host's own list of registered home PCs (MAC addresses), kept in a small JSON file.

The file is private (0600) and replaced atomically, so the ``allow-mac`` command can edit it
while the agent runs; the agent reads it on every connection request.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from core.errors import LocalError
from core.policy import MAX_MACS, PolicyError, normalise_mac

MAC_FILE_NAME = "allowed-macs.json"
MAX_LABEL_CHARS = 64


@dataclass(frozen=True)
class RegisteredMac:
    mac: str  # normalised AA:BB:CC:DD:EE:FF
    label: str = ""  # e.g. "Tanaka's home PC", shown in notifications


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
        entries = raw.get("macs", []) if isinstance(raw, dict) else []
        out: list[RegisteredMac] = []
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            with contextlib.suppress(PolicyError):
                label = str(entry.get("label", ""))[:MAX_LABEL_CHARS]
                out.append(RegisteredMac(normalise_mac(str(entry.get("mac", ""))), label))
        return out

    def allow(self, mac: str, label: str = "") -> RegisteredMac:
        """Register ``mac`` (any accepted spelling); re-registering updates its label."""
        entry = RegisteredMac(normalise_mac(mac), label.strip()[:MAX_LABEL_CHARS])
        entries = [e for e in self.load() if e.mac != entry.mac]
        if len(entries) >= MAX_MACS:
            raise PolicyError(f"at most {MAX_MACS} home PCs can be registered")
        self._save([*entries, entry])
        return entry

    def deny(self, mac: str) -> bool:
        """Remove ``mac``; False if it was not registered."""
        target = normalise_mac(mac)
        entries = self.load()
        kept = [e for e in entries if e.mac != target]
        if len(kept) == len(entries):
            return False
        self._save(kept)
        return True

    def match(self, macs: list[str]) -> RegisteredMac | None:
        """The registered entry for one of a viewer's reported MACs, if any."""
        registered = {e.mac: e for e in self.load()}
        for mac in macs:
            with contextlib.suppress(PolicyError):
                found = registered.get(normalise_mac(mac))
                if found is not None:
                    return found
        return None

    def _save(self, entries: list[RegisteredMac]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"macs": [{"mac": e.mac, "label": e.label} for e in entries]}
        write_private_json(self.path, body)


def write_private_json(path: Path, body: object) -> None:
    """Write JSON to ``path`` atomically, readable by its owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(body, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
