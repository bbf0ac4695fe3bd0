"""Central policies: a tenant's, an office PC's own, and the effective one the office PC obeys."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from core.policy import Policy, PolicyError
from relay.store.database import Database
from relay.store.errors import InvalidInput
from relay.store.home_pcs import central_check_on, macs_for_host
from relay.store.hosts import require_host
from relay.store.inputs import canonical_tenant, checked_host_id, is_host_id
from relay.store.schema import (
    MAX_POLICY_JSON_LEN,
    host_policies,
    hosts,
    tenant_settings,
    tenants,
)
from relay.store.tenants import require_tenant, upsert_tenant_settings


class Policies:
    """Storing tenant and office-PC policies and combining them."""

    _db: Database

    def get_tenant_policy(self, tenant: str) -> dict[str, Any] | None:
        tenant = canonical_tenant(tenant)
        with self._db.read() as conn:
            tenant_id = require_tenant(conn, tenant)
            text = conn.execute(
                sa.select(tenant_settings.c.policy).where(tenant_settings.c.tenant_id == tenant_id)
            ).scalar()
        return None if text is None else _load_policy(text)

    def set_tenant_policy(
        self, tenant: str, policy: dict[str, Any] | None, *, now: float | None = None
    ) -> dict[str, Any] | None:
        """Store (or with None, remove) the tenant's policy; returns it in its normal form."""
        tenant = canonical_tenant(tenant)
        text = None if policy is None else _dump_policy(policy)
        with self._db.write() as conn:
            tenant_id = require_tenant(conn, tenant)
            upsert_tenant_settings(conn, tenant_id, self._db.now(now), policy=text)
        return None if text is None else _load_policy(text)

    def get_host_policy(self, tenant: str, host_id: str) -> dict[str, Any] | None:
        tenant, host_id = canonical_tenant(tenant), checked_host_id(host_id)
        with self._db.read() as conn:
            require_host(conn, tenant, host_id)
            text = conn.execute(
                sa.select(host_policies.c.policy).where(host_policies.c.host_id == host_id)
            ).scalar()
        return None if text is None else _load_policy(text)

    def set_host_policy(
        self,
        tenant: str,
        host_id: str,
        policy: dict[str, Any] | None,
        *,
        now: float | None = None,
    ) -> dict[str, Any] | None:
        """Store (or with None, remove) an office PC's own policy; returns its normal form."""
        tenant, host_id = canonical_tenant(tenant), checked_host_id(host_id)
        text = None if policy is None else _dump_policy(policy, tenant_only=False)
        stamp = self._db.now(now)
        with self._db.write() as conn:
            require_host(conn, tenant, host_id)
            conn.execute(sa.delete(host_policies).where(host_policies.c.host_id == host_id))
            if text is not None:
                conn.execute(
                    sa.insert(host_policies).values(host_id=host_id, policy=text, updated_at=stamp)
                )
        return None if text is None else _load_policy(text)

    def effective_policy(self, host_id: str) -> dict[str, Any]:
        """What the office PC must obey: tenant policy, stricter with its own, plus the central
        list of home-PC MACs (none registered: no central list). {} for an unknown host. The
        tenant's login message and lockout are the relay's to apply, not the office PC's: left
        out."""
        combined = self._combined(host_id, with_macs=True)
        return {} if combined is None else combined.for_office_pc().to_dict()

    def login_policy(self, host_id: str) -> dict[str, Any]:
        """What the relay checks of a login to this office PC (the home-PC check, the login
        message): the tenant's policy made stricter by the office PC's own. {} for an unknown
        host."""
        combined = self._combined(host_id, with_macs=False)
        return {} if combined is None else combined.to_dict()

    def tenant_lockout(self, tenant: str) -> tuple[int, float]:
        """The lockout of the tenant's staff accounts: the failures that lock one and the lock's
        length in seconds (the relay's defaults for a tenant without its own, or none such).
        ``tenant`` as stored (canonical)."""
        with self._db.read() as conn:
            text = conn.execute(
                sa.select(tenant_settings.c.policy)
                .select_from(tenants)
                .join(tenant_settings, tenant_settings.c.tenant_id == tenants.c.id)
                .where(tenants.c.name == tenant)
            ).scalar()
        policy = Policy() if text is None else Policy.from_dict(json.loads(text))
        return policy.lockout_limits

    def _combined(self, host_id: str, *, with_macs: bool) -> Policy | None:
        if not is_host_id(host_id):
            return None
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(
                    hosts.c.tenant_id,
                    tenant_settings.c.policy,
                    host_policies.c.policy,
                    hosts.c.central_macs,
                )
                .select_from(hosts)
                .outerjoin(tenant_settings, tenant_settings.c.tenant_id == hosts.c.tenant_id)
                .outerjoin(host_policies, host_policies.c.host_id == hosts.c.host_id)
                .where(hosts.c.host_id == host_id, sa.not_(hosts.c.retired))
            ).first()
            if row is None:
                return None
            macs = macs_for_host(conn, host_id) if with_macs else set()
        combined = Policy()
        for text in (row[1], row[2]):
            if text is not None:
                combined = combined.stricter(Policy.from_dict(json.loads(text)))
        central = central_check_on(macs, bool(row.central_macs)) if with_macs else None
        return replace(combined, allowed_macs=central)


def _dump_policy(policy: dict[str, Any], *, tenant_only: bool = True) -> str:
    """A policy validated by core.policy and in its normal form, as JSON text for the store;
    without ``tenant_only``, an office PC's, which may not set what only a tenant's may."""
    try:
        parsed = Policy.from_dict(policy)
    except PolicyError as exc:
        raise InvalidInput(str(exc)) from None
    if not tenant_only and (keys := parsed.tenant_only_keys()):
        raise InvalidInput(
            f"{', '.join(keys)}: the tenant's alone (its staff's accounts, on every office PC); "
            "set them in the tenant's policy"
        )
    if parsed.allowed_macs is not None:
        raise InvalidInput("register home PCs instead of setting allowed_macs in a policy")
    text = json.dumps(parsed.to_dict(), sort_keys=True)
    if len(text) > MAX_POLICY_JSON_LEN:
        raise InvalidInput(f"policy is longer than {MAX_POLICY_JSON_LEN} characters")
    return text


def _load_policy(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value
