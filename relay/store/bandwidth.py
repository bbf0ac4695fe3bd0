"""A tenant's bandwidth limits: the total rate that raises an alert and the hard cap."""

from __future__ import annotations

import sqlalchemy as sa

from relay.store.database import Database
from relay.store.errors import InvalidInput
from relay.store.inputs import canonical_tenant
from relay.store.schema import tenant_settings, tenants
from relay.store.tenants import require_tenant, upsert_tenant_settings

# Tenant bandwidth limits in bit/s. An alert below one session's share of 0.1 Mbit/s would fire
# on any use; a cap below it would starve sessions (a cap lowers budgets, it never cuts); 10
# Gbit/s is beyond any municipal network.
MIN_TENANT_ALERT_BPS = 1_000
MIN_TENANT_CAP_BPS = 10_000
MAX_TENANT_BPS = 10_000_000_000


class BandwidthLimits:
    """Reading and setting tenants' bandwidth limits."""

    _db: Database

    def get_bandwidth_limits(self, tenant: str) -> tuple[int | None, int | None]:
        """(alert threshold, hard cap) of the tenant in bit/s; None where not set."""
        tenant = canonical_tenant(tenant)
        with self._db.read() as conn:
            tenant_id = require_tenant(conn, tenant)
            row = conn.execute(
                sa.select(tenant_settings.c.alert_bps, tenant_settings.c.cap_bps).where(
                    tenant_settings.c.tenant_id == tenant_id
                )
            ).first()
        return (None, None) if row is None else (row.alert_bps, row.cap_bps)

    def all_bandwidth_limits(self) -> dict[str, tuple[int | None, int | None]]:
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(tenants.c.name, tenant_settings.c.alert_bps, tenant_settings.c.cap_bps)
                .join(tenants, tenants.c.id == tenant_settings.c.tenant_id)
                .where(
                    sa.or_(
                        tenant_settings.c.alert_bps.is_not(None),
                        tenant_settings.c.cap_bps.is_not(None),
                    )
                )
            ).all()
        return {row.name: (row.alert_bps, row.cap_bps) for row in rows}

    def set_bandwidth_limits(
        self,
        tenant: str,
        alert_bps: int | None,
        cap_bps: int | None,
        *,
        now: float | None = None,
    ) -> None:
        tenant = canonical_tenant(tenant)
        for value, what, low in (
            (alert_bps, "alert threshold", MIN_TENANT_ALERT_BPS),
            (cap_bps, "hard cap", MIN_TENANT_CAP_BPS),
        ):
            if value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidInput(f"{what} must be a whole number of bit/s")
            if not low <= value <= MAX_TENANT_BPS:
                raise InvalidInput(f"{what} must be from {low} to {MAX_TENANT_BPS} bit/s")
        with self._db.write() as conn:
            tenant_id = require_tenant(conn, tenant)
            upsert_tenant_settings(
                conn, tenant_id, self._db.now(now), alert_bps=alert_bps, cap_bps=cap_bps
            )
