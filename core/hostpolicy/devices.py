"""The office PC's registered home PCs by device key: the list, its JSON form, the check.

Each viewer install has its own device key. Its **home-PC code** names it: 20 letters and
digits formed like a host ID (the same digest of the key, grouped ``ABCDE-FGHIJ-…``), short
enough to read out or type. An office PC accepts a session only from a home PC whose code is on
its own list, and the end-to-end TLS handshake then proves the viewer holds that key: a relay
cannot put another home PC in its place. An empty list accepts nobody, unless the office PC's
own user has switched the check off (``accept_any``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.crypto.certs import format_host_id, host_id_for_certificate, parse_host_id, pem_to_der
from core.errors import CryptoError
from core.policy import PolicyError

# Home PCs one office PC can register (its staff member's, a spare, a colleague's standing in).
MAX_DEVICES = 64
MAX_DEVICE_LABEL_CHARS = 64
# What ``allow-device`` takes instead of a code to switch the check off.
ANY_DEVICE = "any"


def device_code(cert_pem: str | bytes) -> str:
    """The home-PC code of a device certificate, bare (:class:`CryptoError` if it is none)."""
    return host_id_for_certificate(pem_to_der(cert_pem))


def format_device_code(code: str) -> str:
    """Grouped for people: ``ABCDE-FGHIJ-KLMNO-PQRST``."""
    return format_host_id(code)


def parse_device_code(text: str) -> str:
    """A home-PC code as typed (dashes, spaces, any case), bare; PolicyError if it is none."""
    try:
        return parse_host_id(text)
    except CryptoError:
        raise PolicyError("a home-PC code is 20 letters and digits (A-Z, 2-7)") from None


@dataclass(frozen=True)
class RegisteredDevice:
    code: str  # bare
    label: str = ""  # e.g. "Tanaka's home PC"


@dataclass(frozen=True)
class DeviceRegistry:
    """The registered home-PC codes, and whether the office PC's user switched the check off."""

    devices: tuple[RegisteredDevice, ...] = ()
    accept_any: bool = False

    def accepts(self, code: str) -> bool:
        return self.accept_any or any(d.code == code for d in self.devices)

    def with_device(self, code: str, label: str = "") -> DeviceRegistry:
        """Register ``code`` (as typed); re-registering updates its label."""
        entry = RegisteredDevice(parse_device_code(code), label.strip()[:MAX_DEVICE_LABEL_CHARS])
        others = tuple(d for d in self.devices if d.code != entry.code)
        if len(others) >= MAX_DEVICES:
            raise PolicyError(f"at most {MAX_DEVICES} home PCs can be registered")
        return replace(self, devices=(*others, entry))

    def without(self, code: str) -> DeviceRegistry | None:
        """The list without ``code`` (as typed); None if it was not registered."""
        bare = parse_device_code(code)
        kept = tuple(d for d in self.devices if d.code != bare)
        return None if len(kept) == len(self.devices) else replace(self, devices=kept)

    @classmethod
    def from_json(cls, raw: object) -> DeviceRegistry:
        """The stored list; entries that are not a home-PC code are skipped."""
        data = raw if isinstance(raw, dict) else {}
        registry = cls(accept_any=data.get("accept_any") is True)
        for entry in data.get("devices", []) if isinstance(data.get("devices"), list) else []:
            if isinstance(entry, dict):
                try:
                    registry = registry.with_device(
                        str(entry.get("code", "")), str(entry.get("label", ""))
                    )
                except PolicyError:
                    continue
        return registry

    def to_json(self) -> dict[str, object]:
        return {
            "devices": [{"code": d.code, "label": d.label} for d in self.devices],
            "accept_any": self.accept_any,
        }
