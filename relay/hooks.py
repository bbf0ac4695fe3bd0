"""The decisions a relay leaves to the layer that runs it (the admin API): the policy and the
signed central list of home PCs a host gets when it connects, and a tenant's per-session
budget. The defaults are a relay's alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.hostpolicy.signed_devices import SignedDeviceList


def no_policy(host_id: str) -> dict[str, Any]:
    return {}


def no_device_list(host_id: str) -> SignedDeviceList | None:
    return None


def no_tenant_budget(tenant: str) -> int | None:
    return None


@dataclass(frozen=True)
class RelayHooks:
    # The policy pushed when a host connects; blocking (it may read the directory), so the
    # relay runs it off the event loop.
    policy_for_host: Callable[[str], dict[str, Any]] = no_policy
    # The signed central list of home PCs pushed after it (blocking too); None: none.
    device_list_for_host: Callable[[str], SignedDeviceList | None] = no_device_list
    # A tenant's per-session budget for a session that is starting (already counted among the
    # tenant's live ones), or None for the relay's own; never raised above the relay's own.
    session_rate_bps: Callable[[str], int | None] = no_tenant_budget
