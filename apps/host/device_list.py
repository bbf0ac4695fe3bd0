"""The office PC's registered home-PC keys in its data directory (``allowed-devices.json``).

Private (0600) and replaced atomically, so ``telework-host allow-device`` can edit it while the
agent runs; the agent reads it on every connection request. What the list means is
:mod:`core.hostpolicy.devices`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from core.errors import LocalError
from core.hostpolicy.devices import DeviceRegistry, RegisteredDevice
from storage.atomic import write_private_json

DEVICE_FILE_NAME = "allowed-devices.json"


class DeviceList:
    """Load, change and save the registered home-PC codes of ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / DEVICE_FILE_NAME

    def load(self) -> DeviceRegistry:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return DeviceRegistry()
        except (OSError, ValueError) as exc:
            raise LocalError(f"cannot read {self.path}: {exc}") from exc
        return DeviceRegistry.from_json(raw)

    def allow(self, code: str, label: str = "") -> RegisteredDevice:
        """Register a home-PC code (as typed); PolicyError if it is none."""
        registry = self.load().with_device(code, label)
        self._save(registry)
        return registry.devices[-1]

    def deny(self, code: str) -> bool:
        """Remove a home-PC code; False if it was not registered."""
        registry = self.load().without(code)
        if registry is None:
            return False
        self._save(registry)
        return True

    def set_accept_any(self, accept_any: bool) -> None:
        """Switch the home-PC key check off (any home PC passes it) or back on."""
        self._save(replace(self.load(), accept_any=accept_any))

    def _save(self, registry: DeviceRegistry) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private_json(self.path, registry.to_json())
