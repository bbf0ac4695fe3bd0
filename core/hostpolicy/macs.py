"""The office PC's registered home PCs (MAC addresses): the entries, their JSON form, matching.

The list is the host's own (``allow-mac`` edits it); :mod:`apps.host.mac_list` keeps it in a
file and reads it on every connection request.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from core.policy import MAX_MACS, Policy, PolicyError, normalise_mac

MAX_LABEL_CHARS = 64


@dataclass(frozen=True)
class RegisteredMac:
    mac: str  # normalised AA:BB:CC:DD:EE:FF
    label: str = ""  # e.g. "Tanaka's home PC", shown in notifications


def registered_from_json(raw: object) -> list[RegisteredMac]:
    """The entries of a stored list; entries that are not a valid MAC are skipped."""
    entries = raw.get("macs", []) if isinstance(raw, dict) else []
    out: list[RegisteredMac] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        with contextlib.suppress(PolicyError):
            label = str(entry.get("label", ""))[:MAX_LABEL_CHARS]
            out.append(RegisteredMac(normalise_mac(str(entry.get("mac", ""))), label))
    return out


def registered_to_json(entries: list[RegisteredMac]) -> dict[str, object]:
    return {"macs": [{"mac": e.mac, "label": e.label} for e in entries]}


def new_entry(mac: str, label: str = "") -> RegisteredMac:
    """The entry for ``mac`` in any accepted spelling (:class:`PolicyError` if it is none)."""
    return RegisteredMac(normalise_mac(mac), label.strip()[:MAX_LABEL_CHARS])


def with_registered(entries: list[RegisteredMac], entry: RegisteredMac) -> list[RegisteredMac]:
    """``entries`` with ``entry`` last, replacing one for the same MAC (a new label);
    :class:`PolicyError` if the list is full."""
    others = [e for e in entries if e.mac != entry.mac]
    if len(others) >= MAX_MACS:
        raise PolicyError(f"at most {MAX_MACS} home PCs can be registered")
    return [*others, entry]


def match_registered(entries: list[RegisteredMac], macs: list[str]) -> RegisteredMac | None:
    """The registered entry for one of a viewer's reported MACs, if any."""
    registered = {e.mac: e for e in entries}
    for mac in macs:
        with contextlib.suppress(PolicyError):
            found = registered.get(normalise_mac(mac))
            if found is not None:
                return found
    return None


def registered_on_both(
    entries: list[RegisteredMac], policy: Policy, macs: list[str]
) -> RegisteredMac | None:
    """The office PC's entry for one of a viewer's reported MACs that the admin's central list
    (``policy.allowed_macs``, when set) allows too: both lists are matched against the same
    reported set and must hold the same address, so a viewer cannot pass the office PC's list
    with one MAC and the central list with another."""
    return match_registered(entries, policy.centrally_allowed(macs))
