"""The relay's hooks when the admin API runs on it: each host's effective policy from the
directory, and a tenant's per-session share of its bandwidth cap from the API's monitor."""

from __future__ import annotations

from relay.admin.monitor import BandwidthMonitor
from relay.hooks import RelayHooks
from relay.store.directory import Directory


class TenantShares:
    """A tenant's per-session budget under its cap. The relay is built with this hook before
    the admin API exists; the API's monitor (which samples that relay) joins when the API
    starts, and until then no cap applies."""

    def __init__(self) -> None:
        self._monitor: BandwidthMonitor | None = None

    def follow(self, monitor: BandwidthMonitor) -> None:
        self._monitor = monitor

    def __call__(self, tenant: str) -> int | None:
        if self._monitor is None:
            return None
        # Called as a session starts (it is already counted): re-share the cap at once so the
        # tenant's total stays under it without waiting for the next sample.
        self._monitor.apply_caps()
        return self._monitor.share_bps(tenant)


def admin_hooks(directory: Directory) -> RelayHooks:
    """Hooks for a relay that will run the admin API (:func:`relay.admin.server.start_admin_api`
    refuses a relay built without them)."""
    return RelayHooks(
        policy_for_host=directory.effective_policy,
        device_list_for_host=directory.device_list_for_host,
        session_rate_bps=TenantShares(),
    )


def tenant_shares(hooks: RelayHooks) -> TenantShares:
    """The share hook of a relay built with :func:`admin_hooks`."""
    shares = hooks.session_rate_bps
    if not isinstance(shares, TenantShares):
        raise TypeError("the admin API needs a relay built with relay.admin.hooks.admin_hooks()")
    return shares
